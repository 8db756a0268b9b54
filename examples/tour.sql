-- A short tour of ims_crawler, run by scripts/demo.sh after the sample data.
\pset footer off
\echo '\n== The ims schema: twelve tables, crawl_sessions partitioned by month'
SELECT c.relname AS table_name, CASE c.relkind WHEN 'p' THEN 'partitioned' ELSE '' END AS kind,
       obj_description(c.oid, 'pg_class') AS what
  FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY 1;
SELECT c.relname AS partition, pg_get_expr(c.relpartbound, c.oid) AS bounds,
       (SELECT count(*) FROM ims.crawl_sessions s WHERE s.tableoid = c.oid) AS sessions
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass ORDER BY 1;

\echo '\n== A crawler stores an issue: inserted, then unchanged, then updated with history'
SELECT session_id AS demo_session FROM ims.start_session('OpenFrame', 'tour', user_id => 2) \gset
SELECT * FROM ims.upsert_issue('{"issue_id": "IMS-30001", "title": "OSC 화면 전환 시 세션 끊김", "product": "OpenFrame", "status": "Open",
   "comments": [{"comment_id": "1", "author": "kim", "content": "재현됩니다"}]}', :demo_session);
SELECT * FROM ims.upsert_issue('{"issue_id": "IMS-30001", "title": "OSC 화면 전환 시 세션 끊김", "product": "OpenFrame", "status": "Open",
   "comments": [{"comment_id": "1", "author": "kim", "content": "재현됩니다"}]}', :demo_session);
SELECT * FROM ims.upsert_issue('{"issue_id": "IMS-30001", "status": "Resolved", "resolved_at": "2026-11-25T10:00:00+09:00"}', :demo_session);
SELECT field_name, old_value, new_value FROM ims.issue_history
 WHERE issue_pk = (SELECT issue_pk FROM ims.issues WHERE issue_id = 'IMS-30001') ORDER BY history_id;
SELECT * FROM ims.upsert_issues('[{"issue_id": "IMS-30002", "title": "batch one"}, {"issue_id": "IMS-30001", "status": "Resolved"}]', :demo_session);
SELECT session_id, status, issues_crawled, issues_new, issues_updated, errors_count FROM ims.finish_session(:demo_session);

\echo '\n== Per-user statistics, dashboards and analytics'
SELECT * FROM ims.get_user_stats(2);
SELECT username, total_sessions, completed_sessions, failed_sessions, total_issues_crawled, total_searches
  FROM ims.v_user_dashboard ORDER BY user_id;
SELECT u.username, d.stat_date, d.total_sessions, d.total_issues_crawled, d.errors_by_severity, d.product_breakdown
  FROM ims.analytics_daily d JOIN ims.users u USING (user_id) ORDER BY d.stat_date DESC, u.username LIMIT 6;
SELECT u.username, m.year, m.month, m.total_sessions, m.keyword_trends -> 0 AS top_keyword, m.quality_metrics ->> 'success_rate' AS success_rate
  FROM ims.analytics_monthly m JOIN ims.users u USING (user_id) ORDER BY m.year DESC, m.month DESC, u.username LIMIT 6;
SELECT * FROM ims.mv_product_stats ORDER BY total_issues DESC;
SELECT occurred_at::date AS day, severity, error_type, error_message, username FROM ims.v_recent_errors ORDER BY occurred_at DESC LIMIT 5;

\echo '\n== Search in Korean and English: particles, codes, phrases, exclusion, OR, filters'
SELECT ims.refresh_materialized_views();
SELECT issue_id, title, round(rank::numeric, 2) AS rank, snippet FROM ims.search_issues('연결 타임아웃', NULL, 3);
SELECT issue_id, title, snippet FROM ims.search_issues('ORA-00942', NULL, 3);
SELECT issue_id, title, product, status FROM ims.search_issues('"TPECLOSE" OR 누수 -JEUS', NULL, 5);
SELECT issue_id, title, status FROM ims.search_issues('타임아웃 product:OpenFrame status:open', NULL, 5);
SELECT issue_id, title FROM ims.search_issues('OFCOBOL-1234', 'OpenFrame');
