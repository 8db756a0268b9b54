#!/usr/bin/env bash
# The full reliability run (RELIABILITY.md): on PostgreSQL 15 and 16, a
# 60-second 16-client stress run with concurrent maintenance, 1,000
# malformed inputs per public function, and 10 rounds of SIGKILL under load.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$REPO_ROOT/scripts/install-deps.sh" >/dev/null
for v in ${IMS_PG_VERSIONS:-15 16}; do
  install_extension "$v" release
  dir="$REPO_ROOT/target/reliability-pg$v"
  port=$((56600 + v))
  cluster_stop "$dir" "$v"
  rm -rf "$dir"
  cluster_start "$v" "$dir" "$port" "max_connections = 100"
  export PATH="$(pg_bindir "$v"):$PATH" PGHOST="$dir/sock" PGPORT=$port PGUSER=postgres
  log "PostgreSQL $v: stress"
  bash "$REPO_ROOT/tests/reliability/stress.sh" "${IMS_STRESS_SECONDS:-60}"
  log "PostgreSQL $v: bad input"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ims_fuzz" -c "CREATE DATABASE ims_fuzz"
  psql -X -q -d ims_fuzz -c "CREATE EXTENSION ims_crawler"
  python3 "$REPO_ROOT/tests/reliability/bad_input.py" "${IMS_FUZZ_N:-1000}"
  cluster_stop "$dir" "$v"
  log "PostgreSQL $v: crashes"
  bash "$REPO_ROOT/tests/reliability/crash.sh" "$v" "${IMS_CRASH_ROUNDS:-10}"
done
