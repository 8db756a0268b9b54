#!/usr/bin/env bash
# Crawlers keep working while every maintenance function runs under them:
# 4 pgbench crawlers (start a session, upsert issues with attachments into
# it, log an error, finish) run for 25 s while another client loops over
# retention of whole old months (with sessions, links and errors in them),
# per-user retention, partition creation, daily aggregation, the search
# index rebuild and the materialized view refresh. No crawler and no
# maintenance call may see an error (a deadlock included).
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_maintenance_load
seconds=${IMS_MAINT_SECONDS:-25}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -d $db "$@"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -o /dev/null <<'SQL'
CREATE EXTENSION ims_crawler;
INSERT INTO ims.users (user_id, username, role) SELECT u, 'crawler' || u, 'user' FROM generate_series(1, 8) u;
SELECT count(*) FROM ims.upsert_issues((SELECT jsonb_agg(jsonb_build_object('issue_id', 'M-' || g, 'title', 'old issue ' || g))
                                          FROM generate_series(1, 200) g));
-- Old months full of work for retention: 24 months back, 300 sessions a month,
-- two links and an error each.
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at, status, finished_at)
SELECT 1000000 + m * 1000 + s, 1 + s % 8, date_trunc('month', now()) - make_interval(months => 13 + m) + make_interval(hours => s),
       'completed', date_trunc('month', now()) - make_interval(months => 13 + m) + make_interval(hours => s, mins => 5)
  FROM generate_series(0, 11) m, generate_series(1, 300) s;
SELECT count(*) FROM ims.ensure_partitions(3);
INSERT INTO ims.session_issues (session_id, issue_pk)
SELECT s.session_id, i.issue_pk FROM ims.crawl_sessions s
  JOIN LATERAL (SELECT issue_pk FROM ims.issues ORDER BY issue_pk OFFSET (s.session_id % 100) LIMIT 2) i ON true;
INSERT INTO ims.session_errors (session_id, error_type, error_message)
SELECT session_id, 'timeout', 'old' FROM ims.crawl_sessions;
SQL

cat >"$work/crawl.sql" <<'SQL'
\set a random(1, 400)
\set u random(1, 8)
BEGIN;
SELECT ims.set_current_user(:u);
SELECT session_id AS sid FROM ims.start_session('OpenFrame', 'load') \gset
SELECT count(*) FROM ims.upsert_issue(jsonb_build_object('issue_id', 'M-' || :a, 'title', 'issue ' || :a || ' v' || :u,
         'attachments', jsonb_build_array(jsonb_build_object('file_name', 'log' || :u || '.txt', 'extracted_text', 'x'))), :sid);
SELECT ims.log_error(:sid, 'timeout', 'load');
SELECT count(*) FROM ims.finish_session(:sid);
COMMIT;
SQL
# Every maintenance function, in a loop, as cron would run them.
(end=$((SECONDS + seconds)); m=24; calls=0
 while [ $SECONDS -lt $end ]; do
   q -o /dev/null -c "SELECT * FROM ims.delete_old_sessions(NULL::bigint, $((m * 31)))" || exit 1
   q -o /dev/null -c "SELECT * FROM ims.delete_old_sessions(3, 400)" || exit 1
   q -o /dev/null -c "SELECT * FROM ims.ensure_partitions(4)" || exit 1
   q -o /dev/null -c "SELECT ims.aggregate_daily_stats(current_date)" || exit 1
   q -o /dev/null -c "SELECT ims.refresh_search_index()" || exit 1
   q -o /dev/null -c "SELECT ims.refresh_materialized_views()" || exit 1
   calls=$((calls + 6)); [ $m -gt 13 ] && m=$((m - 1))
 done; echo "$calls maintenance calls") >"$work/maintenance.out" 2>&1 &
maint=$!
pgbench -n -c 4 -j 2 -T "$seconds" -f "$work/crawl.sql" "$db" >"$work/crawl.out" 2>&1 \
  || { cat "$work/crawl.out"; echo "FAIL: a crawler saw an error while maintenance ran"; exit 1; }
wait $maint || { cat "$work/maintenance.out"; echo "FAIL: a maintenance call failed under load"; exit 1; }
left=$(q -At -c "SELECT count(*) FROM ims.crawl_sessions WHERE started_at < date_trunc('month', now()) - interval '13 months'")
echo "maintenance under load: $(grep -oE 'actually processed: [0-9]+' "$work/crawl.out" | grep -oE '[0-9]+') crawler transactions," \
     "$(tail -n 1 "$work/maintenance.out"), no error; old sessions left: $left"
[ "$left" -lt 3600 ] || { echo "FAIL: retention removed no old month"; exit 1; }
psql -X -q -d postgres -c "DROP DATABASE $db"
