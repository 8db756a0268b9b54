#!/usr/bin/env bash
# Load: 16 pgbench clients for a bounded time, each script a crawl by a
# pooled login that asserts its ims user (start a session, upsert overlapping issues with comments, single and
# batched, log an error and a search, finish), mixed with searches and with
# maintenance running at the same time (daily aggregation, materialized view
# refresh, partition creation, retention cleanup). Afterwards, exactly: no
# client error or deadlock, no duplicates, crawl counters equal to the calls
# the clients saw succeed, unbroken status history, and the daily aggregate
# equal to a recomputation from the raw rows.
#   stress.sh [seconds]   (PG* env, psql and pgbench on PATH)
set -euo pipefail
SECONDS_=${1:-20}
CLIENTS=16
db=ims_stress
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -d $db -o /dev/null <<SQL
CREATE EXTENSION ims_crawler;
INSERT INTO ims.users (user_id, username, role) SELECT u, 'crawler' || u, 'user' FROM generate_series(1, $CLIENTS) u;
CREATE SCHEMA stress;
CREATE TABLE stress.calls (issue_id text, action text, changed_fields text[]);
CREATE TABLE stress.batch_calls (inserted bigint, updated bigint, unchanged bigint);
SQL
cat >"$work/crawl.sql" <<'SQL'
\set a random(1, 60)
\set st random(1, 3)
-- A crawler on its own connection (pgbench keeps one per client): assert
-- its ims user for the session, then one call per transaction.
SELECT ims.set_current_user(:client_id + 1, 'session');
SELECT session_id AS sid FROM ims.start_session('OpenFrame', 'stress') \gset
INSERT INTO stress.calls SELECT 'ST-' || :a, action, changed_fields
  FROM ims.upsert_issue(jsonb_build_object('issue_id', 'ST-' || :a, 'title', 'stress ' || :a, 'status', 'S' || :st,
         'comments', jsonb_build_array(jsonb_build_object('comment_id', 'c' || :st, 'content', '연결 타임아웃 v' || :st))), :sid);
INSERT INTO stress.batch_calls SELECT * FROM ims.upsert_issues(
  (SELECT jsonb_agg(jsonb_build_object('issue_id', 'ST-' || i, 'status', 'S' || :st) ORDER BY (i * :st) % 7)
     FROM unnest(ARRAY[(:a + 7) % 60 + 1, (:a + 31) % 60 + 1, (:a + 45) % 60 + 1]) i), :sid);
SELECT ims.log_error(:sid, 'timeout', 'stress', 'warning');
SELECT ims.log_search('연결 타임아웃', NULL, 'rule', 0.5, 3, :sid);
SELECT count(*) FROM ims.finish_session(:sid, 'completed');
SQL
cat >"$work/search.sql" <<'SQL'
SELECT count(*) FROM ims.search_issues('연결 타임아웃 OR stress', NULL, 20);
SQL
cat >"$work/maintain.sql" <<'SQL'
\set m random(1, 4)
\if :m = 1
SELECT ims.aggregate_daily_stats(current_date);
\elif :m = 2
SELECT ims.refresh_materialized_views();
\elif :m = 3
SELECT count(*) FROM ims.ensure_partitions(2);
\else
SELECT * FROM ims.delete_old_sessions(NULL::bigint, 3650);
\endif
SQL
pgbench -n -c $CLIENTS -j 2 -T "$SECONDS_" -f "$work/crawl.sql@10" -f "$work/search.sql@3" -f "$work/maintain.sql@1" "$db" \
  >"$work/pgbench.txt" 2>&1 || { cat "$work/pgbench.txt"; echo "FAIL: a client saw an error"; exit 1; }
grep -E "transactions actually processed|^tps" "$work/pgbench.txt"

q -d $db <<'SQL'
SELECT ims.aggregate_daily_stats(current_date) AS aggregated \gset
DO $$
DECLARE
    crawls bigint := (SELECT count(*) FROM stress.calls);
    calls bigint := crawls + 3 * (SELECT count(*) FROM stress.batch_calls);
    v record;
