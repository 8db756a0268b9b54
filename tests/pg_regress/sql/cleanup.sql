-- delete_old_sessions: per user row by row, every user by whole partitions.
SET TimeZone = 'UTC';
INSERT INTO ims.users (user_id, username, role) VALUES (50, 'old.a', 'user'), (51, 'old.b', 'user');
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, status, finished_at) VALUES
  (5001, 50, '2020-06-10', 'completed', '2020-06-10 01:00'),
  (5002, 50, '2020-06-20', 'completed', '2020-06-20 01:00'),
  (5003, 51, '2020-06-15', 'failed', '2020-06-15 00:10'),
  (5004, 51, '2020-07-01', 'completed', '2020-07-01 00:10'),
  (5005, 50, now() - interval '1 day', 'running', NULL);
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(0);
INSERT INTO ims.issues (issue_id) VALUES ('OLD-1'), ('OLD-2');
INSERT INTO ims.session_issues (session_id, issue_pk)
SELECT s.session_id, i.issue_pk FROM ims.crawl_sessions s CROSS JOIN ims.issues i;
INSERT INTO ims.session_errors (session_id, error_type, error_message)
SELECT session_id, 'timeout', 'x' FROM ims.crawl_sessions;
INSERT INTO ims.attachments (issue_pk, session_id, file_name)
SELECT min(issue_pk), 5001, 'kept.log' FROM ims.issues;
INSERT INTO ims.search_queries (user_id, session_id, original_query) VALUES (50, 5002, 'kept query');

-- One user's old sessions, row by row
SELECT * FROM ims.delete_old_sessions(50, 365);
SELECT session_id FROM ims.crawl_sessions ORDER BY 1;
-- Attachments and searches keep the id of the session that found them (as
-- history does); it now matches no session.
SELECT a.file_name, a.session_id,
       EXISTS (SELECT 1 FROM ims.crawl_sessions s WHERE s.session_id = a.session_id) AS session_exists
  FROM ims.attachments a;
SELECT q.original_query, q.session_id,
       EXISTS (SELECT 1 FROM ims.crawl_sessions s WHERE s.session_id = q.session_id) AS session_exists
  FROM ims.search_queries q;
SELECT count(*) AS issues_never_deleted FROM ims.issues;

-- Every user: the whole month 2020-06 goes as a partition, 2020-07 too
SELECT to_regclass('ims.crawl_sessions_2020_06') IS NOT NULL AS june_partition_before;
SELECT * FROM ims.delete_old_sessions(NULL, 365);
SELECT to_regclass('ims.crawl_sessions_2020_06') IS NULL AS june_partition_dropped;
SELECT session_id FROM ims.crawl_sessions ORDER BY 1;
SELECT count(*) AS errors_left, (SELECT count(*) FROM ims.session_issues) AS links_left FROM ims.session_errors;
SELECT count(*) AS issues_never_deleted FROM ims.issues;
-- Nothing left to delete: zeros
SELECT * FROM ims.delete_old_sessions(NULL, 365);

-- Links and errors live in their session's month (a link given without its
-- session's start is moved there); the month drops as three tables, its
-- rows counted exactly on request.
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, status, finished_at) VALUES
  (5101, 51, '2020-09-10', 'completed', '2020-09-10 01:00'), (5102, 51, '2020-09-11', 'completed', '2020-09-11 01:00');
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(0);
INSERT INTO ims.session_issues (session_id, issue_pk)
SELECT s.session_id, i.issue_pk FROM ims.crawl_sessions s, ims.issues i WHERE s.session_id > 5100;
INSERT INTO ims.session_errors (session_id, session_started_at, error_type, error_message)
VALUES (5101, '2020-09-10', 'timeout', 'given with its start') RETURNING session_id, tableoid::regclass AS partition;
SELECT tableoid::regclass AS partition, count(*) FROM ims.session_issues WHERE session_id > 5100 GROUP BY 1;
SELECT * FROM ims.delete_old_sessions(NULL, 365, true);
SELECT to_regclass('ims.session_issues_2020_09') IS NULL AND to_regclass('ims.session_errors_2020_09') IS NULL
       AS links_and_errors_dropped;
-- A session's start never changes: it places the session's links and errors.
SELECT regress.error_of($$UPDATE ims.crawl_sessions SET started_at = started_at - interval '40 days' WHERE session_id = 5005$$);
SELECT regress.error_of($$SELECT * FROM ims.delete_old_sessions(NULL, 365, NULL)$$);

-- Bad arguments
SELECT regress.error_of($$SELECT * FROM ims.delete_old_sessions(50, NULL)$$);
SELECT regress.error_of($$SELECT * FROM ims.delete_old_sessions(50, -1)$$);

DELETE FROM ims.search_queries;
DELETE FROM ims.attachments;
DELETE FROM ims.session_errors;
DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
RESET TimeZone;
