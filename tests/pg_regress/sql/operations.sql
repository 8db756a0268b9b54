-- Monitoring views, the maintenance job list, scheduling without pg_cron,
-- restore awareness.
-- The materialized views as any running installation has them: refreshed.
SELECT ims.refresh_materialized_views();
INSERT INTO ims.users (user_id, username, role) VALUES (90, 'ops.user', 'user');
INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (90, now() - interval '7 hours');
INSERT INTO ims.crawl_sessions (user_id, started_at, status, finished_at) VALUES (90, '2001-01-01', 'completed', '2001-01-01 01:00');
SELECT ims.log_error(s.session_id, 'crash', 'x', 'critical') > 0 FROM ims.crawl_sessions s WHERE s.status = 'running';

SELECT check_name, status FROM ims.health;
SELECT value FROM ims.health WHERE check_name IN ('rows in the DEFAULT partition', 'sessions running over 6 hours',
                                                   'errors in the last 24 hours: critical') ORDER BY check_name;
SELECT count(*) FROM ims.ensure_partitions(0);
SELECT check_name, status, value FROM ims.health WHERE check_name = 'rows in the DEFAULT partition';
SELECT ims.aggregate_daily_stats(current_date - 1) >= 0 AS aggregated;
SELECT ims.refresh_materialized_views();
SELECT check_name, status FROM ims.health WHERE check_name LIKE 'refresh%' ORDER BY 1;

SELECT table_name, kind, total_bytes > 0 AS has_size FROM ims.health_tables
 WHERE table_name IN ('issues', 'crawl_sessions', 'crawl_sessions_default', 'crawl_sessions_2001_01') ORDER BY 1;

SELECT * FROM ims.maintenance_jobs();
SELECT command FROM ims.maintenance_jobs(30) WHERE jobname = 'ims_retention';
SELECT regress.error_of('SELECT * FROM ims.schedule_maintenance()');
SELECT regress.error_of('SELECT * FROM ims.schedule_maintenance(0)');
SELECT ims.unschedule_maintenance() AS removed_without_pg_cron;
SELECT ims.restoring() AS restoring_now;

DELETE FROM ims.session_errors;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
DELETE FROM ims.analytics_daily;
