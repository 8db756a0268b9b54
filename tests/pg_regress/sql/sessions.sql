-- Session recording: start, log errors and searches, finish.
-- Own numbering: the same issue_pks whether run alone or after other tests.
ALTER TABLE ims.issues ALTER COLUMN issue_pk RESTART WITH 1;
SET TimeZone = 'UTC';
INSERT INTO ims.users (user_id, username, role, db_role) VALUES (30, 'sess.user', 'user', current_user);

SELECT session_id > 0 AS has_id, session_uuid IS NOT NULL AS has_uuid, started_at <= now() AS started
  FROM ims.start_session('OpenFrame', 'connection timeout', '{"max_pages": 10}');
SELECT session_id AS sid FROM ims.crawl_sessions \gset
SELECT user_id, status, product, search_query, parameters FROM ims.crawl_sessions;

SELECT ims.log_error(:sid, 'timeout', 'page load timed out after 30s', 'warning', '{"url": "https://ims/1", "attempt": 2}', 'IMS-1') > 0 AS logged;
SELECT ims.log_error(:sid, 'parse', 'unexpected HTML') > 0 AS logged_with_defaults;
SELECT severity, error_type, error_message, error_detail, issue_id FROM ims.session_errors ORDER BY error_id;

SELECT ims.log_search('연결 타임아웃 OpenFrame', '{"keywords": ["연결", "타임아웃"], "product": "OpenFrame"}', 'rule', 0.85, 12, :sid, 40) > 0 AS logged;
SELECT ims.log_search('ORA-00942') > 0 AS logged_minimal;
SELECT original_query, parsed_query, parse_method, confidence, result_count, session_id = :sid AS in_session
  FROM ims.search_queries ORDER BY query_id;

SELECT * FROM ims.upsert_issues('[{"issue_id": "S-1"}, {"issue_id": "S-2"}]', :sid);
SELECT * FROM ims.upsert_issue('{"issue_id": "S-1", "title": "changed"}', :sid);
SELECT session_id = :sid AS same, status, duration_seconds >= 0 AS has_duration, issues_crawled, issues_new,
       issues_updated, errors_count
  FROM ims.finish_session(:sid, 'completed', 25);
SELECT status, issues_found, finished_at >= started_at AS finished FROM ims.crawl_sessions;

-- Bad input
SELECT replace(regress.error_of(format('SELECT * FROM ims.finish_session(%s)', :sid)), :sid::text, '<sid>');
SELECT regress.error_of($$SELECT * FROM ims.finish_session(NULL)$$);
SELECT regress.error_of($$SELECT * FROM ims.finish_session(424242)$$);
SELECT regress.error_of($$SELECT * FROM ims.start_session(parameters => '[1]')$$);
SELECT regress.error_of(format('SELECT * FROM ims.finish_session(%s, %L)', :sid, 'done'));
SELECT regress.error_of(format('SELECT ims.log_error(%s, %L, %L, %L)', :sid, 'x', 'y', 'fatal'));
SELECT regress.error_of(format('SELECT ims.log_error(%s, %L, %L)', :sid, '', 'y'));
SELECT regress.error_of(format('SELECT ims.log_error(%s, %L, %L, %L, %L)', :sid, 'x', 'y', 'info', '[]'));
SELECT regress.error_of($$SELECT ims.log_error(424242, 'x', 'y')$$);
SELECT regress.error_of($$SELECT ims.log_search('')$$);
SELECT regress.error_of($$SELECT ims.log_search('q', confidence => 1.5)$$);
SELECT regress.error_of($$SELECT ims.log_search('q', parse_method => 'magic')$$);

-- Without an ims identity there is no one to record a session for
UPDATE ims.users SET db_role = NULL;
SELECT regress.error_of($$SELECT * FROM ims.start_session('OpenFrame')$$);

DELETE FROM ims.search_queries;
DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.session_errors;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
RESET TimeZone;
