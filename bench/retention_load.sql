-- Retention benchmark data (scripts/bench.sh, part "retention"): two old
-- months of :n sessions each (2024-01, which ims.delete_old_sessions drops,
-- and 2024-03, which the baseline DELETE removes), each session with two
-- issue links, every tenth with an error, every hundredth with an
-- attachment and a logged search. Loaded as a restore would (replica
-- role: the rows are consistent by construction), then analyzed as
-- autovacuum would.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
INSERT INTO ims.users (user_id, username, role) SELECT g, 'crawler' || g, 'user' FROM generate_series(1, 100) g;
SELECT count(*) AS issues FROM ims.upsert_issues(
  (SELECT jsonb_agg(jsonb_build_object('issue_id', 'RET-' || g, 'title', 'retention issue ' || g))
     FROM generate_series(1, 10000) g));
-- One session in each month makes ensure_partitions create the month.
SET session_replication_role = replica;
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, status, finished_at)
VALUES (1, 1, '2024-01-01 00:00+00', 'completed', '2024-01-01 00:01+00'),
       (2, 1, '2024-03-01 00:00+00', 'completed', '2024-03-01 00:01+00');
RESET session_replication_role;
SELECT count(*) AS months_created FROM ims.ensure_partitions(0);

CREATE TEMP TABLE months (first_id bigint, lo timestamptz);
INSERT INTO months VALUES (100, '2024-01-01 00:00+00'), (100 + :n, '2024-03-01 00:00+00');
SET session_replication_role = replica;
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, status, finished_at)
SELECT m.first_id + g, 1 + g % 100, m.lo + g * (interval '30 days' / :n), 'completed',
       m.lo + g * (interval '30 days' / :n) + interval '1 minute'
  FROM months m, generate_series(1, :n) g;
INSERT INTO ims.session_issues (session_id, session_started_at, user_id, issue_pk, action, crawled_at)
SELECT s.session_id, s.started_at, s.user_id, i.first_pk + (s.session_id * 7 + k) % 10000, 'unchanged', s.started_at
  FROM ims.crawl_sessions s, generate_series(0, 1) k, (SELECT min(issue_pk) AS first_pk FROM ims.issues) i
 WHERE s.session_id >= 100;
INSERT INTO ims.session_errors (session_id, session_started_at, user_id, error_type, error_message, occurred_at)
SELECT s.session_id, s.started_at, s.user_id, 'timeout', 'read timed out', s.started_at
  FROM ims.crawl_sessions s WHERE s.session_id >= 100 AND s.session_id % 10 = 0;
INSERT INTO ims.attachments (issue_pk, session_id, session_started_at, file_name)
SELECT i.first_pk + s.session_id % 10000, s.session_id, s.started_at, 'log-' || s.session_id || '.txt'
  FROM ims.crawl_sessions s, (SELECT min(issue_pk) AS first_pk FROM ims.issues) i
 WHERE s.session_id >= 100 AND s.session_id % 100 = 0;
INSERT INTO ims.search_queries (user_id, session_id, session_started_at, original_query)
SELECT s.user_id, s.session_id, s.started_at, 'timeout'
  FROM ims.crawl_sessions s WHERE s.session_id >= 100 AND s.session_id % 100 = 0;
RESET session_replication_role;
SELECT pg_catalog.setval('ims.crawl_sessions_session_id_seq', 100 + 2 * :n + 1);
ANALYZE;
CHECKPOINT;
SELECT to_char(s.started_at, 'YYYY-MM') AS month, count(DISTINCT s.session_id) AS sessions,
       (SELECT count(*) FROM ims.session_issues l WHERE l.session_started_at >= date_trunc('month', min(s.started_at))
           AND l.session_started_at < date_trunc('month', min(s.started_at)) + interval '1 month') AS links,
       (SELECT count(*) FROM ims.session_errors e WHERE e.session_started_at >= date_trunc('month', min(s.started_at))
           AND e.session_started_at < date_trunc('month', min(s.started_at)) + interval '1 month') AS errors
  FROM ims.crawl_sessions s GROUP BY 1 ORDER BY 1;
