-- ims_crawler: operations (0.2.0): restore awareness, monitoring views,
-- scheduled maintenance with pg_cron.

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

-- Changing the monthly partitions (creating a month of sessions, links and
-- errors, or dropping an old one) takes ACCESS EXCLUSIVE locks on the three
-- partitioned tables and on the tables their foreign keys point at (users,
-- issues). Taken one by one while crawlers
-- hold some of them, they deadlock with the crawlers. This takes them all
-- at once and gives up after timeout_ms (below deadlock_timeout), releasing
-- whatever it had: the caller retries, and a crawler never waits long for
-- it, never deadlocks with it. Returns whether it holds them all.
CREATE FUNCTION ims.lock_session_tables(timeout_ms integer) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    previous text := pg_catalog.current_setting('lock_timeout');
BEGIN
    PERFORM pg_catalog.set_config('lock_timeout', timeout_ms || 'ms', true);
    LOCK TABLE ims.users, ims.issues, ims.crawl_sessions, ims.session_issues, ims.session_errors
          IN ACCESS EXCLUSIVE MODE;
    PERFORM pg_catalog.set_config('lock_timeout', previous, true);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$;
REVOKE ALL ON FUNCTION ims.lock_session_tables(integer) FROM PUBLIC;
COMMENT ON FUNCTION ims.lock_session_tables(integer) IS
    'Take the locks a partition change needs, all at once, or none within timeout_ms (ensure_partitions and retention retry).';

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
           ('ims_refresh_search_index', '30 * * * *', 'SELECT ims.refresh_search_index()'),
           ('ims_aggregate_monthly', '30 3 1 * *',
            'SELECT ims.aggregate_monthly_stats(extract(year FROM now() - interval ''1 month'')::int, '
            || 'extract(month FROM now() - interval ''1 month'')::int)'),
           ('ims_ensure_partitions', '0 4 * * *', 'SELECT count(*) FROM ims.ensure_partitions(3)'),
           ('ims_retention', '0 5 * * 0',
            'SELECT * FROM ims.delete_old_sessions(NULL::bigint, ' || retention_days || ')')
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
