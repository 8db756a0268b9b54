-- The twelve tables, their keys, defaults and constraints.
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY 1;

-- crawl_sessions is range-partitioned on started_at, with a DEFAULT partition
SELECT pg_get_partkeydef('ims.crawl_sessions'::regclass);
SELECT count(*) FILTER (WHERE c.relname = 'crawl_sessions_default') AS default_partitions,
       count(*) FILTER (WHERE c.relname ~ '^crawl_sessions_\d{4}_\d{2}$') >= 4 AS monthly_partitions
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass;

-- Every foreign key, and what it references (monthly partitions below)
SELECT conrelid::regclass AS table_name, conname, confrelid::regclass AS references_table
  FROM pg_constraint
 WHERE contype = 'f' AND connamespace = 'ims'::regnamespace AND conparentid = 0
   AND conrelid::regclass::text !~ '_\d{4}_\d{2}$'
 ORDER BY 1, 2;
-- Each month's links and errors reference that month's sessions, and only
-- them: a month drops as three tables with nothing else to check.
SELECT count(*) AS monthly_keys,
       count(*) FILTER (WHERE regexp_replace(conrelid::regclass::text, '^ims\.session_(issues|errors)_', '')
                              = regexp_replace(confrelid::regclass::text, '^ims\.crawl_sessions_', '')) AS same_month
  FROM pg_constraint
 WHERE contype = 'f' AND connamespace = 'ims'::regnamespace AND conparentid = 0
   AND conrelid::regclass::text ~ '_\d{4}_\d{2}$';
SELECT c.relname AS month_without_links
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass AND c.relname ~ '_\d{4}_\d{2}$'
   AND (to_regclass('ims.session_issues_' || substr(c.relname, 16)) IS NULL
        OR to_regclass('ims.session_errors_' || substr(c.relname, 16)) IS NULL);

-- Index count (the original design had 40+) and GIN/partial/BRIN variety
SELECT count(*) >= 40 AS at_least_40,
       count(*) FILTER (WHERE am.amname = 'gin') >= 5 AS gin,
       count(*) FILTER (WHERE x.indpred IS NOT NULL) >= 10 AS partial
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_am am ON am.oid = i.relam
 WHERE t.relnamespace = 'ims'::regnamespace AND NOT t.relispartition;

-- Every table and view has a comment
SELECT c.relname AS missing_comment
  FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
   AND obj_description(c.oid, 'pg_class') IS NULL;

-- Plain SQL keeps working: a user with only username and role, a session
-- with only user_id and started_at; the rest defaults.
INSERT INTO ims.users (username, role) VALUES ('kim.minsu', 'user'), ('lee.admin', 'admin');
SELECT username, role, is_active, preferences FROM ims.users ORDER BY user_id;
INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (1, now());
SELECT status, session_uuid IS NOT NULL AS has_uuid, issues_crawled, errors_count, parameters,
       finished_at IS NULL AS not_finished
  FROM ims.crawl_sessions;

-- CHECK constraints reject enumerated values outside their list
SELECT regress.error_of($$INSERT INTO ims.users (username, role) VALUES ('x', 'superhero')$$);
SELECT regress.error_of($$INSERT INTO ims.users (username, role) VALUES ('', 'user')$$);
SELECT regress.error_of($$INSERT INTO ims.users (username, role) VALUES ('kim.minsu', 'user')$$);
SELECT regress.error_of($$INSERT INTO ims.users (username, role, email) VALUES ('y', 'user', 'not-an-email')$$);
SELECT regress.error_of($$INSERT INTO ims.users (username, role, preferences) VALUES ('z', 'user', '[1]')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at, status, finished_at) VALUES (1, '2001-01-01', 'paused', '2001-01-02')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at, status) VALUES (1, '2001-01-01', 'completed')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at, finished_at, status)
                          VALUES (1, '2001-01-01', '2000-12-31', 'failed')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at, issues_crawled) VALUES (1, '2001-01-01', -1)$$);
SELECT regress.error_of($$INSERT INTO ims.issues (issue_id) VALUES ('')$$);
SELECT regress.error_of($$INSERT INTO ims.issues (issue_id, raw_data) VALUES ('IMS-1', '"text"')$$);
SELECT regress.error_of($$INSERT INTO ims.session_errors (session_id, severity, error_type, error_message)
                          VALUES (1, 'fatal', 'x', 'y')$$);
SELECT regress.error_of($$INSERT INTO ims.search_queries (user_id, original_query, confidence)
                          VALUES (1, 'q', 1.5)$$);
SELECT regress.error_of($$INSERT INTO ims.search_queries (user_id, original_query, parse_method)
                          VALUES (1, 'q', 'magic')$$);
SELECT regress.error_of($$INSERT INTO ims.analytics_monthly (user_id, year, month) VALUES (1, 2024, 13)$$);
SELECT regress.error_of($$INSERT INTO ims.audit_log (action, table_name) VALUES ('SELECT', 'x')$$);
SELECT regress.error_of($$INSERT INTO ims.attachments (issue_pk, file_name, size_bytes) VALUES (1, 'a', 1)$$);

-- Foreign keys reject rows that point nowhere
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (999, '2001-01-01')$$);
SELECT regress.error_of($$INSERT INTO ims.session_errors (session_id, error_type, error_message) VALUES (999, 'x', 'y')$$);
SELECT regress.error_of($$INSERT INTO ims.issue_comments (issue_pk, content, content_hash) VALUES (999, 'c', 'h')$$);
SELECT regress.error_of($$DELETE FROM ims.users WHERE username = 'kim.minsu'$$);

-- A row pointing at a session gets the session's start time and owner
INSERT INTO ims.session_errors (session_id, error_type, error_message) VALUES (1, 'timeout', 'page load timed out');
SELECT e.session_started_at = s.started_at AS same_start, e.user_id, e.severity, e.error_detail
  FROM ims.session_errors e JOIN ims.crawl_sessions s USING (session_id);

-- updated_at follows updates
UPDATE ims.users SET updated_at = '2000-01-01' WHERE username = 'kim.minsu';
UPDATE ims.users SET display_name = '김민수' WHERE username = 'kim.minsu';
SELECT display_name, updated_at > '2000-01-02' AS updated_at_moved FROM ims.users WHERE username = 'kim.minsu';

-- duration_seconds is derived
UPDATE ims.crawl_sessions SET status = 'completed', finished_at = started_at + interval '90 seconds';
SELECT duration_seconds FROM ims.crawl_sessions;

DELETE FROM ims.session_errors;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
