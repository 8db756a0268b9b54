-- ims_crawler 0.1.0 -> 0.2.0: search (tokenizer, search vectors, BM25
-- search_issues), operations (monitoring views, pg_cron scheduling,
-- restore-aware triggers), and the audit of issues leaving the search vector
-- out. Run by ALTER EXTENSION ims_crawler UPDATE; checked against a fresh
-- 0.2.0 install by tests/integration/upgrade.sh.
\echo Use "ALTER EXTENSION ims_crawler UPDATE TO '0.2.0'" to load this file. \quit

-- Rust functions new in 0.2.0
CREATE FUNCTION ims."search_vector_text"(
	"title" TEXT, /* Option < & str > */
	"description" TEXT DEFAULT NULL, /* Option < & str > */
	"comments" TEXT DEFAULT NULL, /* Option < & str > */
	"attachments" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* String */
IMMUTABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'search_vector_text_wrapper';

CREATE FUNCTION ims."search_query_text"(
	"query" TEXT /* & str */
) RETURNS TEXT /* String */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'search_query_text_wrapper';

CREATE FUNCTION ims."refresh_search_vectors"(
	"issue_pks" bigint[] /* :: std :: option :: Option < Vec < Option < i64 > > > */
) RETURNS INT /* i32 */
VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refresh_search_vectors_wrapper';

CREATE FUNCTION ims."search_issues"(
	"query" TEXT, /* Option < & str > */
	"product" TEXT DEFAULT NULL, /* Option < & str > */
	"max_results" INT DEFAULT 50 /* Option < i32 > */
) RETURNS TABLE (
	"issue_id" TEXT,  /* String */
	"title" TEXT,  /* Option < String > */
	"product" TEXT,  /* Option < String > */
	"status" TEXT,  /* Option < String > */
	"rank" real,  /* f32 */
	"snippet" TEXT  /* Option < String > */
)
STABLE SECURITY DEFINER PARALLEL RESTRICTED
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'search_issues_wrapper';

-- Trigger functions that now stand aside during a restore
CREATE OR REPLACE FUNCTION ims.fill_session_reference() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_started timestamptz;
    found_user    bigint;
BEGIN
    IF NEW.session_id IS NULL THEN
        NEW.session_started_at := NULL;
        RETURN NEW;
    END IF;
    -- A restore brings the references already filled (and in any order).
    IF pg_catalog.current_setting('row_security') = 'off' AND ims.restoring() THEN
        RETURN NEW;
    END IF;
    SELECT s.started_at, s.user_id INTO found_started, found_user
      FROM ims.crawl_sessions s
     WHERE s.session_id = NEW.session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'crawl session % does not exist', NEW.session_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Start a session with ims.start_session() and pass the session_id it returns.';
    END IF;
    NEW.session_started_at := found_started;
    IF TG_TABLE_NAME IN ('session_issues', 'session_errors') THEN
        NEW.user_id := found_user;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION ims.audit_changes() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_col  text := TG_ARGV[0];
    skipped  text[] := TG_ARGV[1:];
    actor    bigint;
BEGIN
    -- A restore copies the audit trail itself; it is not new activity.
    IF ims.restoring() THEN
        RETURN NULL;
    END IF;
    actor := ims.current_user_id();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, new_values)
        SELECT actor, session_user, 'INSERT', TG_TABLE_NAME, to_jsonb(n) ->> key_col, to_jsonb(n) - skipped
          FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values)
        SELECT actor, session_user, 'DELETE', TG_TABLE_NAME, to_jsonb(o) ->> key_col, to_jsonb(o) - skipped
          FROM old_rows o;
    ELSE
        -- Only the columns that changed, and only rows where something
        -- other than the skipped columns changed.
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values, new_values)
        SELECT actor, session_user, 'UPDATE', TG_TABLE_NAME, c.record_id,
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.o) k WHERE k.value IS DISTINCT FROM c.n -> k.key),
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.n) k WHERE k.value IS DISTINCT FROM c.o -> k.key)
          FROM (SELECT to_jsonb(o) ->> key_col AS record_id, to_jsonb(o) - skipped AS o, to_jsonb(n) - skipped AS n
                  FROM old_rows o
                  JOIN new_rows n ON to_jsonb(n) -> key_col = to_jsonb(o) -> key_col) c
         WHERE c.o IS DISTINCT FROM c.n;
    END IF;
    RETURN NULL;
