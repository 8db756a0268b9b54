-- Install the extension and a helper that reports an error's SQLSTATE and
-- message, so tests assert exactly what a client sees.
CREATE EXTENSION ims_crawler;
CREATE SCHEMA regress;
CREATE FUNCTION regress.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    -- The partition of this month is named after it: keep outputs stable.
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, pg_catalog.to_char(now() AT TIME ZONE 'UTC', '"_"YYYY_MM'),
                                              '_<this month>', 'g');
END
$$;
SELECT extname, extversion IS NOT NULL AS has_version, extrelocatable,
       extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'ims_crawler';
