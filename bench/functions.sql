-- Benchmarks of the crawler and cron functions, each against a baseline
-- measured in the same run on the same data. Run by scripts/bench.sh in a
-- fresh database where CREATE EXTENSION ims_crawler has run.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\pset footer off
CREATE SCHEMA bench;
CREATE TABLE bench.timings (name text, run int, ms float8);

CREATE FUNCTION bench.issue_batch(first_id int, n int, variant int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_agg(jsonb_build_object(
           'issue_id', 'B-' || i,
           'title', 'OpenFrame TJES 연결 타임아웃 issue ' || i || CASE WHEN variant = 1 AND i % 2 = 0 THEN ' (changed)' ELSE '' END,
           'description', repeat('Batch job fails with ORA-00942 when the dataset is locked. 배치 작업이 실패합니다. ', 4),
           'product', (ARRAY['OpenFrame', 'Tmax', 'JEUS'])[1 + i % 3],
           'status', CASE WHEN variant = 1 AND i % 2 = 0 THEN 'Resolved' ELSE 'Open' END,
           'priority', 'High', 'reporter', 'user' || (i % 50), 'assignee', 'dev' || (i % 20),
           'created_at', '2026-01-01T00:00:00Z',
           'comments', (SELECT jsonb_agg(jsonb_build_object('comment_id', i || '-' || c, 'author', 'a' || c,
                                   'content', 'Comment ' || c || ' on issue ' || i || ': 로그를 확인했습니다.'))
                          FROM generate_series(1, 5) c)))
    FROM generate_series(first_id, first_id + n - 1) i
$$;

-- Baseline: the same rows with plain INSERT ... ON CONFLICT DO UPDATE, no history.
CREATE TABLE bench.plain_issues (LIKE ims.issues INCLUDING DEFAULTS);
ALTER TABLE bench.plain_issues DROP COLUMN issue_pk;
ALTER TABLE bench.plain_issues ADD PRIMARY KEY (issue_id);
CREATE TABLE bench.plain_comments (issue_id text, comment_id text, author text, content text,
                                   PRIMARY KEY (issue_id, comment_id));
CREATE FUNCTION bench.plain_upsert(batch jsonb) RETURNS void LANGUAGE sql AS $$
  WITH i AS (
    INSERT INTO bench.plain_issues AS t (issue_id, title, description, product, status, priority, reporter, assignee,
                                         source_created_at, raw_data)
    SELECT d->>'issue_id', d->>'title', d->>'description', d->>'product', d->>'status', d->>'priority',
           d->>'reporter', d->>'assignee', (d->>'created_at')::timestamptz, '{}'
      FROM jsonb_array_elements(batch) d
    ON CONFLICT (issue_id) DO UPDATE SET title = excluded.title, status = excluded.status,
           crawl_count = t.crawl_count + 1, last_crawled_at = now()
    RETURNING 1)
  INSERT INTO bench.plain_comments AS c (issue_id, comment_id, author, content)
  SELECT d->>'issue_id', e->>'comment_id', e->>'author', e->>'content'
    FROM jsonb_array_elements(batch) d, jsonb_array_elements(d->'comments') e
  ON CONFLICT (issue_id, comment_id) DO UPDATE SET content = excluded.content
$$;

INSERT INTO ims.users (user_id, username, role) VALUES (1, 'bench', 'user');
SELECT session_id AS sid FROM ims.start_session('OpenFrame', user_id => 1) \gset

-- The fair baseline (#14): plain set-based SQL doing the same work as
-- upsert_issues, into tables with the same columns, constraints, indexes and
-- foreign keys (copies of ims's, without ims's triggers): new issues
-- inserted with their search vector computed in the statement, existing ones
-- locked, changed fields updated with one issue_history row each, crawl
-- counters bumped, comments upserted by comment_id with their content hash,
-- every issue linked to the session. After the runs the two sets of tables
-- are compared row by row (below): the baseline must store what ours does.
CREATE SCHEMA bench_fair;
CREATE TABLE bench_fair.issues (LIKE ims.issues INCLUDING ALL) WITH (fillfactor = 90);
CREATE TABLE bench_fair.issue_comments (LIKE ims.issue_comments INCLUDING ALL,
    FOREIGN KEY (issue_pk) REFERENCES bench_fair.issues (issue_pk) ON DELETE CASCADE);
CREATE TABLE bench_fair.issue_history (LIKE ims.issue_history INCLUDING ALL,
    FOREIGN KEY (issue_pk) REFERENCES bench_fair.issues (issue_pk) ON DELETE CASCADE);
CREATE TABLE bench_fair.session_issues (LIKE ims.session_issues INCLUDING ALL,
    FOREIGN KEY (issue_pk) REFERENCES bench_fair.issues (issue_pk) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES ims.users (user_id) ON DELETE CASCADE,
    FOREIGN KEY (session_id, session_started_at) REFERENCES ims.crawl_sessions (session_id, started_at) ON DELETE CASCADE);
-- with_vector => false leaves the search vector out: the floor below.
CREATE FUNCTION bench.fair_upsert(batch jsonb, sid bigint, with_vector boolean DEFAULT true) RETURNS void
LANGUAGE sql AS $$
  -- Lock the issues that exist, in one order (a FOR UPDATE in the statement
  -- below would skip rows the INSERT's CTE updated first).
  SELECT count(*) FROM (SELECT 1 FROM bench_fair.issues
                         WHERE issue_id IN (SELECT x->>'issue_id' FROM jsonb_array_elements(batch) x)
                         ORDER BY issue_id COLLATE "C" FOR UPDATE) locked;
  WITH d AS (SELECT x.d, x.d->>'issue_id' AS issue_id FROM jsonb_array_elements(batch) AS x(d)),
  -- Every CTE reads the rows as they were before this statement.
  old AS (SELECT i.* FROM bench_fair.issues i JOIN d USING (issue_id)),
  up AS (
    INSERT INTO bench_fair.issues AS t (issue_id, title, description, product, status, priority, reporter, assignee,
                                        source_created_at, raw_data, search_vector)
    SELECT d.issue_id, d.d->>'title', d.d->>'description', d.d->>'product', d.d->>'status', d.d->>'priority',
           d.d->>'reporter', d.d->>'assignee', (d.d->>'created_at')::timestamptz, '{}',
           CASE WHEN with_vector THEN ims.to_search_vector(d.d->>'title', d.d->>'description',
             (SELECT string_agg(c->>'content', E'\n' ORDER BY c->>'comment_id' COLLATE "C")
                FROM jsonb_array_elements(d.d->'comments') c), NULL) END
      FROM d ORDER BY d.issue_id COLLATE "C"
    ON CONFLICT (issue_id) DO UPDATE SET
       title = excluded.title, description = excluded.description, product = excluded.product,
       status = excluded.status, priority = excluded.priority, reporter = excluded.reporter,
       assignee = excluded.assignee, source_created_at = excluded.source_created_at,
       search_vector = excluded.search_vector,
       crawl_count = t.crawl_count + 1, last_crawled_at = greatest(now(), t.last_crawled_at)
    RETURNING t.issue_pk, t.issue_id, (t.xmax = 0) AS inserted),
  hist AS (
    INSERT INTO bench_fair.issue_history (issue_pk, session_id, field_name, old_value, new_value, changed_by)
    SELECT o.issue_pk, sid, f.field, f.old_value, f.new_value, session_user
      FROM old o JOIN d USING (issue_id)
     CROSS JOIN LATERAL (VALUES
        ('title', o.title, d.d->>'title'), ('description', o.description, d.d->>'description'),
        ('product', o.product, d.d->>'product'), ('status', o.status, d.d->>'status'),
        ('priority', o.priority, d.d->>'priority'), ('reporter', o.reporter, d.d->>'reporter'),
        ('assignee', o.assignee, d.d->>'assignee'),
        ('created_at', o.source_created_at::text, ((d.d->>'created_at')::timestamptz)::text)) AS f(field, old_value, new_value)
     WHERE f.old_value IS DISTINCT FROM f.new_value
    RETURNING issue_pk),
  com AS (
    INSERT INTO bench_fair.issue_comments AS t (issue_pk, comment_id, author, content, content_hash)
    SELECT up.issue_pk, c->>'comment_id', c->>'author', c->>'content',
           encode(sha256(convert_to(coalesce(c->>'author', ''), 'UTF8') || '\x00'::bytea
                         || convert_to(c->>'content', 'UTF8') || '\x00'::bytea), 'hex')
      FROM up JOIN d USING (issue_id) CROSS JOIN LATERAL jsonb_array_elements(d.d->'comments') c
     ORDER BY up.issue_pk, c->>'comment_id' COLLATE "C"
    ON CONFLICT (issue_pk, comment_id) WHERE comment_id IS NOT NULL DO UPDATE
       SET author = excluded.author, content = excluded.content, content_hash = excluded.content_hash
     WHERE t.content_hash IS DISTINCT FROM excluded.content_hash
    RETURNING 1)
  INSERT INTO bench_fair.session_issues AS t (session_id, session_started_at, user_id, issue_pk, action)
  SELECT s.session_id, s.started_at, s.user_id, up.issue_pk,
         CASE WHEN up.inserted THEN 'inserted' WHEN up.issue_pk IN (SELECT issue_pk FROM hist) THEN 'updated'
              ELSE 'unchanged' END
    FROM up, ims.crawl_sessions s WHERE s.session_id = sid
   ORDER BY up.issue_pk
  ON CONFLICT (session_id, issue_pk, session_started_at) DO UPDATE
     SET action = CASE WHEN t.action = 'inserted' OR excluded.action = 'inserted' THEN 'inserted'
                       WHEN t.action = 'updated' OR excluded.action = 'updated' THEN 'updated'
                       ELSE 'unchanged' END,
         crawled_at = now()
$$;

-- 20 batches of 1,000 issues with 5 comments each: fresh, then a re-crawl
-- where half the issues changed. One transaction per batch, as a crawler would.
CREATE TABLE bench.batches AS
SELECT b, bench.issue_batch(b * 1000 + 1, 1000, 0) AS fresh, bench.issue_batch(b * 1000 + 1, 1000, 1) AS recrawl
  FROM generate_series(0, 19) b;
CREATE PROCEDURE bench.run_upserts(sid bigint, kind text) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    batch jsonb;
BEGIN
    FOR i IN 0..19 LOOP
        SELECT CASE kind WHEN 'fresh' THEN fresh ELSE recrawl END INTO batch FROM bench.batches WHERE b = i;
        t0 := clock_timestamp();
        PERFORM count(*) FROM ims.upsert_issues(batch, sid);
        COMMIT;
        INSERT INTO bench.timings VALUES ('upsert_issues ' || kind, i, extract(epoch FROM clock_timestamp() - t0) * 1000);
        SELECT CASE kind WHEN 'fresh' THEN fresh ELSE recrawl END INTO batch FROM bench.batches WHERE b = i;
        t0 := clock_timestamp();
        PERFORM bench.plain_upsert(batch);
        COMMIT;
        INSERT INTO bench.timings VALUES ('plain upsert ' || kind, i, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
        SELECT CASE kind WHEN 'fresh' THEN fresh ELSE recrawl END INTO batch FROM bench.batches WHERE b = i;
        t0 := clock_timestamp();
        PERFORM bench.fair_upsert(batch, sid);
        COMMIT;
        INSERT INTO bench.timings VALUES ('fair baseline ' || kind, i, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
    END LOOP;
END $$;
CALL bench.run_upserts(:sid, 'fresh');
CALL bench.run_upserts(:sid, 're-crawl');
\echo '== upsert: batches of 1,000 issues x 5 comments (20 batches each)'
SELECT name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms_per_batch,
       round(1000 / (percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) / 1000))::int AS issues_per_s
  FROM bench.timings GROUP BY name ORDER BY name;
SELECT v.kind,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings WHERE name = 'fair baseline ' || v.kind)::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings WHERE name = 'upsert_issues ' || v.kind)::numeric, 2)
         AS upsert_rate_vs_fair_baseline,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings WHERE name = 'plain upsert ' || v.kind)::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings WHERE name = 'upsert_issues ' || v.kind)::numeric, 2)
         AS upsert_rate_vs_plain_two_tables
  FROM (VALUES ('fresh'), ('re-crawl')) v(kind);
