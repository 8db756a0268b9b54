-- ims_crawler 0.8.0 -> 0.9.0: isolation hardening. Nothing one login does
-- can stop search or reach another (README "What we defend against").
-- Most of it is in the library (bounded inputs, the search index's own
-- locks, a superuser-only cache size, identities that DISCARD ends for
-- good, a stricter restore hook, no backtraces to clients, escaped
-- snippets, one "does not exist" SQLSTATE); the catalog changes are here.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

-- ims_admin reads and writes rows, nothing more: TRIGGER let it plant a
-- trigger that the extension's SECURITY DEFINER code would fire as its
-- superuser owner. ALL TABLES covers the monthly partitions.
REVOKE TRIGGER, REFERENCES, TRUNCATE ON ALL TABLES IN SCHEMA ims FROM ims_admin;
-- On PostgreSQL 17 and later GRANT ALL also gave MAINTAIN (LOCK TABLE in any
-- mode, REINDEX, CLUSTER: enough to stall every crawler).
DO $maintain$
BEGIN
    IF pg_catalog.current_setting('server_version_num')::integer >= 170000 THEN
        EXECUTE 'REVOKE MAINTAIN ON ALL TABLES IN SCHEMA ims FROM ims_admin';
    END IF;
END
$maintain$;

-- Filter fields are keys of the search index: kept short. Rows that 0.8.0
-- accepted longer keep their values (the search index leaves such values
-- out rather than fail); the constraints are then added NOT VALID and
-- this says which rows to fix before VALIDATE CONSTRAINT.
DO $filters$
DECLARE
    col text;
    bad bigint;
BEGIN
    FOREACH col IN ARRAY ARRAY['product', 'module', 'status', 'priority'] LOOP
        EXECUTE pg_catalog.format(
            'SELECT count(*) FROM ims.issues WHERE pg_catalog.octet_length(%I) > 256', col) INTO bad;
        EXECUTE pg_catalog.format(
            'ALTER TABLE ims.issues ADD CONSTRAINT %I CHECK (pg_catalog.octet_length(%I) <= 256)%s',
            'issues_' || col || '_check', col, CASE WHEN bad > 0 THEN ' NOT VALID' ELSE '' END);
        IF bad > 0 THEN
            RAISE WARNING 'ims_crawler: % issues have a % longer than 256 bytes; new ones are refused', bad, col
                USING HINT = pg_catalog.format(
                    'Shorten them (SELECT issue_id FROM ims.issues WHERE octet_length(%I) > 256), then '
                    'ALTER TABLE ims.issues VALIDATE CONSTRAINT %I.', col, 'issues_' || col || '_check');
        END IF;
    END LOOP;
END
$filters$;

COMMENT ON FUNCTION ims.search_issues(text, text, integer) IS
    'Ranked (BM25) search over titles, descriptions, comments and attachment text: words (at least half of them must match, more rank higher; Korean by stem), AND, "phrases", -exclusions, OR, product:/status:/priority: filters; best first, with an HTML snippet (the text escaped, matches in <b>).';
