-- Monthly partitions of crawl_sessions: routing, DEFAULT, ensure_partitions.
SET TimeZone = 'UTC';
INSERT INTO ims.users (user_id, username, role) VALUES (10, 'part.tester', 'user');

-- Rows go to their month's partition
INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (10, now());
SELECT tableoid::regclass::text = 'ims.crawl_sessions_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') AS in_current_month
  FROM ims.crawl_sessions;

-- A month without a partition lands in DEFAULT, with rows referencing it
INSERT INTO ims.crawl_sessions (user_id, started_at, status, finished_at)
VALUES (10, '2021-03-10 12:00+00', 'completed', '2021-03-10 13:00+00'),
       (10, '2021-03-31 23:59:59+00', 'failed', '2021-04-01 00:10+00'),
       (10, '2021-05-01 00:00+00', 'cancelled', '2021-05-01 00:01+00');
INSERT INTO ims.session_errors (session_id, error_type, error_message)
SELECT session_id, 'timeout', 'kept across the move' FROM ims.crawl_sessions WHERE started_at < '2022-01-01';
INSERT INTO ims.issues (issue_id) VALUES ('IMS-P1');
INSERT INTO ims.session_issues (session_id, issue_pk, action)
SELECT s.session_id, i.issue_pk, 'inserted' FROM ims.crawl_sessions s, ims.issues i WHERE s.started_at < '2022-01-01';
SELECT tableoid::regclass, started_at, status FROM ims.crawl_sessions WHERE started_at < '2022-01-01' ORDER BY started_at;

-- ensure_partitions creates the missing months (the past ones that have
-- rows waiting in DEFAULT) and moves those rows, keeping what references them
SELECT partition_name, range_start, range_end, rows_moved
  FROM ims.ensure_partitions(0) WHERE range_start < '2022-01-01';
SELECT tableoid::regclass, started_at, status, duration_seconds FROM ims.crawl_sessions
 WHERE started_at < '2022-01-01' ORDER BY started_at;
SELECT count(*) AS rows_left_in_default FROM ims.crawl_sessions_default;
SELECT count(*) AS errors_kept, count(DISTINCT e.session_id) AS sessions
  FROM ims.session_errors e JOIN ims.crawl_sessions s
    ON s.session_id = e.session_id AND s.started_at = e.session_started_at;
SELECT count(*) AS links_kept FROM ims.session_issues;

-- Idempotent: nothing more to create
SELECT count(*) AS created_again FROM ims.ensure_partitions(3);
-- Further ahead creates only the new months
SELECT count(*) AS created_ahead FROM ims.ensure_partitions(6);
SELECT count(*) AS created_again FROM ims.ensure_partitions(6);

-- Every partition has row level security, enabled and forced
SELECT count(*) AS partitions, bool_and(c.relrowsecurity AND c.relforcerowsecurity) AS all_secured
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass;

-- Dated partitions are ordinary tables (pg_dump dumps them), DEFAULT is the extension's
SELECT c.relname ~ '^crawl_sessions_\d{4}_\d{2}$' AS dated, bool_or(d.objid IS NOT NULL) AS member
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  LEFT JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass
 GROUP BY 1 ORDER BY 1;

-- A month partitioned by hand has no partitions for its links and errors:
-- storing issues in one of its sessions says so instead of misplacing the
-- links, and ensure_partitions completes the month.
CREATE TABLE ims.crawl_sessions_2019_05 PARTITION OF ims.crawl_sessions
    FOR VALUES FROM ('2019-05-01 00:00+00') TO ('2019-06-01 00:00+00');
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at) VALUES (1905, 10, '2019-05-10 00:00+00');
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues('[{"issue_id": "HAND-1"}]', 1905)$$);
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(0);
SELECT to_regclass('ims.session_issues_2019_05') IS NOT NULL AND to_regclass('ims.session_errors_2019_05') IS NOT NULL
       AS month_completed;
SELECT inserted FROM ims.upsert_issues('[{"issue_id": "HAND-1"}]', 1905);
SELECT tableoid::regclass AS links_in FROM ims.session_issues WHERE session_id = 1905;

-- Bad arguments
SELECT regress.error_of($$SELECT * FROM ims.ensure_partitions(-1)$$);
SELECT regress.error_of($$SELECT * FROM ims.ensure_partitions(121)$$);
SELECT regress.error_of($$SELECT * FROM ims.ensure_partitions(NULL)$$);

DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.session_errors;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
-- the old months' partitions this test made go too
SELECT deleted_sessions FROM ims.delete_old_sessions(NULL, 365);
SELECT count(*) AS old_partitions_left FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ims.crawl_sessions'::regclass AND c.relname < 'crawl_sessions_2022';
RESET TimeZone;
