#!/usr/bin/env bash
# Read scaling: a streaming replica of a populated cluster (pg_basebackup -R,
# both on this machine) answers search_issues, the views and get_user_stats
# exactly as the primary does, and the writing functions fail there with a
# read-only error.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
standby="$IMS_CLUSTER_DIR-standby"
sport=$((PGPORT + 100))
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
  runuser -u postgres -- pg_ctl -D "$standby/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$standby"
}
trap cleanup EXIT
cleanup

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_standby" -c "CREATE DATABASE ims_standby"
q -d ims_standby -o /dev/null -c "CREATE EXTENSION ims_crawler" -f "$repo/examples/sample_data.sql"

mkdir -p "$standby/sock" && chown -R postgres: "$standby"
runuser -u postgres -- pg_basebackup -h "$PGHOST" -p "$PGPORT" -U postgres -D "$standby/data" -R -X stream -c fast
cat >>"$standby/data/postgresql.conf" <<EOF
port = $sport
unix_socket_directories = '$standby/sock'
listen_addresses = ''
hot_standby = on
shared_preload_libraries = ''
EOF
runuser -u postgres -- pg_ctl -D "$standby/data" -l "$standby/server.log" -w -t 60 start >/dev/null
[ "$(psql -X -At -h "$standby/sock" -p $sport -d ims_standby -c 'SELECT pg_is_in_recovery()')" = t ] \
  || { echo "FAIL: the standby is not in recovery"; exit 1; }

# Wait until the standby has replayed everything the primary wrote.
target=$(q -d ims_standby -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
  done_=$(psql -X -At -h "$standby/sock" -p $sport -d ims_standby -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")
  [ "$done_" = t ] && break
  sleep 0.2
done

read_queries=$(cat <<'SQL'
SELECT issue_id, title, product, status, round(rank::numeric, 4), snippet FROM ims.search_issues('연결 타임아웃');
SELECT issue_id, round(rank::numeric, 4) FROM ims.search_issues('ORA-00942 OR TPECLOSE product:Tmax', NULL, 10);
SELECT issue_id, round(rank::numeric, 4) FROM ims.search_issues('memory leak', 'JEUS', 5);
SELECT * FROM ims.get_user_stats(2);
SELECT * FROM ims.v_user_dashboard ORDER BY user_id;
SELECT * FROM ims.v_product_statistics ORDER BY product;
SELECT * FROM ims.mv_product_stats ORDER BY product;
SELECT count(*), sum(total_sessions) FROM ims.analytics_daily;
SQL
)
q -d ims_standby -c "$read_queries" >/tmp/ims_primary.txt
psql -X -q -v ON_ERROR_STOP=1 -h "$standby/sock" -p $sport -d ims_standby -c "$read_queries" >/tmp/ims_standby.txt
diff -u /tmp/ims_primary.txt /tmp/ims_standby.txt || { echo "FAIL: the standby answers differently"; exit 1; }

# Writing functions fail with SQLSTATE 25006 (read_only_sql_transaction).
for stmt in "SELECT * FROM ims.upsert_issue('{\"issue_id\": \"X\"}')" \
            "SELECT * FROM ims.start_session('OpenFrame', user_id => 2)" \
            "SELECT ims.aggregate_daily_stats()" \
            "SELECT ims.refresh_materialized_views()" \
            "SELECT * FROM ims.ensure_partitions()" \
            "SELECT * FROM ims.delete_old_sessions(NULL, 1)"; do
  out=$(psql -X -q -h "$standby/sock" -p $sport -d ims_standby -v VERBOSITY=verbose -c "$stmt" 2>&1 || true)
  grep -q "ERROR:  25006" <<<"$out" || { echo "FAIL: '$stmt' on the standby: $out"; exit 1; }
done
echo "hot standby: $(grep -c '' /tmp/ims_primary.txt) lines of search, stats and view output identical; 6 writing functions refused (25006)"
q -d postgres -c "DROP DATABASE ims_standby"
