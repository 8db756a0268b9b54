-- Views and materialized views.
SET TimeZone = 'UTC';
INSERT INTO ims.users (user_id, username, role) VALUES (60, 'view.user', 'user');
SELECT session_id AS sid FROM ims.start_session('OpenFrame', user_id => 60) \gset
SELECT * FROM ims.upsert_issues($$[
  {"issue_id": "V-1", "product": "OpenFrame", "module": "TJES", "status": "Open", "created_at": "2024-01-01T10:00:00Z",
   "comments": [{"content": "c1"}, {"content": "c2"}]},
  {"issue_id": "V-2", "product": "OpenFrame", "module": "OSC", "status": "Closed", "created_at": "2024-01-02T10:00:00Z",
   "resolved_at": "2024-01-03T10:00:00Z"},
  {"issue_id": "V-3", "product": "Tmax", "status": "Open", "created_at": "2024-01-09T10:00:00Z"}
]$$, :sid);
SELECT ims.log_error(:sid, 'timeout', 'x') > 0 AS logged;

SELECT viewname FROM pg_views WHERE schemaname = 'ims' ORDER BY 1;
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind = 'v' ORDER BY 1;
SELECT matviewname FROM pg_matviews WHERE schemaname = 'ims' ORDER BY 1;

SELECT username, total_sessions, running_sessions, total_issues_crawled, total_searches, errors_last_7_days
  FROM ims.v_user_dashboard;
SELECT status, product, linked_issues, logged_errors FROM ims.v_session_detail;
SELECT issue_id, product, status, comment_count, attachment_count FROM ims.v_issue_search ORDER BY issue_id;
SELECT product, total_issues, open_issues, resolved_issues, avg_resolution_hours
  FROM ims.v_product_statistics ORDER BY product;
SELECT error_type, username FROM ims.v_recent_errors;

-- Materialized views: first refresh, then a concurrent one
SELECT ims.refresh_materialized_views();
SELECT * FROM ims.mv_weekly_issue_trends ORDER BY week_start, product;
SELECT product, total_issues, open_issues, modules, total_comments, status_breakdown FROM ims.mv_product_stats ORDER BY product;
SELECT action FROM ims.upsert_issue('{"issue_id": "V-4", "product": "Tmax", "status": "Open"}');
SELECT ims.refresh_materialized_views();
SELECT product, total_issues FROM ims.mv_product_stats ORDER BY product;
SELECT table_name AS task, count(*) FROM ims.audit_log
 WHERE action = 'MAINTENANCE' AND table_name LIKE 'refresh%' GROUP BY 1 ORDER BY 1;

DELETE FROM ims.session_errors;
DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
SELECT ims.refresh_materialized_views();
RESET TimeZone;