\echo '== the fair baseline stored what upsert_issues stored: rows differing per table (all must be 0)'
SELECT 'issues' AS rows_of, count(*) AS differing FROM (
  (SELECT issue_id, title, description, product, status, priority, reporter, assignee, source_created_at,
          raw_data, crawl_count, search_vector::text FROM ims.issues
   EXCEPT SELECT issue_id, title, description, product, status, priority, reporter, assignee, source_created_at,
          raw_data, crawl_count, search_vector::text FROM bench_fair.issues)
  UNION ALL
  (SELECT issue_id, title, description, product, status, priority, reporter, assignee, source_created_at,
          raw_data, crawl_count, search_vector::text FROM bench_fair.issues
   EXCEPT SELECT issue_id, title, description, product, status, priority, reporter, assignee, source_created_at,
          raw_data, crawl_count, search_vector::text FROM ims.issues)) x
UNION ALL
SELECT 'issue_comments', count(*) FROM (
  (SELECT i.issue_id, c.comment_id, c.author, c.content, c.content_hash FROM ims.issue_comments c JOIN ims.issues i USING (issue_pk)
   EXCEPT SELECT i.issue_id, c.comment_id, c.author, c.content, c.content_hash FROM bench_fair.issue_comments c JOIN bench_fair.issues i USING (issue_pk))
  UNION ALL
  (SELECT i.issue_id, c.comment_id, c.author, c.content, c.content_hash FROM bench_fair.issue_comments c JOIN bench_fair.issues i USING (issue_pk)
   EXCEPT SELECT i.issue_id, c.comment_id, c.author, c.content, c.content_hash FROM ims.issue_comments c JOIN ims.issues i USING (issue_pk))) x
