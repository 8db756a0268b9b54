-- ims_crawler 0.7.0 -> 0.8.0: the search index stays current without a
-- maintenance step: issues written since its base was built go into
-- segments (ims_index.search_segments), written by ims.update_search_index()
-- rounds that the search indexer (a background worker the extension starts)
-- runs every 0.5 s while writes come. The base built by 0.7.0 stays in use (its statistics
-- row is still read); its next rebuild drops the segments it replaces.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

CREATE SCHEMA ims_index;
REVOKE ALL ON SCHEMA ims_index FROM PUBLIC;
COMMENT ON SCHEMA ims_index IS 'Internal storage of the search index (segments); read by ims.search_issues only.';
CREATE TABLE ims_index.search_segments (
    segment  bigint NOT NULL,
    term     text   NOT NULL,
    postings bytea  NOT NULL,
    PRIMARY KEY (term, segment)
);
ALTER TABLE ims_index.search_segments ALTER COLUMN postings SET STORAGE EXTERNAL;
CREATE INDEX idx_search_segments_segment ON ims_index.search_segments (segment);
COMMENT ON TABLE ims_index.search_segments IS
    'Posting lists of the issues written since the base of the search index (ims.mv_search_postings) was built, one segment per build (numbered in the order of their snapshots); term '''' holds a segment''s statistics, ''issues:'' the issues it holds. Written by ims.update_search_index().';

CREATE FUNCTION ims."search_index_segments"() RETURNS TABLE (
	"segment" bigint,
	"issues" bigint,
	"terms" bigint,
	"bytes" bigint
)
STRICT STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'search_index_segments_wrapper';

CREATE FUNCTION ims."start_search_indexer"() RETURNS bool
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'start_search_indexer_wrapper';

CREATE FUNCTION ims."update_search_index"() RETURNS TABLE (
	"indexed" bigint,
	"merged" bigint,
	"segments" bigint,
	"segment_issues" bigint,
	"base_issues" bigint
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'update_search_index_wrapper';

REVOKE ALL ON FUNCTION ims.search_index_segments(), ims.start_search_indexer(), ims.update_search_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.search_index_segments() TO ims_admin, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.update_search_index(), ims.start_search_indexer() TO ims_admin;

COMMENT ON FUNCTION ims.update_search_index() IS
    'One round of keeping the search index current (the search indexer runs it every 0.5 s while writes come, every second otherwise): issues written since the newest build go into a new segment, small segments are merged; builds the base if it never was.';
COMMENT ON FUNCTION ims.search_index_segments() IS
    'The search index''s base (segment 0) and each segment built after it: issues, terms, bytes.';
COMMENT ON FUNCTION ims.start_search_indexer() IS
    'Start the search indexer (a background worker keeping the search index current) for this database if none runs; writes and searches start it too.';

-- Both read the segments too, which only the extension's owner may read.
ALTER FUNCTION ims.search_index_terms() SECURITY DEFINER;
ALTER FUNCTION ims.search_index_pending() SECURITY DEFINER;
COMMENT ON FUNCTION ims.search_index_terms() IS
    'Terms of the search index (its base and the segments built since) and the number of issues holding each.';
COMMENT ON FUNCTION ims.search_index_pending() IS
    'Issues written since the newest build of the search index (base or segment): searches score them one by one until the search indexer indexes them, within a fraction of a second.';

-- ims.health: the advice for issues waiting for the search index names the indexer.
CREATE OR REPLACE VIEW ims.health WITH (security_invoker = true) AS
WITH runs AS (
    SELECT table_name AS task, max(logged_at) AS last_run
      FROM ims.audit_log WHERE action = 'MAINTENANCE' GROUP BY table_name
), checks AS (
    SELECT 'daily aggregation' AS check_name,
           coalesce('last day ' || (SELECT max(stat_date) FROM ims.analytics_daily)::text, 'never aggregated')
             || coalesce(', ran ' || (SELECT last_run FROM runs WHERE task = 'aggregate_daily_stats')::text, '') AS value,
           CASE WHEN (SELECT max(stat_date) FROM ims.analytics_daily) >= current_date - 2 THEN 'ok'
                WHEN NOT EXISTS (SELECT 1 FROM ims.crawl_sessions) THEN 'ok'
                ELSE 'warning' END AS status,
           'SELECT ims.aggregate_daily_stats() should run every night' AS advice
    UNION ALL
    SELECT 'monthly aggregation',
           coalesce('last month ' || (SELECT max(make_date(year, month, 1)) FROM ims.analytics_monthly)::text, 'never aggregated'),
           CASE WHEN (SELECT max(make_date(year, month, 1)) FROM ims.analytics_monthly)
                     >= (date_trunc('month', current_date) - interval '1 month')::date THEN 'ok'
                WHEN NOT EXISTS (SELECT 1 FROM ims.crawl_sessions) THEN 'ok'
                ELSE 'warning' END,
           'SELECT ims.aggregate_monthly_stats(year, month) should run after each month'
    UNION ALL
    SELECT 'refresh ' || mv.name,
           coalesce('refreshed ' || r.last_run::text || ' (' || date_trunc('second', now() - r.last_run)::text || ' ago)',
                    'never refreshed'),
           CASE WHEN r.last_run > now() - interval '2 days' THEN 'ok' ELSE 'warning' END,
           'SELECT ims.refresh_materialized_views() should run daily'
      FROM (VALUES ('ims.mv_weekly_issue_trends'), ('ims.mv_product_stats'), ('ims.mv_search_postings')) AS mv(name)
      LEFT JOIN runs r ON r.task = 'refresh ' || mv.name
    UNION ALL
    SELECT 'issues waiting for the search index',
           s.pending::text,
           CASE WHEN s.pending <= 2000
                THEN 'ok' ELSE 'warning' END,
           'the search indexer indexes them within seconds; if they stay, SELECT ims.start_search_indexer() starts it (or says why it cannot); searches score waiting issues one by one'
      FROM (SELECT ims.search_index_pending() AS pending) s
    UNION ALL
    SELECT 'monthly partitions ahead',
           count(*)::text,
           CASE WHEN count(*) >= 2 THEN 'ok' WHEN count(*) = 1 THEN 'warning' ELSE 'critical' END,
           'SELECT * FROM ims.ensure_partitions(3) creates the coming months'
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'ims.crawl_sessions'::regclass
       AND c.relname ~ '^crawl_sessions_\d{4}_\d{2}$'
       AND c.relname > 'crawl_sessions_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')
    UNION ALL
    SELECT 'rows in the DEFAULT partition',
           (SELECT count(*) FROM ims.crawl_sessions_default)::text,
           CASE WHEN (SELECT count(*) FROM ims.crawl_sessions_default) = 0 THEN 'ok' ELSE 'warning' END,
           'SELECT * FROM ims.ensure_partitions() moves them into monthly partitions'
    UNION ALL
    SELECT 'sessions running over 6 hours',
           count(*)::text,
           CASE WHEN count(*) = 0 THEN 'ok' ELSE 'warning' END,
           'finish or cancel them: SELECT * FROM ims.finish_session(id, ''cancelled'')'
      FROM ims.crawl_sessions WHERE status = 'running' AND started_at < now() - interval '6 hours'
    UNION ALL
    SELECT 'errors in the last 24 hours: ' || s.severity,
           count(e.error_id)::text,
           CASE WHEN s.severity = 'critical' AND count(e.error_id) > 0 THEN 'warning' ELSE 'ok' END,
           'SELECT * FROM ims.v_recent_errors'
      FROM (VALUES ('debug'), ('info'), ('warning'), ('error'), ('critical')) AS s(severity)
      LEFT JOIN ims.session_errors e ON e.severity = s.severity AND e.occurred_at > now() - interval '24 hours'
     GROUP BY s.severity
)
SELECT check_name, value, status, advice
  FROM checks
 ORDER BY CASE status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, check_name;
