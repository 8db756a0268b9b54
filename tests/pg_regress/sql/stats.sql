-- Daily and monthly aggregation, user statistics.
SET TimeZone = 'UTC';
INSERT INTO ims.users (user_id, username, role) VALUES (40, 'stats.a', 'user'), (41, 'stats.b', 'user'), (42, 'stats.idle', 'user');
SELECT count(*) FROM ims.ensure_partitions(0);
-- Day under test: 2024-03-15. Also activity the day before and after, which must not count.
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, finished_at, status, product) VALUES
  (4001, 40, '2024-03-15 01:00', '2024-03-15 01:10', 'completed', 'OpenFrame'),
  (4002, 40, '2024-03-15 12:00', '2024-03-15 12:20', 'completed', 'OpenFrame'),
  (4003, 40, '2024-03-15 23:59', '2024-03-16 00:04', 'failed', 'Tmax'),
  (4004, 41, '2024-03-15 08:00', NULL, 'running', NULL),
  (4005, 40, '2024-03-14 23:59', '2024-03-15 00:30', 'completed', 'OpenFrame'),
  (4006, 41, '2024-03-16 00:00', '2024-03-16 00:01', 'cancelled', 'Tmax');
INSERT INTO ims.issues (issue_pk, issue_id) VALUES (1, 'A'), (2, 'B'), (3, 'C');
INSERT INTO ims.session_issues (session_id, issue_pk, action) VALUES
  (4001, 1, 'inserted'), (4001, 2, 'inserted'), (4002, 1, 'unchanged'), (4003, 3, 'inserted'),
  (4004, 1, 'unchanged'), (4005, 2, 'updated'), (4006, 3, 'unchanged');
INSERT INTO ims.session_errors (session_id, severity, error_type, error_message) VALUES
  (4001, 'warning', 'slow', 'x'), (4003, 'error', 'timeout', 'x'), (4003, 'critical', 'crash', 'x'),
  (4003, 'error', 'timeout', 'x'), (4005, 'error', 'timeout', 'x');
INSERT INTO ims.search_queries (user_id, original_query, created_at, confidence) VALUES
  (40, 'OpenFrame timeout', '2024-03-15 09:00', 0.9), (42, 'ORA-00942 OpenFrame', '2024-03-15 10:00', 0.5),
  (42, 'timeout', '2024-03-20 10:00', 0.7);

SELECT ims.aggregate_daily_stats('2024-03-15') AS rows_written;
SELECT user_id, stat_date, total_sessions, completed_sessions, failed_sessions, cancelled_sessions,
       total_issues_crawled, unique_issues, total_errors, errors_by_severity, total_searches,
       avg_duration_seconds, product_breakdown
  FROM ims.analytics_daily ORDER BY user_id;

-- Equal to a hand-written GROUP BY over the raw rows
SELECT user_id, count(*) AS sessions, count(*) FILTER (WHERE status = 'completed') AS completed
  FROM ims.crawl_sessions WHERE started_at >= '2024-03-15' AND started_at < '2024-03-16'
 GROUP BY user_id ORDER BY user_id;

-- Running it twice gives the same rows
CREATE TEMP TABLE first_run AS SELECT * FROM ims.analytics_daily;
SELECT ims.aggregate_daily_stats('2024-03-15') AS rows_written;
SELECT count(*) AS differing_rows FROM (
  SELECT user_id, stat_date, total_sessions, completed_sessions, failed_sessions, total_issues_crawled,
         unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
    FROM first_run
  EXCEPT
  SELECT user_id, stat_date, total_sessions, completed_sessions, failed_sessions, total_issues_crawled,
         unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
    FROM ims.analytics_daily) d;
SELECT count(*) AS rows_total FROM ims.analytics_daily;

-- Activity that disappears (cleanup) disappears from a re-run too
DELETE FROM ims.search_queries WHERE user_id = 42 AND created_at < '2024-03-16';
SELECT ims.aggregate_daily_stats('2024-03-15') AS rows_written;
SELECT user_id FROM ims.analytics_daily ORDER BY user_id;
SELECT ims.aggregate_daily_stats('1999-01-01') AS empty_day;

-- Monthly
SELECT ims.aggregate_monthly_stats(2024, 3) AS rows_written;
SELECT user_id, year, month, total_sessions, completed_sessions, failed_sessions, total_issues_crawled,
       unique_issues, total_errors, total_searches, keyword_trends, product_distribution, quality_metrics
  FROM ims.analytics_monthly ORDER BY user_id;
SELECT ims.aggregate_monthly_stats(2024, 3) AS rows_written_again;
SELECT count(*) FROM ims.analytics_monthly;

-- Bad arguments
SELECT regress.error_of($$SELECT ims.aggregate_daily_stats(NULL)$$);
SELECT regress.error_of($$SELECT ims.aggregate_daily_stats('infinity')$$);
SELECT regress.error_of($$SELECT ims.aggregate_monthly_stats(2024, 13)$$);
SELECT regress.error_of($$SELECT ims.aggregate_monthly_stats(1999, 1)$$);
SELECT regress.error_of($$SELECT ims.aggregate_monthly_stats(NULL, 1)$$);

-- get_user_stats
SELECT * FROM ims.get_user_stats(40);
SELECT total_sessions, completed_sessions, failed_sessions, total_issues_crawled, unique_issues,
       total_searches, last_session_at FROM ims.get_user_stats(42);
SELECT regress.error_of($$SELECT * FROM ims.get_user_stats(987654)$$);
SELECT regress.error_of($$SELECT * FROM ims.get_user_stats(NULL)$$);

DELETE FROM ims.analytics_daily;
DELETE FROM ims.analytics_monthly;
DELETE FROM ims.search_queries;
DELETE FROM ims.session_errors;
DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
RESET TimeZone;
