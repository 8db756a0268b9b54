#!/usr/bin/env bash
# Benchmarks (not tests): a release build in a throwaway PostgreSQL 16 under
# .bench/, each figure next to a baseline measured in the same run.
#   scripts/bench.sh                 # functions + search at 10k and 100k issues
#   IMS_BENCH_SEARCH_SIZES="10000 100000 1000000" scripts/bench.sh
#   IMS_BENCH_PARTS=search scripts/bench.sh      # only one part
#   IMS_BENCH_PARTS=relevance IMS_BENCH_VERBOSE=1 scripts/bench.sh   # nDCG@10/MRR per class against Kiwi + BM25
#   IMS_BENCH_RETENTION_SIZES="1000000 10000000" IMS_BENCH_PARTS=retention scripts/bench.sh
#   IMS_BENCH_UPGRADE_SESSIONS=1000000 IMS_BENCH_PARTS=upgrade scripts/bench.sh
# Results are recorded in BENCHMARKS.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
V=16
PORT=${IMS_BENCH_PORT:-55499}
DIR="$REPO_ROOT/.bench/pg$V"
SIZES=${IMS_BENCH_SEARCH_SIZES:-"10000 100000"}
PARTS=${IMS_BENCH_PARTS:-"functions retention upgrade relevance search"}
RETENTION_SIZES=${IMS_BENCH_RETENTION_SIZES:-1000000}

bash "$REPO_ROOT/scripts/install-deps.sh" >/dev/null
install_extension "$V" release
cluster_stop "$DIR" "$V"
rm -rf "$DIR"
cluster_start "$V" "$DIR" "$PORT" "shared_buffers = 2GB" "work_mem = 64MB" "maintenance_work_mem = 1GB" \
  "max_wal_size = 8GB" "checkpoint_timeout = 30min" "jit = off"
