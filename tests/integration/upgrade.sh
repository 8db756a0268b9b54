#!/usr/bin/env bash
# Upgrade from each previous release: install it (its install script is kept
# in sql/released/), load data with it, ALTER EXTENSION ims_crawler UPDATE,
# then check that the catalog is exactly a fresh install's and the data
# survived (and is searchable). From 0.2.0, a pooled login that asserted
# identities (a member of ims_app) keeps working: the upgrade trusts it in
# this database with an ims.users row of role 'app'; and a schema ims that
# 0.2.0 adopted from a non-superuser is taken back, a planted function named.
# From 0.3.0 (the pool trusted by its ims.users row), vectors are recomputed:
# an inflected Korean word stored before the upgrade is found by its stem.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
repo=$(cd "$(dirname "$0")/../.." && pwd)
current=$(grep -m1 '^version' "$repo/Cargo.toml" | cut -d'"' -f2)
sharedir=$(pg_config --sharedir)
cp "$repo"/sql/released/ims_crawler--*.sql "$sharedir/extension/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ims_upgrade_new" -c "CREATE DATABASE ims_upgrade_new"
q -d ims_upgrade_new -c "CREATE EXTENSION ims_crawler"
q -d ims_upgrade_new -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/fresh.txt"
q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS ims_upgrade_pool" -c "CREATE ROLE ims_upgrade_pool LOGIN IN ROLE ims_app" \
  -c "DROP ROLE IF EXISTS ims_upgrade_owner" -c "CREATE ROLE ims_upgrade_owner"

for from in 0.1.0 0.2.0 0.3.0 0.4.0 0.5.0 0.6.0 0.7.0 0.8.0 0.9.0 0.10.0; do
  db=ims_upgrade_from_${from//./_}
  minor=${from#0.}; minor=${minor%.0} # 0.10.0 -> 10
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  if [ "$from" = 0.2.0 ]; then
    # 0.2.0 adopted a schema ims made beforehand by someone else, overload included.
    q -d $db -c "CREATE SCHEMA ims AUTHORIZATION ims_upgrade_owner" \
      -c "CREATE FUNCTION ims.delete_old_sessions(text, integer) RETURNS void LANGUAGE sql AS 'SELECT'"
  fi
  q -d $db -o /dev/null <<SQL
CREATE EXTENSION ims_crawler VERSION '$from';
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'kim', 'user'), (2, 'lee', 'user');
$( (( minor >= 3 )) && echo "INSERT INTO ims.users (user_id, username, role, db_role) VALUES (3, 'upgrade_pool', 'app', 'ims_upgrade_pool');" )
SELECT session_id FROM ims.start_session('OpenFrame', user_id => 1);
SELECT count(*) FROM ims.upsert_issues('[
  {"issue_id": "U-1", "title": "TJES 연결 타임아웃", "product": "OpenFrame",
   "comments": [{"comment_id": "1", "content": "ORA-00942 확인"}],
   "attachments": [{"file_name": "a.log", "checksum": "x", "extracted_text": "connection reset by peer"}]},
  {"issue_id": "U-2", "title": "Memory leak in JEUS", "product": "JEUS"},
  {"issue_id": "U-3", "title": "로그인 화면에서 한글이 깨집니다", "product": "OpenFrame"}]',
  (SELECT max(session_id) FROM ims.crawl_sessions));
SELECT ims.log_error((SELECT max(session_id) FROM ims.crawl_sessions), 'timeout', 'x');
SELECT * FROM ims.finish_session((SELECT max(session_id) FROM ims.crawl_sessions));
SELECT ims.aggregate_daily_stats(current_date);
-- A session of a month with no partition (it waits in DEFAULT), with links and an error.
INSERT INTO ims.crawl_sessions (user_id, started_at, status, finished_at)
VALUES (2, now() - interval '70 days', 'completed', now() - interval '70 days');
SELECT count(*) FROM ims.upsert_issues('[{"issue_id": "U-1"}, {"issue_id": "U-4", "title": "old month"}]',
  (SELECT max(session_id) FROM ims.crawl_sessions WHERE user_id = 2));
