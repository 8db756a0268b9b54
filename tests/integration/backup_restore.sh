#!/usr/bin/env bash
# pg_dump -Fc of a populated database, pg_restore into a fresh one: the
# restore reports no error, every table and partition (including partitions
# created after CREATE EXTENSION) has the same row count and checksum,
# sequences are past their tables' maximum ids, the catalog is the same,
# and the restored database works (search, upserts, a new session).
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_backup_src" \
  -c "DROP DATABASE IF EXISTS ims_backup_dst" -c "CREATE DATABASE ims_backup_src" -c "CREATE DATABASE ims_backup_dst"
q -d ims_backup_src -o /dev/null -c "CREATE EXTENSION ims_crawler" -f "$repo/examples/sample_data.sql"
q -d ims_backup_src -o /dev/null -c "SELECT * FROM ims.ensure_partitions(8)"

checksums() { # one line per table and partition: name, rows, checksum of all rows
  q -d "$1" -At <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), '''') FROM %s t',
              c.relname, c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind = 'r' ORDER BY c.relname
\gexec
SQL
}
checksums ims_backup_src >"$work/src.txt"

pg_dump -Fc -d ims_backup_src -f "$work/ims.dump"
bash "$repo/scripts/ims-restore.sh" "$work/ims.dump" ims_backup_dst
checksums ims_backup_dst >"$work/dst.txt"
if ! diff -u "$work/src.txt" "$work/dst.txt"; then
  echo "FAIL: restored data differs (- source, + restored)"; exit 1
fi
partitions=$(grep -c '^crawl_sessions_[0-9]' "$work/dst.txt")

# Sequences past the largest id of their column.
q -d ims_backup_dst -At <<'SQL' >"$work/seq.txt"
SELECT format('SELECT CASE WHEN (SELECT last_value FROM %s) >= coalesce((SELECT max(%I) FROM %s), 0) THEN NULL ELSE %L END',
              s.seq, s.col, s.tbl, s.seq || ' behind ' || s.tbl || '.' || s.col)
  FROM (SELECT pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq, a.attname AS col, c.oid::regclass AS tbl
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
         WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition) s
 WHERE s.seq IS NOT NULL
\gexec
SQL
if grep -q behind "$work/seq.txt"; then cat "$work/seq.txt"; echo "FAIL: a sequence is behind its table"; exit 1; fi

q -d ims_backup_src -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/cat_src.txt"
q -d ims_backup_dst -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/cat_dst.txt"
diff -u "$work/cat_src.txt" "$work/cat_dst.txt" || { echo "FAIL: restored catalog differs"; exit 1; }

# The restored database works.
q -d ims_backup_dst -o /dev/null <<'SQL'
SELECT ims.refresh_materialized_views();
DO $$
BEGIN
    IF (SELECT count(*) FROM ims.search_issues('연결 타임아웃')) = 0 THEN
        RAISE EXCEPTION 'search finds nothing after restore';
    END IF;
    PERFORM ims.upsert_issue('{"issue_id": "IMS-AFTER-RESTORE", "title": "restored ok"}',
                             (SELECT session_id FROM ims.start_session('OpenFrame', user_id => 2)));
END $$;
SQL
tables=$(wc -l <"$work/dst.txt")
echo "backup/restore: $tables tables and partitions ($partitions monthly) identical, sequences ahead, catalog identical"
q -d postgres -c "DROP DATABASE ims_backup_src" -c "DROP DATABASE ims_backup_dst"
