#!/usr/bin/env bash
# Benchmarks (not tests): a release build in a throwaway PostgreSQL 16 under
# .bench/, each figure next to a baseline measured in the same run.
#   scripts/bench.sh                 # functions + search at 10k and 100k issues
#   IMS_BENCH_SEARCH_SIZES="10000 100000 1000000" scripts/bench.sh
#   IMS_BENCH_PARTS=search scripts/bench.sh      # only one part
# Results are recorded in BENCHMARKS.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
V=16
PORT=${IMS_BENCH_PORT:-55499}
DIR="$REPO_ROOT/.bench/pg$V"
SIZES=${IMS_BENCH_SEARCH_SIZES:-"10000 100000"}
PARTS=${IMS_BENCH_PARTS:-"functions search"}

bash "$REPO_ROOT/scripts/install-deps.sh" >/dev/null
install_extension "$V" release
cluster_stop "$DIR" "$V"
rm -rf "$DIR"
cluster_start "$V" "$DIR" "$PORT" "shared_buffers = 2GB" "work_mem = 64MB" "maintenance_work_mem = 1GB" \
  "max_wal_size = 8GB" "checkpoint_timeout = 30min" "autovacuum = off" "jit = off"
trap 'cluster_stop "$DIR" "$V"' EXIT
p() { psql_at "$V" "$DIR" "$PORT" "$@"; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $V; $(date -u +%F)"
if [[ " $PARTS " == *" functions "* ]]; then
  p -q -d postgres -c "CREATE DATABASE bench_functions"
  p -q -d bench_functions -c "CREATE EXTENSION ims_crawler"
  p -d bench_functions -f "$REPO_ROOT/bench/functions.sql"
fi
[[ " $PARTS " == *" search "* ]] || exit 0
for n in $SIZES; do
  p -q -d postgres -c "DROP DATABASE IF EXISTS bench_search" -c "CREATE DATABASE bench_search"
  p -q -d bench_search -c "CREATE EXTENSION ims_crawler"
  IMS_BENCH_DIR="$REPO_ROOT/bench" IMS_PEER_DSN="host=$DIR/sock port=$PORT user=postgres dbname=bench_search" \
    p -d bench_search -v n="$n" -f "$REPO_ROOT/bench/search.sql"
done