SELECT ims.log_error((SELECT max(session_id) FROM ims.crawl_sessions WHERE user_id = 2), 'timeout', 'old');
SQL
  [ "$(q -d $db -At -c "SELECT extversion FROM pg_extension WHERE extname = 'ims_crawler'")" = "$from" ]
  counts="SELECT (SELECT count(*) FROM ims.users WHERE role <> 'app'), (SELECT count(*) FROM ims.crawl_sessions),
                 (SELECT count(*) FROM ims.issues), (SELECT count(*) FROM ims.issue_comments), (SELECT count(*) FROM ims.attachments),
                 (SELECT count(*) FROM ims.session_errors), (SELECT count(*) FROM ims.analytics_daily),
                 (SELECT count(*) FROM ims.issue_history),
                 (SELECT md5(string_agg(concat_ws(',', session_issue_id, session_id, session_started_at, user_id, issue_pk, action),
                                        ';' ORDER BY session_issue_id)) FROM ims.session_issues),
                 (SELECT md5(string_agg(concat_ws(',', error_id, session_id, session_started_at, user_id, error_type, error_message),
                                        ';' ORDER BY error_id)) FROM ims.session_errors)"
  # An administrator's synonym row that a later version ships.
  (( minor >= 10 )) && q -d $db -o /dev/null \
    -c "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('매니지드', 'managed')"
  before=$(q -d $db -At -c "$counts")
  # Upgrades to 0.4.0 rebuild the search index; later ones leave it as it was.
  want_pending=0
  (( minor >= 4 )) && want_pending=$(q -d $db -At -c "SELECT ims.search_index_pending()")

  q -d $db -c "ALTER EXTENSION ims_crawler UPDATE" 2>"$work/notices.txt" \
    || { cat "$work/notices.txt"; echo "FAIL: ALTER EXTENSION ims_crawler UPDATE from $from"; exit 1; }
  cat "$work/notices.txt"
  version=$(q -d $db -At -c "SELECT extversion FROM pg_extension WHERE extname = 'ims_crawler'")
  [ "$version" = "$current" ] || { echo "FAIL: updated $from to $version, expected $current"; exit 1; }
  after=$(q -d $db -At -c "$counts")
  [ "$before" = "$after" ] || { echo "FAIL: row counts changed by the upgrade from $from: $before -> $after"; exit 1; }
  found=$(q -d $db -At -c "SELECT string_agg(issue_id, ',' ORDER BY issue_id) FROM ims.search_issues('ORA-00942 연결')")
  [ "$found" = "U-1" ] || { echo "FAIL: old data not searchable after the upgrade from $from (got '$found')"; exit 1; }
  found=$(q -d $db -At -c "SELECT string_agg(issue_id, ',' ORDER BY issue_id) FROM ims.search_issues('한글 깨짐')")
  pending=$(q -d $db -At -c "SELECT ims.search_index_pending()")
  [ "$found" = "U-3" ] && [ "$pending" = "$want_pending" ] \
    || { echo "FAIL: after the upgrade from $from, '한글 깨짐' found '$found' (want U-3), $pending issues pending (want $want_pending)"; exit 1; }
  # The session waiting in DEFAULT moves into its month with its links and
  # error; then retention drops that month as a whole.
  q -d $db -o /dev/null -c "SET client_min_messages = warning" -c "SELECT count(*) FROM ims.ensure_partitions(3)"
  moved=$(q -d $db -At -c "$counts")
  [ "$moved" = "$after" ] || { echo "FAIL: ensure_partitions after the upgrade from $from changed rows: $after -> $moved"; exit 1; }
  dropped=$(q -d $db -At -c "SET client_min_messages = warning" -c "SELECT concat_ws('|', deleted_sessions, deleted_errors, deleted_links)
                                  FROM ims.delete_old_sessions(NULL::bigint, 30)")
  [ "$dropped" = "1|1|2" ] || { echo "FAIL: retention after the upgrade from $from removed $dropped (want 1 session, 1 error, 2 links)"; exit 1; }
  # The pool that was a member of ims_app before the upgrade still asserts,
  # for one transaction.
  seen=$(psql -X -At -v ON_ERROR_STOP=1 -U ims_upgrade_pool -d $db \
           -c "BEGIN" -c "SELECT ims.set_current_user(1)" -c "SELECT count(*) FROM ims.crawl_sessions" -c "COMMIT" \
           -c "SELECT count(*) FROM ims.crawl_sessions" | grep -E '^[0-9]+$' | tr '\n' ' ')
  [ "$seen" = "1 0 " ] || { echo "FAIL: the pool after the upgrade from $from saw '$seen' sessions (want 1 asserted, then 0)"; exit 1; }
  (( minor >= 3 )) || grep -q "application login ims_upgrade_pool" "$work/notices.txt" \
    || { echo "FAIL: the upgrade from $from did not say it trusted ims_upgrade_pool"; exit 1; }

  if [ "$from" = 0.2.0 ]; then
    grep -q "schema ims was owned by ims_upgrade_owner" "$work/notices.txt" \
      && grep -q "not part of the extension: ims.delete_old_sessions(text, integer)" "$work/notices.txt" \
      || { echo "FAIL: the upgrade did not take back schema ims or name the planted function"; exit 1; }
    owner_super=$(q -d $db -At -c "SELECT r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'ims'")
    [ "$owner_super" = t ] || { echo "FAIL: schema ims still belongs to a non-superuser after the upgrade"; exit 1; }
    q -d $db -c "DROP FUNCTION ims.delete_old_sessions(text, integer)"
  fi
  q -d $db -f "$repo/tests/integration/lib/catalog_snapshot.sql" >"$work/upgraded.txt"
  if ! diff -u "$work/fresh.txt" "$work/upgraded.txt"; then
    echo "FAIL: the catalog upgraded from $from differs from a fresh $current install (- fresh, + upgraded)"
    exit 1
  fi
  echo "upgrade $from -> $current: data kept ($after), pool still asserts, catalog identical to a fresh install ($(wc -l <"$work/fresh.txt") objects compared)"
  q -d postgres -c "DROP DATABASE $db"
done
# 0.8.0 accepted a 2.7 KB priority, which then broke every build of the
# search index. The update keeps the row, adds the constraint NOT VALID with
# a WARNING that says what to fix, and indexing works again.
db=ims_upgrade_legacy
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# (Plain SQL: the library installed is this version's, whose upsert refuses it.)
q -d $db -o /dev/null -c "CREATE EXTENSION ims_crawler VERSION '0.8.0'" \
  -c "INSERT INTO ims.issues (issue_id, title, priority) VALUES ('L-1', 'legacy wombat', repeat('p', 2700))"
q -d $db -c "ALTER EXTENSION ims_crawler UPDATE" 2>"$work/notices.txt" \
  || { cat "$work/notices.txt"; echo "FAIL: ALTER EXTENSION ims_crawler UPDATE with a 2.7 KB priority"; exit 1; }
grep -q "1 issues have a priority longer than 256 bytes" "$work/notices.txt" \
  || { cat "$work/notices.txt"; echo "FAIL: the update did not warn about the long priority"; exit 1; }
state=$(q -d $db -At -c "SELECT string_agg(conname || ':' || convalidated, ',' ORDER BY conname) FROM pg_constraint
                          WHERE conrelid = 'ims.issues'::regclass AND conname ~ '^issues_(product|module|status|priority)_check$'")
[ "$state" = "issues_module_check:true,issues_priority_check:false,issues_product_check:true,issues_status_check:true" ] \
  || { echo "FAIL: filter constraints after the update: $state"; exit 1; }
q -d $db -o /dev/null -c "SELECT ims.refresh_search_index()" || { echo "FAIL: the search index does not build after the update"; exit 1; }
found=$(q -d $db -At -c "SELECT issue_id FROM ims.search_issues('wombat')")
[ "$found" = L-1 ] || { echo "FAIL: the legacy issue is not found after the update (got '$found')"; exit 1; }
echo "upgrade 0.8.0 -> $current with a 2.7 KB priority: kept, constraint NOT VALID with a warning, the index builds"
q -d postgres -c "DROP DATABASE $db"

q -d postgres -c "DROP DATABASE ims_upgrade_new" -c "DROP ROLE ims_upgrade_pool" -c "DROP ROLE ims_upgrade_owner"
