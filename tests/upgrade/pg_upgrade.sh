#!/usr/bin/env bash
# A major-version upgrade with pg_upgrade, PostgreSQL 16 -> 18 (both from the
# PyPI wheels, the extension built for each): a 16 cluster with the extension,
# sample data and 20,000 more issues is upgraded; the 18 cluster then has the
# same rows in every table and partition, answers searches with the same
# results from its posting lists (nothing waits for the search index, no
# manual rebuild) in milliseconds, and runs maintenance and new crawls.
# Usage: IMS_OLD_BIN=.../16/bin IMS_NEW_BIN=.../18/bin tests/upgrade/pg_upgrade.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
old_bin=$IMS_OLD_BIN new_bin=$IMS_NEW_BIN
port=${IMS_UPGRADE_PORT:-56480}
work=$(mktemp -d)
chown postgres: "$work"
as_pg() { (cd "$work" && runuser -u postgres -- "$@"); }
stop_all() {
  as_pg "$old_bin/pg_ctl" -D "$work/old" -m fast -w stop >/dev/null 2>&1 || true
  as_pg "$new_bin/pg_ctl" -D "$work/new" -m fast -w stop >/dev/null 2>&1 || true
}
trap 'stop_all; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
start() { # BIN DATADIR
  as_pg "$1/pg_ctl" -D "$2" -l "$work/$(basename "$2").log" -o "-p $port -k $work -c listen_addresses=''" -w start >/dev/null
}
q() { "$1/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" -p $port -U postgres "${@:2}"; }

for side in old new; do
  bin=$old_bin; [ $side = new ] && bin=$new_bin
  # data checksums on both sides (initdb 18 enables them by default)
  as_pg "$bin/initdb" -D "$work/$side" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --data-checksums >/dev/null
done

start "$old_bin" "$work/old"
q "$old_bin" -d postgres -c "CREATE DATABASE ims"
q "$old_bin" -d ims -o /dev/null -c "CREATE EXTENSION ims_crawler" -f "$repo/examples/sample_data.sql"
q "$old_bin" -d ims -o /dev/null <<'SQL'
INSERT INTO ims.issues (issue_id, title, description, product, status)
SELECT 'PGU-' || g, 'connection timeout in module ' || (g % 97),
       'server memory error while reading log ' || (g % 1013) || ' 메모리 누수 ' || md5(g::text),
       (ARRAY['OpenFrame', 'JEUS', 'Tibero'])[1 + g % 3], (ARRAY['open', 'closed'])[1 + g % 2]
  FROM generate_series(1, 20000) AS g;
SELECT ims.refresh_search_index();
SELECT ims.aggregate_daily_stats(current_date);
SQL
snapshot() { # BIN: every table's row count and checksum, then search results
  q "$1" -d ims -At <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), '''') FROM %s t',
              c.relname, c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind = 'r' ORDER BY c.relname
\gexec
SELECT 'search ' || string_agg(issue_id || ':' || rank::numeric(10,4), ',') FROM ims.search_issues('memory', NULL, 20);
SELECT 'search ' || string_agg(issue_id || ':' || rank::numeric(10,4), ',') FROM ims.search_issues('연결 타임아웃 OR 메모리', 'OpenFrame', 20);
SQL
}
snapshot "$old_bin" >"$work/before.txt"
as_pg "$old_bin/pg_ctl" -D "$work/old" -m fast -w stop >/dev/null

if ! as_pg "$new_bin/pg_upgrade" -b "$old_bin" -B "$new_bin" -d "$work/old" -D "$work/new" -p $port -P $((port + 1)) \
       -U postgres >"$work/pg_upgrade.out" 2>&1; then
  cat "$work/pg_upgrade.out"; fail "pg_upgrade failed"
fi
start "$new_bin" "$work/new"
version=$(q "$new_bin" -d ims -At -c "SHOW server_version")
snapshot "$new_bin" >"$work/after.txt"
diff -u "$work/before.txt" "$work/after.txt" || fail "data or search results differ after pg_upgrade (- before, + after)"
pending=$(q "$new_bin" -d ims -At -c "SELECT ims.search_index_pending()")
[ "$pending" = 0 ] || fail "$pending issues wait for the search index after pg_upgrade"
ms=$(q "$new_bin" -d ims -At <<'SQL' | grep -o '[0-9.]*' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
\timing on
\o /dev/null
SELECT * FROM ims.search_issues('memory', NULL, 20);
SELECT * FROM ims.search_issues('memory', NULL, 20);
SELECT * FROM ims.search_issues('memory', NULL, 20);
SELECT * FROM ims.search_issues('memory', NULL, 20);
SELECT * FROM ims.search_issues('memory', NULL, 20);
SQL
)
echo "search after pg_upgrade: median ${ms} ms for a word in 20,000 issues (no rebuild)"
awk -v m="$ms" 'BEGIN { exit !(m < 200) }' || fail "search took ${ms} ms after pg_upgrade: the posting lists are not used"
q "$new_bin" -d ims -o /dev/null <<'SQL'
SELECT ims.aggregate_daily_stats(current_date);
SELECT ims.refresh_materialized_views();
SELECT * FROM ims.ensure_partitions(4);
SELECT * FROM ims.upsert_issue('{"issue_id": "PGU-NEW", "title": "after the upgrade"}',
                               (SELECT session_id FROM ims.start_session('OpenFrame', user_id => 2)));
DO $$ BEGIN
  IF (SELECT count(*) FROM ims.search_issues('upgrade')) <> 1 THEN RAISE EXCEPTION 'new issue not found'; END IF;
END $$;
SQL
echo "pg_upgrade 16 -> $version: $(grep -c . "$work/after.txt") tables and searches identical, search index usable, maintenance and new crawls work"