trap 'cluster_stop "$DIR" "$V"' EXIT
p() { psql_at "$V" "$DIR" "$PORT" "$@"; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $V; $(date -u +%F)"
if [[ " $PARTS " == *" functions "* ]]; then
  p -q -d postgres -c "CREATE DATABASE bench_functions"
  p -q -d bench_functions -c "CREATE EXTENSION ims_crawler"
  p -d bench_functions -f "$REPO_ROOT/bench/functions.sql"
fi
if [[ " $PARTS " == *" retention "* ]]; then
  # Each maintenance call runs while two pgbench crawlers write (start a
  # session, upsert, log an error, finish); their latency during the call
  # is compared with their latency outside it, and no crawler may fail.
  work=$(mktemp -d)
  chmod 777 "$work"
  window() {  # window NAME SQL: time SQL under crawlers
    local name=$1 sql=$2 dir="$work/$1"
    mkdir -p "$dir" && chmod 777 "$dir"
    (cd "$dir" && "$(pg_bindir $V)/pgbench" -n -h "$DIR/sock" -p "$PORT" -U postgres -c 2 -j 2 -T 12 \
       --log --log-prefix=crawl -f "$REPO_ROOT/bench/retention_crawl.sql" bench_retention >pgbench.out 2>&1) &
    local crawlers=$!
    sleep 4
    # Three clock readings: before the call, after it, after its COMMIT (which
    # removes the files of dropped tables, once the locks are released).
    local times; times=$(p -At -d bench_retention -c "SET client_min_messages = warning" -c "BEGIN" \
      -c "SELECT extract(epoch FROM clock_timestamp())" -c "$sql" -c "SELECT extract(epoch FROM clock_timestamp())" \
      -c "COMMIT" -c "SELECT extract(epoch FROM clock_timestamp())" \
      | tee "$dir/call.out" | grep -E '^[0-9]+\.[0-9]+$' | tr '\n' ' ')
    wait $crawlers || { cat "$dir/pgbench.out"; echo "FAIL: a crawler failed during $name"; exit 1; }
    grep -q "number of failed transactions: 0" "$dir/pgbench.out" || ! grep -q "number of failed" "$dir/pgbench.out" \
      || { cat "$dir/pgbench.out"; echo "FAIL: crawler transactions failed during $name"; exit 1; }
    echo "   result: $(grep -vE '^[0-9]+\.[0-9]+$|^(SET|BEGIN|COMMIT)$' "$dir/call.out" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    python3 "$REPO_ROOT/bench/crawler_latency.py" "$name" $times "$dir"/crawl.*
  }
  for n in $RETENTION_SIZES; do
    p -q -d postgres -c "DROP DATABASE IF EXISTS bench_retention" -c "CREATE DATABASE bench_retention"
    p -q -d bench_retention -c "CREATE EXTENSION ims_crawler"
    echo "== retention: two old months of $n sessions each (2 links per session, an error per 10, an attachment and a search per 100)"
    p -d bench_retention -v n="$n" -f "$REPO_ROOT/bench/retention_load.sql"
    # One user's old sessions (both months), then another's by hand.
    window "delete_old_sessions(7, days): one user's rows" \
      "SELECT * FROM ims.delete_old_sessions(7, current_date - '2024-04-15'::date)"
    window "baseline: DELETE of one user's sessions (cascade)" \
      "WITH d AS (DELETE FROM ims.crawl_sessions WHERE user_id = 8 AND started_at < '2024-04-15' RETURNING 1) SELECT count(*) FROM d"
    p -q -d bench_retention -c "ANALYZE"
    window "delete_old_sessions(NULL, days): month 2024-01" \
      "SELECT * FROM ims.delete_old_sessions(NULL, current_date - '2024-02-15'::date)"
    upto=2024-03-01  # past the months removed
    if [ "$n" -le "${IMS_BENCH_RETENTION_BASELINE_MAX:-1000000}" ]; then
      upto=2024-04-01
      window "baseline: DELETE of month 2024-03 (cascade)" \
        "WITH d AS (DELETE FROM ims.crawl_sessions WHERE started_at >= '2024-03-01' AND started_at < '2024-04-01' RETURNING 1) SELECT count(*) FROM d"
    fi
    # Each did the whole job: nothing of the months removed is left anywhere.
    p -d bench_retention -c "SELECT (SELECT count(*) FROM ims.crawl_sessions WHERE started_at < '$upto') AS sessions_left,
        (SELECT count(*) FROM ims.session_issues WHERE session_started_at < '$upto') AS links_left,
        (SELECT count(*) FROM ims.session_errors WHERE session_started_at < '$upto') AS errors_left,
        (SELECT count(*) FROM ims.attachments WHERE session_started_at < '$upto') AS attachments_still_pointing,
        (SELECT count(*) FROM ims.search_queries WHERE session_started_at < '$upto') AS searches_still_pointing"
  done
  rm -rf "$work"
fi
if [[ " $PARTS " == *" upgrade "* ]]; then
  # ALTER EXTENSION UPDATE from the previous release on a database holding
  # sessions with links and errors (the retention data, in two months).
  cp "$REPO_ROOT"/sql/released/ims_crawler--*.sql "$("$(pg_bindir $V)/pg_config" --sharedir)/extension/"
  previous=$(ls "$REPO_ROOT"/sql/released/ | sed -E 's/ims_crawler--(.*)\.sql/\1/' | sort -V | tail -1)
  sessions=${IMS_BENCH_UPGRADE_SESSIONS:-1000000}
  p -q -d postgres -c "DROP DATABASE IF EXISTS bench_upgrade" -c "CREATE DATABASE bench_upgrade"
  p -q -d bench_upgrade -c "CREATE EXTENSION ims_crawler VERSION '$previous'"
  echo "== upgrade $previous -> current with $sessions sessions"
  p -q -d bench_upgrade -v n=$((sessions / 2)) -f "$REPO_ROOT/bench/retention_load.sql" >/dev/null
  rows="SELECT (SELECT count(*) FROM ims.crawl_sessions), (SELECT count(*) FROM ims.session_issues),
               (SELECT count(*) FROM ims.session_errors),
               (SELECT md5(string_agg(concat_ws(',', session_issue_id, session_id, issue_pk, action), ';' ORDER BY session_issue_id))
                  FROM ims.session_issues)"
  before=$(p -At -d bench_upgrade -c "$rows")
  p -At -d bench_upgrade -c "SET client_min_messages = warning" -c "SELECT extract(epoch FROM clock_timestamp())" \
    -c "ALTER EXTENSION ims_crawler UPDATE" -c "SELECT extract(epoch FROM clock_timestamp())" >"$DIR/upgrade.out"
  after=$(p -At -d bench_upgrade -c "$rows")
  [ "$before" = "$after" ] || { echo "FAIL: the upgrade changed rows: $before -> $after"; exit 1; }
  echo "sessions|links|errors|checksum before and after: $after"
  grep -E '^[0-9.]+$' "$DIR/upgrade.out" | tr '\n' ' ' | awk '{ printf "ALTER EXTENSION ims_crawler UPDATE: %.1f s\n", $2 - $1 }'
fi
if [[ " $PARTS " == *" relevance "* ]]; then
  # Graded queries per class, ims.search_issues against Kiwi + BM25 (bench/relevance.py).
  python3 -c "import kiwipiepy" 2>/dev/null || python3 -m pip install --quiet kiwipiepy
  p -q -d postgres -c "DROP DATABASE IF EXISTS bench_relevance" -c "CREATE DATABASE bench_relevance"
  p -q -d bench_relevance -c "CREATE EXTENSION ims_crawler"
  python3 "$REPO_ROOT/bench/relevance.py" "host=$DIR/sock port=$PORT user=postgres dbname=bench_relevance" \
    ${IMS_BENCH_VERBOSE:+--verbose}
fi
[[ " $PARTS " == *" search "* ]] || exit 0
for n in $SIZES; do
  p -q -d postgres -c "DROP DATABASE IF EXISTS bench_search" -c "CREATE DATABASE bench_search"
  p -q -d bench_search -c "CREATE EXTENSION ims_crawler"
  IMS_BENCH_DIR="$REPO_ROOT/bench" IMS_BENCH_PSQL="$(pg_bindir $V)/psql" IMS_PEER_DSN="host=$DIR/sock port=$PORT user=postgres dbname=bench_search" \
    p -d bench_search -v n="$n" -f "$REPO_ROOT/bench/search.sql"
done