BEGIN
    IF (SELECT count(*) <> count(DISTINCT issue_id) FROM ims.issues) THEN RAISE EXCEPTION 'duplicate issues'; END IF;
    IF (SELECT count(*) <> count(DISTINCT (issue_pk, comment_id)) FROM ims.issue_comments) THEN RAISE EXCEPTION 'duplicate comments'; END IF;
    IF (SELECT sum(crawl_count) FROM ims.issues) <> calls THEN
        RAISE EXCEPTION 'crawl counters % <> calls %', (SELECT sum(crawl_count) FROM ims.issues), calls;
    END IF;
    IF (SELECT count(*) FROM stress.calls WHERE action = 'inserted') + (SELECT sum(inserted) FROM stress.batch_calls)
       <> (SELECT count(*) FROM ims.issues) THEN RAISE EXCEPTION 'each issue must be inserted exactly once'; END IF;
    IF (SELECT count(*) FROM ims.crawl_sessions) <> crawls OR EXISTS (SELECT 1 FROM ims.crawl_sessions WHERE status <> 'completed') THEN
        RAISE EXCEPTION 'sessions: % for % crawls', (SELECT count(*) FROM ims.crawl_sessions), crawls;
    END IF;
    IF (SELECT count(*) FROM ims.session_errors) <> crawls OR (SELECT count(*) FROM ims.search_queries) <> crawls
       OR EXISTS (SELECT 1 FROM ims.crawl_sessions WHERE errors_count <> 1) THEN
        RAISE EXCEPTION 'errors/searches do not match the crawls';
    END IF;
    FOR v IN SELECT i.issue_id, i.status, array_agg(h.old_value ORDER BY h.history_id) AS olds,
                    array_agg(h.new_value ORDER BY h.history_id) AS news
               FROM ims.issues i JOIN ims.issue_history h ON h.issue_pk = i.issue_pk AND h.field_name = 'status'
              GROUP BY i.issue_id, i.status LOOP
        IF v.news[array_upper(v.news, 1)] <> v.status THEN RAISE EXCEPTION '% history does not end at its status', v.issue_id; END IF;
        FOR k IN 2 .. array_upper(v.olds, 1) LOOP
            IF v.olds[k] <> v.news[k - 1] THEN RAISE EXCEPTION '% history chain broken', v.issue_id; END IF;
        END LOOP;
    END LOOP;
    -- The aggregate equals a recomputation from the raw rows.
    IF EXISTS (
        SELECT user_id, total_sessions, completed_sessions, total_issues_crawled, unique_issues, total_errors, total_searches
          FROM ims.analytics_daily WHERE stat_date = current_date
        EXCEPT
        SELECT s.user_id, count(*), count(*) FILTER (WHERE s.status = 'completed'),
               (SELECT count(*) FROM ims.session_issues si WHERE si.user_id = s.user_id AND si.session_started_at >= current_date AND si.session_started_at < current_date + 1),
               (SELECT count(DISTINCT issue_pk) FROM ims.session_issues si WHERE si.user_id = s.user_id AND si.session_started_at >= current_date AND si.session_started_at < current_date + 1),
               (SELECT count(*) FROM ims.session_errors se WHERE se.user_id = s.user_id AND se.session_started_at >= current_date AND se.session_started_at < current_date + 1),
               (SELECT count(*) FROM ims.search_queries q WHERE q.user_id = s.user_id AND q.created_at >= current_date AND q.created_at < current_date + 1)
          FROM ims.crawl_sessions s WHERE s.started_at >= current_date AND s.started_at < current_date + 1
         GROUP BY s.user_id) THEN
        RAISE EXCEPTION 'daily aggregate differs from the raw rows';
    END IF;
    RAISE NOTICE 'stress: % crawls, % upsert calls, % issues, % history rows: exact', crawls, calls,
        (SELECT count(*) FROM ims.issues), (SELECT count(*) FROM ims.issue_history);
END $$;
SQL
q -d postgres -c "DROP DATABASE $db"
echo "stress: OK ($CLIENTS clients, ${SECONDS_}s)"