UNION ALL
SELECT 'issue_history', count(*) FROM (
  (SELECT i.issue_id, h.session_id, h.field_name, h.old_value, h.new_value FROM ims.issue_history h JOIN ims.issues i USING (issue_pk)
   EXCEPT ALL SELECT i.issue_id, h.session_id, h.field_name, h.old_value, h.new_value FROM bench_fair.issue_history h JOIN bench_fair.issues i USING (issue_pk))
  UNION ALL
  (SELECT i.issue_id, h.session_id, h.field_name, h.old_value, h.new_value FROM bench_fair.issue_history h JOIN bench_fair.issues i USING (issue_pk)
   EXCEPT ALL SELECT i.issue_id, h.session_id, h.field_name, h.old_value, h.new_value FROM ims.issue_history h JOIN ims.issues i USING (issue_pk))) x
UNION ALL
SELECT 'session_issues', count(*) FROM (
  (SELECT i.issue_id, l.session_id, l.action FROM ims.session_issues l JOIN ims.issues i USING (issue_pk)
   EXCEPT SELECT i.issue_id, l.session_id, l.action FROM bench_fair.session_issues l JOIN bench_fair.issues i USING (issue_pk))
  UNION ALL
  (SELECT i.issue_id, l.session_id, l.action FROM bench_fair.session_issues l JOIN bench_fair.issues i USING (issue_pk)
   EXCEPT SELECT i.issue_id, l.session_id, l.action FROM ims.session_issues l JOIN ims.issues i USING (issue_pk))) x;
