#!/usr/bin/env bash
# The search indexer's life as a user sees it, with nobody scheduling
# anything: the first upsert starts it and it builds the search index; a
# load larger than the index goes into segments and makes it rebuild the
# base in a second worker; it leaves when there is nothing to do, so that
# a plain DROP DATABASE works; a search that meets issues written by plain
# SQL starts it again.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_indexer_life
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
# wait_for SECONDS SQL: until the query returns t
wait_for() {
  local end=$((SECONDS + $1))
  while [ "$(q -c "$2")" != t ]; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}
indexers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ims search indexer' AND datname = '$db'"
load() { # FROM TO: issues with the word 'quokka' and a word of their own
  q -c "SELECT count(*) FROM ims.upsert_issues((
          SELECT jsonb_agg(jsonb_build_object('issue_id', 'L-' || g, 'title', 'quokka habitat ' || g,
                                              'description', 'seen near burrow' || g))
            FROM generate_series($1, $2) g))" >/dev/null
}

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  -c "ALTER DATABASE $db SET ims.search_indexer = on"  # off in the test cluster
q -c "CREATE EXTENSION ims_crawler"

# The first upsert starts the indexer; its first round builds the base.
load 1 200
wait_for 15 "SELECT ($indexers) = 1" || fail "no search indexer started after the first upsert"
wait_for 15 "SELECT ims.search_index_pending() = 0 AND (SELECT issues FROM ims.search_index_segments() WHERE segment = 0) = 200" \
  || fail "the indexer did not build the base: $(q -c "SELECT ims.search_index_pending()") pending"
echo "first upsert: indexer started, base of 200 issues built"

# Three times as many: segments first, then the base is rebuilt in a second worker.
load 201 800
wait_for 30 "SELECT ims.search_index_pending() = 0 AND (SELECT issues FROM ims.search_index_segments() WHERE segment = 0) = 800" \
  || fail "the base was not rebuilt: $(q -c "SELECT string_agg(segment || ':' || issues, ' ') FROM ims.search_index_segments()")"
[ "$(q -c "SELECT count(*) FROM ims.search_issues('quokka', NULL, 1000)")" = 800 ] || fail "not every issue found after the rebuild"
[ "$(q -c "SELECT issue_id FROM ims.search_issues('burrow777')")" = L-777 ] || fail "L-777 not found by its own word"
echo "load of 600 more: base rebuilt to 800 issues by the indexer, all found"

# Idle, it leaves; a plain DROP DATABASE then works (checked at the end).
wait_for 30 "SELECT ($indexers) = 0" || fail "the indexer is still connected after 30 s without work"
echo "idle: the indexer left"

# Issues written by plain SQL, then a search: the search starts it again.
q -c "INSERT INTO ims.issues (issue_id, title) SELECT 'P-' || g, 'platypus sighting ' || g FROM generate_series(1, 50) g"
[ "$(q -c "SELECT count(*) FROM ims.search_issues('platypus', NULL, 100)")" = 50 ] || fail "pending issues not found"
wait_for 15 "SELECT ims.search_index_pending() = 0" || fail "a search did not start the indexer again"
[ "$(q -c "SELECT count(*) FROM ims.search_issues('platypus', NULL, 100)")" = 50 ] || fail "indexed issues not found"
echo "a search that met unindexed issues started it again; they were indexed"

wait_for 30 "SELECT ($indexers) = 0" || fail "the indexer is still connected after 30 s without work"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE $db" || fail "DROP DATABASE (without FORCE) failed"
echo "search indexer: started by a write and by a search, rebuilt the base, left when idle, DROP DATABASE works"