END
$$;

-- The audit of issues leaves out the (large, derived) search vector.
DROP TRIGGER trg_issues_audit_insert ON ims.issues;
DROP TRIGGER trg_issues_audit_update ON ims.issues;
DROP TRIGGER trg_issues_audit_delete ON ims.issues;
CREATE TRIGGER trg_issues_audit_insert AFTER INSERT ON ims.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');
CREATE TRIGGER trg_issues_audit_update AFTER UPDATE ON ims.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');
CREATE TRIGGER trg_issues_audit_delete AFTER DELETE ON ims.issues
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');

-- The search index (as sql/search.sql installs it)
ALTER TABLE ims.issues ADD COLUMN search_vector pg_catalog.tsvector;
COMMENT ON COLUMN ims.issues.search_vector IS
    'Search tokens (Hangul bigrams, stemmed English, codes whole) weighted A title, B description, C comments, D attachment text; kept current by triggers.';
CREATE INDEX idx_issues_search_vector ON ims.issues USING gin (search_vector); -- ims.search_issues candidates

CREATE FUNCTION ims.to_search_vector(title text, description text DEFAULT NULL,
                                     comments text DEFAULT NULL, attachments text DEFAULT NULL)
RETURNS pg_catalog.tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ims.search_vector_text(title, description, comments, attachments)::pg_catalog.tsvector $$;
COMMENT ON FUNCTION ims.to_search_vector(text, text, text, text) IS
    'The weighted search tsvector of an issue''s title, description, comments and attachment text, as ims.search_issues indexes it.';

CREATE FUNCTION ims.to_search_query(query text)
RETURNS pg_catalog.tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ims.search_query_text(query)::pg_catalog.tsquery $$;
COMMENT ON FUNCTION ims.to_search_query(text) IS
    'The tsquery for a search query''s words, phrases, OR and -exclusions (field filters are applied by ims.search_issues, not here).';

COMMENT ON FUNCTION ims.search_vector_text(text, text, text, text) IS 'Text form of ims.to_search_vector.';
COMMENT ON FUNCTION ims.search_query_text(text) IS 'Text form of ims.to_search_query.';
COMMENT ON FUNCTION ims.refresh_search_vectors(bigint[]) IS
    'Recompute the search vectors of these issues (the triggers call it; pass every issue_pk to rebuild the index).';
COMMENT ON FUNCTION ims.search_issues(text, text, integer) IS
    'Ranked (BM25) search over titles, descriptions, comments and attachment text: words, "phrases", -exclusions, OR, product:/status:/priority: filters; best first, with a snippet.';

-- Corpus statistics for ranking: documents per term, and (term '') the
-- number of documents and their average length.
CREATE MATERIALIZED VIEW ims.mv_search_stats AS
SELECT s.word AS term, s.ndoc::bigint AS doc_freq, NULL::float8 AS avg_length
  FROM pg_catalog.ts_stat('SELECT search_vector FROM ims.issues WHERE search_vector IS NOT NULL') AS s
UNION ALL
SELECT '', pg_catalog.count(*), coalesce(pg_catalog.avg(pg_catalog.length(search_vector)), 0)::float8
  FROM ims.issues WHERE search_vector IS NOT NULL;