SELECT count(*) AS issues, (SELECT count(*) FROM ims.issue_history) AS history_rows,
       (SELECT count(*) FROM ims.issue_comments) AS comments, (SELECT count(*) FROM ims.session_issues) AS links
  FROM ims.issues;

-- The floor: what the fair baseline's SQL costs without the search vector,
-- then also without the indexes of issues that no upsert reads (all but the
-- two unique keys), fresh batches into emptied tables. What 15,000 issues/s
-- (66.7 ms per batch) would leave for everything else.
CREATE PROCEDURE bench.run_floor(sid bigint, name text) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    batch jsonb;
BEGIN
    TRUNCATE bench_fair.issues, bench_fair.issue_comments, bench_fair.issue_history, bench_fair.session_issues;
    COMMIT;
    FOR i IN 0..19 LOOP
        SELECT fresh INTO batch FROM bench.batches WHERE b = i;
        t0 := clock_timestamp();
        PERFORM bench.fair_upsert(batch, sid, with_vector => false);
        COMMIT;
        INSERT INTO bench.timings VALUES (name, i, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
    END LOOP;
END $$;
CALL bench.run_floor(:sid, 'floor: fair baseline without the search vector');
SELECT format('DROP INDEX bench_fair.%I', indexname) FROM pg_indexes
 WHERE schemaname = 'bench_fair' AND tablename = 'issues' AND indexdef NOT LIKE 'CREATE UNIQUE%' \gexec
CALL bench.run_floor(:sid, 'floor: ... and only the unique indexes on issues');
\echo '== the floor: the fair baseline fresh, without its search vector, then with only the two unique indexes on issues'
\echo '   (15,000 issues/s is 66.7 ms per batch)'
SELECT name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms_per_batch,
       round(1000 / (percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) / 1000))::int AS issues_per_s
  FROM bench.timings WHERE name IN ('fair baseline fresh', 'upsert_issues fresh') OR name LIKE 'floor:%'
 GROUP BY name ORDER BY median_ms_per_batch DESC;
