-- ims_crawler 0.5.0 -> 0.6.0: the search vector is built in its binary form
-- (no text form parsed back by tsvector_in; vectors already stored are the
-- same values, so nothing is rebuilt), and the upsert stamps the rows it
-- writes itself.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

CREATE OR REPLACE FUNCTION ims.to_search_vector(title text, description text DEFAULT NULL,
                                                comments text DEFAULT NULL, attachments text DEFAULT NULL)
RETURNS pg_catalog.tsvector
IMMUTABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'to_search_vector_wrapper';

-- The upsert stamps updated_at and search_version itself; the row triggers
-- on issues are skipped for rows already stamped (their WHEN is evaluated
-- without calling the function).
DROP TRIGGER trg_issues_updated_at ON ims.issues;
CREATE TRIGGER trg_issues_updated_at BEFORE UPDATE ON ims.issues
    FOR EACH ROW WHEN (NEW.updated_at IS DISTINCT FROM pg_catalog.now()) EXECUTE FUNCTION ims.set_updated_at();
DROP TRIGGER trg_issues_search_version ON ims.issues;
CREATE TRIGGER trg_issues_search_version BEFORE INSERT OR UPDATE ON ims.issues
    FOR EACH ROW WHEN (NEW.search_version IS DISTINCT FROM pg_catalog.pg_current_xact_id())
    EXECUTE FUNCTION ims.stamp_search_version();
COMMENT ON COLUMN ims.issues.search_version IS
    'Transaction that last changed what search reads of this issue (text, product, status, priority); set by a trigger (upserts set it as the trigger would).';
