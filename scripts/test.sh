#!/usr/bin/env bash
# Run every test on PostgreSQL 15, 16, 17 and 18 (or the versions in IMS_PG_VERSIONS):
#   1. cargo pgrx test: Rust unit tests and #[pg_test]s in a pgrx cluster;
#   2. pg_regress (tests/pg_regress) against a throwaway cluster;
#   3. integration tests (tests/integration/*.sh) against the same cluster:
#      real concurrent clients, pg_dump round trips, ...;
#   4. once all versions are done, pg_upgrade from 16 to 18 (tests/upgrade).
# Exits non-zero if anything fails. Usage: scripts/test.sh (or `make test`).
# For development: IMS_PG_VERSIONS="16" and IMS_ONLY="regress security_pools"
# (any of: pgrx, regress, regress:NAME for one pg_regress test, or an
# integration test's name) run a part of it (`make test-quick V=16 T="regress:search"`).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$REPO_ROOT/scripts/install-deps.sh" || die "installing dependencies failed"

VERSIONS=${IMS_PG_VERSIONS:-"15 16 17 18"}
REGRESS_TESTS=(setup schema partitions upsert sessions stats cleanup views search operations security drop)
ONLY=${IMS_ONLY:-}
wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
# regress:NAME runs one pg_regress test alone, after `setup`, in its own database.
selected=()
for t in $ONLY; do [[ $t == regress:* ]] && selected+=("${t#regress:}"); done
if [ ${#selected[@]} -gt 0 ]; then
  REGRESS_TESTS=(setup "${selected[@]}")
  ONLY="$ONLY regress"
fi
passed=0
failed=0
failures=()

record() { # record NAME EXIT_CODE
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); log "PASS $1"
  else failed=$((failed + 1)); failures+=("$1"); log "FAIL $1"; fi
}

for v in $VERSIONS; do
  bin=$(pg_bindir "$v")

  # 1. pgrx tests: pgrx-tests initdb's a cluster in --pgdata as `postgres`.
  if wanted pgrx; then
    pgrx_data="$REPO_ROOT/target/pgrx-test-data-$v"
    mkdir -p "$pgrx_data" && chown postgres: "$pgrx_data"
    (cd "$REPO_ROOT" && cargo pgrx test "pg$v" --runas postgres --pgdata "$pgrx_data")
    rc=$?
    record "pg$v cargo pgrx test" $rc
  fi

  # 2. pg_regress against a fresh cluster with the extension installed.
  install_extension "$v" debug || { record "pg$v install" 1; continue; }
  cdir="$REPO_ROOT/target/test-cluster-pg$v"
  port=$((56400 + v))
  cluster_stop "$cdir" "$v"
  rm -rf "$cdir"
  conf=("max_connections = 100" "ims.search_indexer = off")
  # Debian packages pg_cron for PostgreSQL 15: the scheduling test uses it.
  [ "$v" = 15 ] && conf+=("shared_preload_libraries = 'pg_cron'" "cron.database_name = 'ims_cron'")
  cluster_start "$v" "$cdir" "$port" "${conf[@]}"
  outdir="$REPO_ROOT/target/regress-out-pg$v"
  rm -rf "$outdir" && mkdir -p "$outdir"
  if wanted regress; then
    psql_at "$v" "$cdir" "$port" -q -c "CREATE DATABASE ims_regress" postgres
    regress_bin="$("$bin/pg_config" --pkglibdir)/pgxs/src/test/regress/pg_regress"
    "$regress_bin" --use-existing --bindir="$bin" --host="$cdir/sock" --port="$port" --user=postgres \
      --inputdir="$REPO_ROOT/tests/pg_regress" --outputdir="$outdir" --dbname=ims_regress \
      "${REGRESS_TESTS[@]}"
    rc=$?
    [ $rc -ne 0 ] && [ -f "$outdir/regression.diffs" ] && head -n 200 "$outdir/regression.diffs"
    record "pg$v pg_regress" $rc
  fi

  # 3. Integration tests, each gets the cluster's coordinates.
  for t in "$REPO_ROOT"/tests/integration/*.sh; do
    [ -e "$t" ] || continue
    wanted "$(basename "$t" .sh)" || continue
    IMS_PG_VERSION=$v IMS_PG_BIN=$bin PGHOST="$cdir/sock" PGPORT=$port PGUSER=postgres \
      IMS_CLUSTER_DIR=$cdir bash "$t"
    rc=$?  # before anything else can overwrite it
    record "pg$v $(basename "$t" .sh)" $rc
  done
  cluster_stop "$cdir" "$v"
done

# 4. pg_upgrade from 16 to 18, once both have been built and installed above.
if [[ " $VERSIONS " == *" 16 "* && " $VERSIONS " == *" 18 "* ]] && wanted pg_upgrade; then
  IMS_OLD_BIN=$(pg_bindir 16) IMS_NEW_BIN=$(pg_bindir 18) bash "$REPO_ROOT/tests/upgrade/pg_upgrade.sh"
  record "pg_upgrade 16 -> 18" $?
fi

echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