SELECT count(*) AS floor_issues, count(search_vector) AS with_vector,
       (SELECT count(*) FROM bench_fair.issue_comments) AS comments,
       (SELECT count(*) FROM pg_indexes WHERE schemaname = 'bench_fair' AND tablename = 'issues') AS indexes_on_issues
  FROM bench_fair.issues;

-- One issue per call, as a crawler that stores each issue as it reads it:
-- 300 new issues, then the same 300 changed, one transaction per call.
CREATE PROCEDURE bench.run_single(sid bigint) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    issue jsonb;
BEGIN
    FOR variant IN 0..1 LOOP
        FOR i IN 1..300 LOOP
            issue := bench.issue_batch(100000 + i, 1, variant) -> 0;
            t0 := clock_timestamp();
            PERFORM ims.upsert_issue(issue, sid);
            COMMIT;
            INSERT INTO bench.timings VALUES (CASE variant WHEN 0 THEN 'upsert_issue new' ELSE 'upsert_issue changed' END,
                                              i, extract(epoch FROM clock_timestamp() - t0) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END $$;
CALL bench.run_single(:sid);
\echo '== upsert_issue: one issue with 5 comments per call and transaction (300 calls each)'
SELECT name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p95_ms
  FROM bench.timings WHERE name LIKE 'upsert_issue %' GROUP BY name ORDER BY name;

\echo '== indexes written by the upserts above, and how often searches or upserts read them'
SELECT relname AS table_name, indexrelname AS index_name, idx_scan,
       pg_size_pretty(pg_relation_size(indexrelid)) AS size
  FROM pg_stat_user_indexes
 WHERE schemaname = 'ims' AND relname IN ('issues', 'issue_comments', 'issue_history', 'session_issues', 'audit_log')
 ORDER BY relname, indexrelname;

-- aggregate_daily_stats against a fair baseline, on a day with 100,000 and on
-- a day with 1,000,000 sessions (100 users), 2 issue links per session and an
-- error on every tenth. See bench/aggregate_day.sql.
INSERT INTO ims.users (user_id, username, role) SELECT u, 'u' || u, 'user' FROM generate_series(2, 101) u;
CREATE TABLE bench.daily_baseline (
    user_id bigint PRIMARY KEY, stat_date date, total_sessions bigint, completed_sessions bigint,
    failed_sessions bigint, cancelled_sessions bigint, total_issues_crawled bigint, unique_issues bigint,
    total_errors numeric, errors_by_severity jsonb, total_searches bigint, avg_duration_seconds numeric,
    product_breakdown jsonb);

-- A day of crawling: `sessions` sessions from session_id first_id + 1 on.
CREATE PROCEDURE bench.load_day(day date, sessions integer, first_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);  -- bulk setup without audit rows
    INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, finished_at, status, product)
    SELECT first_id + g, 2 + g % 100, day::timestamptz + g * (interval '1 day' / sessions / 1.25),
           day::timestamptz + g * (interval '1 day' / sessions / 1.25) + interval '90 s',
           (ARRAY['completed', 'completed', 'completed', 'failed', 'cancelled'])[1 + g % 5],
           (ARRAY['OpenFrame', 'Tmax', 'JEUS'])[1 + g % 3]
      FROM generate_series(1, sessions) g;
    INSERT INTO ims.session_issues (session_id, session_started_at, user_id, issue_pk, action)
    SELECT s.session_id, s.started_at, s.user_id, k.issue_pk, 'unchanged'
      FROM ims.crawl_sessions s
     CROSS JOIN LATERAL (VALUES (1 + s.session_id % 20000), (1 + (s.session_id + 7919) % 20000)) AS k(issue_pk)
     WHERE s.session_id > first_id AND s.session_id <= first_id + sessions;
    INSERT INTO ims.session_errors (session_id, session_started_at, user_id, severity, error_type, error_message)
    SELECT session_id, started_at, user_id, (ARRAY['warning', 'error', 'critical'])[1 + session_id % 3], 'timeout', 'x'
      FROM ims.crawl_sessions
     WHERE session_id > first_id AND session_id <= first_id + sessions AND session_id % 10 = 0;
