#!/usr/bin/env bash
# Any login can search, so no search may exhaust memory or ignore a cancel.
# Over 100,000 issues:
#   - a word OR-ed with itself 1,400 times (the 10,000-byte limit), and a filter repeated 500 times,
#     answer like the word alone (duplicates are merged) and quickly;
#   - a query of more distinct terms than the documented maximum is refused
#     with 54000;
#   - a search that must score every issue one by one (before the posting
#     lists are built) stops at statement_timeout (57014) within 1 s of it,
#     and so does pg_cancel_backend;
#   - the backend's memory peak stays bounded and the server never restarts.
set -euo pipefail
# (Output is matched with here-strings: `echo | grep -q` fails under pipefail
# when grep stops reading a long error before echo has written it all.)
export PATH="$IMS_PG_BIN:$PATH"
db=ims_search_bounds
n=${IMS_BOUNDS_ISSUES:-100000}
q() { psql -X -q -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
started=$(psql -X -At -d postgres -c "SELECT pg_postmaster_start_time()")
q -c "CREATE EXTENSION ims_crawler"
q -c "INSERT INTO ims.issues (issue_id, title, description, product, status)
      SELECT 'B-' || g, 'connection timeout in module ' || (g % 97),
             'server memory error while reading log ' || (g % 1013) || ' ' || md5(g::text),
             (ARRAY['OpenFrame', 'JEUS', 'Tibero'])[1 + g % 3], (ARRAY['open', 'closed'])[1 + g % 2]
        FROM generate_series(1, $n) AS g"

# Cancellation while every issue is scored from its stored vector (no lists yet).
t0=$(date +%s%N)
out=$(q -c "SET statement_timeout = '300ms'" -c "SELECT count(*) FROM ims.search_issues('memory', NULL, 1000)" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "unindexed search under statement_timeout 300ms: ${ms} ms: $(echo "$out" | head -n 1)"
grep -q "canceling statement due to statement timeout" <<<"$out" || fail "statement_timeout did not stop the search"
[ "$ms" -lt 1300 ] || fail "the search ran ${ms} ms past a 300 ms statement_timeout"

# pg_cancel_backend from another session.
q -c "SELECT count(*) FROM ims.search_issues('error', NULL, 1000)" >/dev/null 2>"$db.cancel.err" &
bg=$!
sleep 0.3
t0=$(date +%s%N)
psql -X -At -d $db -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%search_issues(''error''%' AND pid <> pg_backend_pid()" >/dev/null
wait $bg || true
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "pg_cancel_backend stopped a search in ${ms} ms: $(head -n 1 "$db.cancel.err")"
grep -q "canceling statement due to user request" "$db.cancel.err" || { rm -f "$db.cancel.err"; fail "cancel did not stop the search"; }
rm -f "$db.cancel.err"
[ "$ms" -lt 1000 ] || fail "cancel took ${ms} ms"

q -o /dev/null -c "SELECT ims.refresh_search_index()"

many_or=$(python3 -c "print(' OR '.join(['log'] * 1400))")
many_filters=$(python3 -c "print('memory ' + ' '.join(['product:OpenFrame'] * 500))")
too_many=$(python3 -c "print(' OR '.join('word%d' % i for i in range(70)))")
pid_out=$(psql -X -At -v ON_ERROR_STOP=1 -d $db <<SQL
SET statement_timeout = '10s';
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\timing on
SELECT 'alone', count(*), sum(rank)::numeric(12,3) FROM ims.search_issues('log', NULL, 1000);
SELECT 'or1400', count(*), sum(rank)::numeric(12,3) FROM ims.search_issues('$many_or', NULL, 1000);
SELECT 'filter', count(*), sum(rank)::numeric(12,3) FROM ims.search_issues('memory product:OpenFrame', NULL, 1000);
SELECT 'filter500', count(*), sum(rank)::numeric(12,3) FROM ims.search_issues('$many_filters', NULL, 1000);
SELECT 'common_or', count(*) FROM ims.search_issues('timeout OR memory OR error OR server OR connection OR log OR module OR read', NULL, 1000);
\timing off
\! grep -E 'VmHWM|RssShmem|RssFile' /proc/\$BACKEND_PID/status | tr -s ' ' | tr '\n' ' '; echo
SQL
)
echo "$pid_out"
alone=$(echo "$pid_out" | grep '^alone|' | cut -d'|' -f2-)
or1400=$(echo "$pid_out" | grep '^or1400|' | cut -d'|' -f2-)
filter=$(echo "$pid_out" | grep '^filter|' | cut -d'|' -f2-)
filter500=$(echo "$pid_out" | grep '^filter500|' | cut -d'|' -f2-)
[ -n "$alone" ] && [ "$alone" = "$or1400" ] || fail "a word OR-ed 1400 times answers differently ($or1400) from the word ($alone)"
[ -n "$filter" ] && [ "$filter" = "$filter500" ] || fail "a repeated filter answers differently ($filter500) from one ($filter)"
kb() { echo "$pid_out" | grep -o "$1:[[:space:]]*[0-9]*" | grep -o '[0-9]*$'; }
hwm=$(kb VmHWM); shm=$(kb RssShmem); file=$(kb RssFile)
private_mb=$(( (hwm - shm - file) / 1024 ))
echo "backend memory peak (VmHWM less shared memory and files): ${private_mb} MB"
[ "$private_mb" -lt 256 ] || fail "a search backend peaked at ${private_mb} MB of private memory"

err=$(q -c "SELECT * FROM ims.search_issues('$too_many')" 2>&1 || true)
grep -q "the limit is 64" <<<"$err" || fail "70 distinct terms were not refused: $err"
code=$(q -c "\set VERBOSITY sqlstate" -c "SELECT * FROM ims.search_issues('$too_many')" 2>&1 || true)
grep -q 54000 <<<"$code" || fail "too many terms is not SQLSTATE 54000: $code"

now_started=$(psql -X -At -d postgres -c "SELECT pg_postmaster_start_time()")
[ "$started" = "$now_started" ] || fail "the server restarted during the test"
echo "search bounds over $n issues: duplicates merged, limits enforced, cancel and timeout honoured, server never restarted"
psql -X -q -d postgres -c "DROP DATABASE $db"
