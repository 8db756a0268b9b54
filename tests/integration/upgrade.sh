#!/usr/bin/env bash
# Upgrade from the previous release: install 0.1.0 (its install script is
# kept in sql/released/), load data with it, ALTER EXTENSION ims_crawler
# UPDATE, then check that the catalog is exactly a fresh install's and the
# data survived (and is searchable).
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
current=$(grep -m1 '^version' "$repo/Cargo.toml" | cut -d'"' -f2)
sharedir=$(pg_config --sharedir)
cp "$repo/sql/released/ims_crawler--0.1.0.sql" "$sharedir/extension/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_upgrade_old" -c "DROP DATABASE IF EXISTS ims_upgrade_new" \
  -c "CREATE DATABASE ims_upgrade_old" -c "CREATE DATABASE ims_upgrade_new"

q -d ims_upgrade_old -o /dev/null <<'SQL'
CREATE EXTENSION ims_crawler VERSION '0.1.0';
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'kim', 'user'), (2, 'lee', 'user');
SELECT session_id FROM ims.start_session('OpenFrame', user_id => 1);
SELECT count(*) FROM ims.upsert_issues('[
  {"issue_id": "U-1", "title": "TJES 연결 타임아웃", "product": "OpenFrame",
   "comments": [{"comment_id": "1", "content": "ORA-00942 확인"}],
   "attachments": [{"file_name": "a.log", "checksum": "x", "extracted_text": "connection reset by peer"}]},
  {"issue_id": "U-2", "title": "Memory leak in JEUS", "product": "JEUS"}]',
  (SELECT max(session_id) FROM ims.crawl_sessions));
SELECT ims.log_error((SELECT max(session_id) FROM ims.crawl_sessions), 'timeout', 'x');
SELECT * FROM ims.finish_session((SELECT max(session_id) FROM ims.crawl_sessions));
SELECT ims.aggregate_daily_stats(current_date);
SQL
q -d ims_upgrade_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'ims_crawler'" | grep -qx 0.1.0
counts="SELECT (SELECT count(*) FROM ims.users), (SELECT count(*) FROM ims.crawl_sessions), (SELECT count(*) FROM ims.issues),
               (SELECT count(*) FROM ims.issue_comments), (SELECT count(*) FROM ims.attachments),
               (SELECT count(*) FROM ims.session_errors), (SELECT count(*) FROM ims.analytics_daily),
               (SELECT count(*) FROM ims.issue_history)"
before=$(q -d ims_upgrade_old -At -c "$counts")

q -d ims_upgrade_old -c "ALTER EXTENSION ims_crawler UPDATE"
version=$(q -d ims_upgrade_old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'ims_crawler'")
[ "$version" = "$current" ] || { echo "FAIL: updated to $version, expected $current"; exit 1; }
after=$(q -d ims_upgrade_old -At -c "$counts")
[ "$before" = "$after" ] || { echo "FAIL: row counts changed by the upgrade: $before -> $after"; exit 1; }
found=$(q -d ims_upgrade_old -At -c "SELECT string_agg(issue_id, ',' ORDER BY issue_id) FROM ims.search_issues('ORA-00942 연결')")
[ "$found" = "U-1" ] || { echo "FAIL: old data not searchable after the upgrade (got '$found')"; exit 1; }

q -d ims_upgrade_new -c "CREATE EXTENSION ims_crawler"
q -d ims_upgrade_old -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/upgraded.txt"
q -d ims_upgrade_new -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/fresh.txt"
if ! diff -u "$work/fresh.txt" "$work/upgraded.txt"; then
  echo "FAIL: the upgraded catalog differs from a fresh $current install (- fresh, + upgraded)"
  exit 1
fi
echo "upgrade 0.1.0 -> $current: data kept ($after), catalog identical to a fresh install ($(wc -l <"$work/fresh.txt") objects compared)"
q -d postgres -c "DROP DATABASE ims_upgrade_old" -c "DROP DATABASE ims_upgrade_new"