END $$;

-- Time the function and both baselines on one day, `runs` times each.
CREATE PROCEDURE bench.time_aggregation(day date, runs integer)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR r IN 1..runs LOOP
        t0 := clock_timestamp();
        PERFORM ims.aggregate_daily_stats(day);
        INSERT INTO bench.timings VALUES ('aggregate_daily_stats', r, extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        -- The fair baseline: the same figures written by hand as one
        -- set-based statement into a table (checked equal to the function's
        -- rows after the runs): per user sessions by status, average
        -- duration, sessions per product, links and distinct issues, errors in
        -- total and by severity, searches; users with sessions or searches.
        TRUNCATE bench.daily_baseline;
        INSERT INTO bench.daily_baseline
        SELECT a.user_id, day, coalesce(s.total, 0), coalesce(s.completed, 0), coalesce(s.failed, 0),
               coalesce(s.cancelled, 0), coalesce(l.links, 0), coalesce(l.issues, 0), coalesce(e.total, 0),
               coalesce(e.by_severity, '{}'), coalesce(q.searches, 0), s.avg_duration, coalesce(p.breakdown, '{}')
          FROM (SELECT user_id FROM ims.crawl_sessions WHERE started_at >= day AND started_at < day + 1
                UNION
                SELECT user_id FROM ims.search_queries WHERE created_at >= day AND created_at < day + 1) a
          LEFT JOIN (SELECT user_id, count(*) AS total, count(*) FILTER (WHERE status = 'completed') AS completed,
                            count(*) FILTER (WHERE status = 'failed') AS failed,
                            count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                            round(avg(duration_seconds), 3) AS avg_duration
                       FROM ims.crawl_sessions WHERE started_at >= day AND started_at < day + 1
                      GROUP BY user_id) s USING (user_id)
          LEFT JOIN (SELECT user_id, jsonb_object_agg(product, n) AS breakdown
                       FROM (SELECT user_id, coalesce(product, '(none)') AS product, count(*) AS n FROM ims.crawl_sessions
                              WHERE started_at >= day AND started_at < day + 1 GROUP BY 1, 2) x
                      GROUP BY user_id) p USING (user_id)
          LEFT JOIN (SELECT user_id, count(*) AS links, count(DISTINCT issue_pk) AS issues FROM ims.session_issues
                      WHERE session_started_at >= day AND session_started_at < day + 1
                      GROUP BY user_id) l USING (user_id)
          LEFT JOIN (SELECT user_id, sum(n) AS total, jsonb_object_agg(severity, n) AS by_severity
                       FROM (SELECT user_id, severity, count(*) AS n FROM ims.session_errors
                              WHERE session_started_at >= day AND session_started_at < day + 1
                              GROUP BY 1, 2) y
                      GROUP BY user_id) e USING (user_id)
          LEFT JOIN (SELECT user_id, count(*) AS searches FROM ims.search_queries
                      WHERE created_at >= day AND created_at < day + 1 GROUP BY user_id) q USING (user_id);
        INSERT INTO bench.timings VALUES ('hand-written INSERT ... SELECT (fair baseline)', r, extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        -- The 0.2.0 baseline, kept for comparison: read-only, so the planner
        -- drops the joins whose columns nobody reads (EXPLAIN shows two scans).
        PERFORM count(*) FROM (
          SELECT u.user_id, s.total, s.completed, s.failed, s.cancelled, s.avg_duration, p.breakdown,
                 l.links, l.issues, e.total, e.by_severity, q.searches
            FROM (SELECT user_id, count(*) AS total, count(*) FILTER (WHERE status = 'completed') AS completed,
                         count(*) FILTER (WHERE status = 'failed') AS failed,
                         count(*) FILTER (WHERE status = 'cancelled') AS cancelled, avg(duration_seconds) AS avg_duration
                    FROM ims.crawl_sessions WHERE started_at >= day AND started_at < day + 1
                   GROUP BY user_id) s
            JOIN (SELECT DISTINCT user_id FROM ims.crawl_sessions
                   WHERE started_at >= day AND started_at < day + 1) u USING (user_id)
            LEFT JOIN (SELECT user_id, jsonb_object_agg(product, n) AS breakdown
                         FROM (SELECT user_id, product, count(*) AS n FROM ims.crawl_sessions
                                WHERE started_at >= day AND started_at < day + 1 GROUP BY 1, 2) x
                        GROUP BY user_id) p USING (user_id)
            LEFT JOIN (SELECT user_id, count(*) AS links, count(DISTINCT issue_pk) AS issues FROM ims.session_issues
                        WHERE session_started_at >= day AND session_started_at < day + 1
                        GROUP BY user_id) l USING (user_id)
            LEFT JOIN (SELECT user_id, sum(n) AS total, jsonb_object_agg(severity, n) AS by_severity
                         FROM (SELECT user_id, severity, count(*) AS n FROM ims.session_errors
                                WHERE session_started_at >= day AND session_started_at < day + 1
                                GROUP BY 1, 2) y
                        GROUP BY user_id) e USING (user_id)
            LEFT JOIN (SELECT user_id, count(*) AS searches FROM ims.search_queries
                        WHERE created_at >= day AND created_at < day + 1 GROUP BY user_id) q USING (user_id)) x;
        INSERT INTO bench.timings VALUES ('read-only GROUP BY (the 0.2.0 baseline; unread joins are dropped)', r, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END $$;

\set day 2026-03-10
\set sessions 100000
\set first_id 1000000
\ir aggregate_day.sql
\set day 2026-03-11
\set sessions 1000000
\set first_id 5000000
\ir aggregate_day.sql

-- Retention is measured apart (scripts/bench.sh, part "retention"), with
-- months of realistic links and errors and crawlers writing meanwhile.
