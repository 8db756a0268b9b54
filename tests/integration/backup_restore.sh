#!/usr/bin/env bash
# A populated database restored with the plain tools backup jobs and DBAs
# run, each into a fresh database:
#   pg_dump -Fc + pg_restore -d;  pg_restore --single-transaction --exit-on-error;
#   pg_dump (SQL) | psql -v ON_ERROR_STOP=1;  scripts/ims-restore.sh.
# Each exits 0 with no error; every table and partition (including
# partitions created after CREATE EXTENSION) has the same row count and
# checksum, sequences are past their tables' maximum ids, the catalog is the
# same, the search index is built (no issue waiting for it), and the
# restored database works (search, upserts, a new session).
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
pg_dump -d ims_backup_src -f "$work/ims.sql"
q -d ims_backup_src -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/cat_src.txt"

# restore MODE DATABASE: restore the dump into a fresh DATABASE that way.
restore() {
  case $1 in
    pg_restore) pg_restore -d "$2" "$work/ims.dump" ;;
    single_transaction) pg_restore --single-transaction --exit-on-error -d "$2" "$work/ims.dump" ;;
    psql) psql -X -q -v ON_ERROR_STOP=1 -d "$2" -f "$work/ims.sql" >/dev/null ;;
    ims_restore) bash "$repo/scripts/ims-restore.sh" "$work/ims.dump" "$2" ;;
  esac
}

for mode in pg_restore single_transaction psql ims_restore; do
  db=ims_backup_dst
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  if ! restore $mode $db 2>"$work/restore.err"; then
    cat "$work/restore.err"; echo "FAIL: $mode exited non-zero"; exit 1
  fi
  if grep -qi "error" "$work/restore.err"; then
    cat "$work/restore.err"; echo "FAIL: $mode reported errors"; exit 1
  fi
  checksums $db >"$work/dst.txt"
  if ! diff -u "$work/src.txt" "$work/dst.txt"; then
    echo "FAIL: data restored by $mode differs (- source, + restored)"; exit 1
  fi
  partitions=$(grep -c '^crawl_sessions_[0-9]' "$work/dst.txt")

  # Sequences past the largest id of their column.
  q -d $db -At <<'SQL' >"$work/seq.txt"
SELECT format('SELECT CASE WHEN (SELECT last_value FROM %s) >= coalesce((SELECT max(%I) FROM %s), 0) THEN NULL ELSE %L END',
              s.seq, s.col, s.tbl, s.seq || ' behind ' || s.tbl || '.' || s.col)
  FROM (SELECT pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq, a.attname AS col, c.oid::regclass AS tbl
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
         WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition) s
 WHERE s.seq IS NOT NULL
\gexec
SQL
  if grep -q behind "$work/seq.txt"; then cat "$work/seq.txt"; echo "FAIL: $mode left a sequence behind its table"; exit 1; fi

  q -d $db -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/cat_dst.txt"
  diff -u "$work/cat_src.txt" "$work/cat_dst.txt" || { echo "FAIL: catalog restored by $mode differs"; exit 1; }

  # The search index was built by the restore itself: nothing waits for it.
  pending=$(q -d $db -At -c "SELECT ims.search_index_pending()")
  [ "$pending" = 0 ] || { echo "FAIL: after $mode, $pending issues wait for the search index"; exit 1; }

  # The restored database works.
  q -d $db -o /dev/null <<'SQL'
DO $$
BEGIN
    IF (SELECT count(*) FROM ims.search_issues('연결 타임아웃')) = 0 THEN
        RAISE EXCEPTION 'search finds nothing after restore';
    END IF;
    PERFORM ims.upsert_issue('{"issue_id": "IMS-AFTER-RESTORE", "title": "restored ok"}',
                             (SELECT session_id FROM ims.start_session('OpenFrame', user_id => 2)));
    IF (SELECT count(*) FROM ims.search_issues('restored')) <> 1 THEN
        RAISE EXCEPTION 'a new issue is not found after restore';
    END IF;
END $$;
SELECT ims.refresh_materialized_views();
SQL
  tables=$(wc -l <"$work/dst.txt")
  echo "backup/restore with $mode: exit 0, no error; $tables tables and partitions ($partitions monthly) identical, sequences ahead, catalog identical, search index built"
  q -d postgres -c "DROP DATABASE $db"
done
q -d postgres -c "DROP DATABASE ims_backup_src"