CREATE UNIQUE INDEX uq_mv_search_stats ON ims.mv_search_stats (term);
COMMENT ON MATERIALIZED VIEW ims.mv_search_stats IS
    'Search corpus statistics (document frequency per term; term '''' holds the document count and average length), refreshed by ims.refresh_materialized_views().';

-- Keep vectors current whatever writes the rows. The trigger functions run
-- as the owner: a user's delete can cascade into attachments (SET NULL),
-- and the index must follow without granting users the refresh function.
CREATE FUNCTION ims.search_index_issues() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ims.restoring() THEN
        RETURN NULL;  -- restored rows bring their vectors
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT n.issue_pk FROM new_rows n));
    ELSE
        PERFORM ims.refresh_search_vectors(ARRAY(
            SELECT n.issue_pk FROM new_rows n JOIN old_rows o ON o.issue_pk = n.issue_pk
             WHERE (n.title, n.description) IS DISTINCT FROM (o.title, o.description)));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ims.search_index_issues() IS 'Trigger: refreshes search vectors of inserted issues and of issues whose title or description changed.';

CREATE FUNCTION ims.search_index_children() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ims.restoring() THEN
        RETURN NULL;  -- restored rows bring their vectors
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT DISTINCT n.issue_pk FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT DISTINCT o.issue_pk FROM old_rows o));
    ELSE
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT n.issue_pk FROM new_rows n
                                                 UNION SELECT o.issue_pk FROM old_rows o));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ims.search_index_issues(), ims.search_index_children() FROM PUBLIC;
COMMENT ON FUNCTION ims.search_index_children() IS 'Trigger: refreshes search vectors of issues whose comments or attachments changed.';

CREATE TRIGGER trg_issues_search_insert AFTER INSERT ON ims.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_issues();
CREATE TRIGGER trg_issues_search_update AFTER UPDATE ON ims.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_issues();
CREATE TRIGGER trg_issue_comments_search_insert AFTER INSERT ON ims.issue_comments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_issue_comments_search_update AFTER UPDATE ON ims.issue_comments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_issue_comments_search_delete AFTER DELETE ON ims.issue_comments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_insert AFTER INSERT ON ims.attachments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_update AFTER UPDATE ON ims.attachments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_delete AFTER DELETE ON ims.attachments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();

-- Operations (as sql/operations.sql installs them)

-- pg_dump scripts and pg_restore run with row_security = off, as a
-- superuser. Then the restored rows already carry what the triggers would
-- derive (session references, search vectors, the audit trail), so the
-- triggers stand aside. Anyone else setting row_security = off gains
-- nothing: they are not a superuser (and for them it only turns row level
-- security filtering into errors).
CREATE FUNCTION ims.restoring() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.current_setting('row_security') = 'off'
       AND coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false)
$$;
COMMENT ON FUNCTION ims.restoring() IS
    'True inside pg_restore or a pg_dump script (row_security off, superuser): triggers then keep restored rows as they are.';

-- Monitoring: one row per check, worst first.
CREATE VIEW ims.health WITH (security_invoker = true) AS
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
      FROM (VALUES ('ims.mv_weekly_issue_trends'), ('ims.mv_product_stats'), ('ims.mv_search_stats')) AS mv(name)
      LEFT JOIN runs r ON r.task = 'refresh ' || mv.name
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
COMMENT ON VIEW ims.health IS
    'One row per health check (aggregation and refresh recency, partitions ahead, DEFAULT rows, stuck sessions, recent errors), worst first.';

-- Size and bloat of every table and partition.
CREATE VIEW ims.health_tables WITH (security_invoker = true) AS
SELECT c.relname AS table_name,
       CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'p' THEN 'partitioned' ELSE 'table' END AS kind,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = c.oid)
            ELSE pg_total_relation_size(c.oid) END::bigint AS total_bytes,
       pg_size_pretty(CASE WHEN c.relkind = 'p'
            THEN (SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = c.oid)
            ELSE pg_total_relation_size(c.oid) END::bigint) AS total_size,
       greatest(c.reltuples, 0)::bigint AS row_estimate,
       s.n_dead_tup AS dead_tuples,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze
  FROM pg_class c
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p');
COMMENT ON VIEW ims.health_tables IS 'Size, row estimate, dead tuples and last vacuum/analyze of every ims table and partition.';

-- Scheduling with pg_cron.
CREATE FUNCTION ims.maintenance_jobs(retention_days integer DEFAULT 365)
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('ims_aggregate_daily', '0 2 * * *', 'SELECT ims.aggregate_daily_stats()'),
           ('ims_refresh_views', '0 3 * * *', 'SELECT ims.refresh_materialized_views()'),
           ('ims_aggregate_monthly', '30 3 1 * *',
            'SELECT ims.aggregate_monthly_stats(extract(year FROM now() - interval ''1 month'')::int, '
            || 'extract(month FROM now() - interval ''1 month'')::int)'),
           ('ims_ensure_partitions', '0 4 * * *', 'SELECT count(*) FROM ims.ensure_partitions(3)'),
           ('ims_retention', '0 5 * * 0',
            'SELECT * FROM ims.delete_old_sessions(NULL, ' || retention_days || ')')
$$;
COMMENT ON FUNCTION ims.maintenance_jobs(integer) IS
    'The maintenance jobs and their schedules, as ims.schedule_maintenance registers them (and as crontab lines run them).';

CREATE FUNCTION ims.schedule_maintenance(retention_days integer DEFAULT 365)
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j record;
BEGIN
    IF retention_days IS NULL OR retention_days < 1 THEN
        RAISE EXCEPTION 'retention_days must be at least 1, got %', retention_days USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron, or run the jobs from '
                         'cron: SELECT * FROM ims.maintenance_jobs() lists them (README: Scheduling).';
    END IF;
    FOR j IN SELECT * FROM ims.maintenance_jobs(retention_days) LOOP
        -- Re-scheduling replaces: one job per name, however often this runs.
        PERFORM cron.unschedule(c.jobid) FROM cron.job c WHERE c.jobname = j.jobname;
        PERFORM cron.schedule_in_database(j.jobname, j.schedule, j.command, pg_catalog.current_database());
        jobname := j.jobname; schedule := j.schedule; command := j.command;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION ims.schedule_maintenance(integer) IS
    'Register the maintenance jobs with pg_cron in this database (idempotent); without pg_cron, an error pointing to the cron lines.';

CREATE FUNCTION ims.unschedule_maintenance() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN 0;
    END IF;
    SELECT count(*) INTO n FROM (
        SELECT cron.unschedule(c.jobid) FROM cron.job c
         WHERE c.jobname IN (SELECT m.jobname FROM ims.maintenance_jobs() m)) x;
    RETURN n;
END
$$;
COMMENT ON FUNCTION ims.unschedule_maintenance() IS 'Remove the maintenance jobs from pg_cron; returns how many were removed.';

-- Privileges of the new objects (as sql/security.sql grants them)
REVOKE ALL ON FUNCTION ims.search_vector_text(text, text, text, text), ims.search_query_text(text),
                       ims.refresh_search_vectors(bigint[]), ims.search_issues(text, text, integer),
                       ims.to_search_vector(text, text, text, text), ims.to_search_query(text),
                       ims.restoring(), ims.maintenance_jobs(integer), ims.schedule_maintenance(integer),
                       ims.unschedule_maintenance() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.search_issues(text, text, integer) TO ims_admin, ims_user, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.to_search_vector(text, text, text, text), ims.to_search_query(text),
                          ims.search_vector_text(text, text, text, text), ims.search_query_text(text)
   TO ims_admin, ims_user, ims_readonly, ims_app;
GRANT EXECUTE ON FUNCTION ims.refresh_search_vectors(bigint[]) TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.restoring() TO ims_admin, ims_user, ims_readonly, ims_app;
GRANT EXECUTE ON FUNCTION ims.maintenance_jobs(integer), ims.schedule_maintenance(integer),
                          ims.unschedule_maintenance() TO ims_admin;
GRANT ALL ON ims.mv_search_stats, ims.health, ims.health_tables TO ims_admin;
GRANT SELECT ON ims.mv_search_stats, ims.health, ims.health_tables TO ims_readonly;

-- Index what 0.1.0 stored.
SELECT ims.refresh_search_vectors(ARRAY(SELECT issue_pk FROM ims.issues));
REFRESH MATERIALIZED VIEW ims.mv_search_stats;
