#!/usr/bin/env bash
# Nothing one login does can stop search or reach another (issue #23): each
# attack as a hostile or careless login would make it, with real psql
# sessions, and what must happen instead.
#   1. an oversized priority/product refused (22001 / 23514); a legacy one
#      never stops indexing
#   2. ims_admin cannot plant a trigger (or TRUNCATE) on any ims table
#   3. pg_advisory_lock on the indexer's old keys stalls nothing; a busy
#      round makes update_search_index wait at most lock_timeout (55P03)
#   4. huge queries and product arguments refused before normalising
#   5. ims.search_cache_size is superuser-only
#   6. DISCARD ALL / RESET / ROLLBACK TO SAVEPOINT end a session identity
#      for good, even when the old token is set again
#   7. the restore hook skips nothing of a superuser's own conflicting DDL
#   8. no Rust backtrace reaches a client when RUST_BACKTRACE is set
#   9. snippets are HTML-escaped
#  10. one SQLSTATE (23503) for a session or user that does not exist
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_isolation
work=$(mktemp -d)
chown postgres: "$work"
spare_port=$((PGPORT + 2000))
cleanup() {
  [ -f "$work/spare/data/postmaster.pid" ] \
    && runuser -u postgres -- pg_ctl -D "$work/spare/data" -m immediate stop >/dev/null 2>&1 || true
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# as ROLE [psql args...]: a psql session of that login in the test database
as() { local role=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -U "$role" -d $db "$@"; }
q() { as postgres "$@"; }
# sqlstate_of ROLE SQL...: the SQLSTATE of the first error the statements raise ("none" if none)
sqlstate_of() {
  local role=$1 out; shift
  local args=()
  for s in "$@"; do args+=(-c "$s"); done
  out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -U "$role" -d $db "${args[@]}" 2>&1) && { echo none; return; }
  grep -oE '^(psql:[^ ]* )?ERROR:  [0-9A-Z]{5}' <<<"$out" | head -1 | grep -oE '[0-9A-Z]{5}$' || echo "?: $out"
}
expect_state() { # expect_state WANT WHAT ROLE SQL...
  local want=$1 what=$2; shift 2
  local got; got=$(sqlstate_of "$@")
  [ "$got" = "$want" ] || fail "$what: SQLSTATE $got, want $want"
}

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db WITH (FORCE);
CREATE DATABASE $db;
ALTER DATABASE $db SET ims.search_indexer = on;
\c $db
CREATE EXTENSION ims_crawler;
DROP ROLE IF EXISTS ims_it_user; DROP ROLE IF EXISTS ims_it_admin;
DROP ROLE IF EXISTS ims_it_app; DROP ROLE IF EXISTS ims_it_anyone;
CREATE ROLE ims_it_user LOGIN IN ROLE ims_user;
CREATE ROLE ims_it_admin LOGIN IN ROLE ims_admin;
CREATE ROLE ims_it_app LOGIN IN ROLE ims_app;
CREATE ROLE ims_it_anyone LOGIN;
SQL
q -o /dev/null <<SQL
INSERT INTO ims.users (user_id, username, role, db_role) VALUES (1, 'kim', 'user', 'ims_it_user'),
  (2, 'lee', 'user', NULL), (3, 'pool', 'app', 'ims_it_app');
SQL
session=$(as ims_it_user -c "SELECT session_id FROM ims.start_session('OpenFrame')")

# 1. Oversized filter values.
expect_state 22001 "an ims_user upsert with a 2.7 KB priority" ims_it_user \
  "SELECT ims.upsert_issue(jsonb_build_object('issue_id', 'H-1', 'title', 'x', 'priority', repeat('p', 2700)), $session)"
expect_state 22001 "an upsert with a 300-byte product" ims_it_user \
  "SELECT ims.upsert_issue(jsonb_build_object('issue_id', 'H-1', 'product', repeat('가', 100)), $session)"
[ "$(q -c "SELECT count(*) FROM ims.issues WHERE issue_id = 'H-1'")" = 0 ] || fail "a refused upsert wrote its issue"
expect_state 23514 "plain SQL inserting a 300-byte module" postgres \
  "INSERT INTO ims.issues (issue_id, module) VALUES ('H-2', repeat('m', 300))"
# A value stored before the constraints existed (an upgraded 0.8.0 database):
# indexing goes on without it, into a segment and into the base.
as ims_it_user -o /dev/null -c "SELECT ims.upsert_issue('{\"issue_id\": \"H-4\", \"title\": \"fresh quokka\"}', $session)"
q -o /dev/null -c "SELECT ims.refresh_search_index()"
q -c "ALTER TABLE ims.issues DROP CONSTRAINT issues_priority_check" \
  -c "INSERT INTO ims.issues (issue_id, title, priority) VALUES ('H-3', 'legacy quokka', repeat('p', 2700))" \
  -c "ALTER TABLE ims.issues ADD CONSTRAINT issues_priority_check CHECK (pg_catalog.octet_length(priority) <= 256) NOT VALID"
q -o /dev/null -c "SELECT * FROM ims.update_search_index()" || fail "update_search_index failed on a legacy 2.7 KB priority"
[ "$(q -c "SELECT ims.search_index_pending()")" = 0 ] || fail "issues still pending after a round"
q -o /dev/null -c "SELECT ims.refresh_search_index()" || fail "refresh_search_index failed on a legacy 2.7 KB priority"
[ "$(as ims_it_user -c "SELECT string_agg(issue_id, ',' ORDER BY issue_id) FROM ims.search_issues('quokka')")" = "H-3,H-4" ] \
  || fail "the legacy issue or the new one is not found"
echo "1. oversized filter values refused (22001, 23514); a legacy one left out of the index, indexing goes on"

# 2. ims_admin: no TRIGGER, REFERENCES or TRUNCATE anywhere in ims.
q -o /dev/null -c "SELECT count(*) FROM ims.ensure_partitions(1)"
# (MAINTAIN exists from PostgreSQL 17: LOCK TABLE in any mode, REINDEX.)
extra=$(q -c "SELECT string_agg(c.oid::regclass::text || ':' || p, ', ')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                     unnest(ARRAY['TRIGGER', 'REFERENCES', 'TRUNCATE']
                            || CASE WHEN current_setting('server_version_num')::int >= 170000
                                    THEN ARRAY['MAINTAIN'] ELSE '{}' END) p
               WHERE n.nspname = 'ims' AND c.relkind IN ('r', 'p', 'v', 'm')
                 AND has_table_privilege('ims_admin', c.oid, p)")
[ -z "$extra" ] || fail "ims_admin holds $extra"
expect_state 42501 "ims_admin creating a trigger on ims.issues" ims_it_admin \
  "CREATE TRIGGER planted BEFORE INSERT ON ims.issues FOR EACH ROW EXECUTE FUNCTION ims.stamp_search_version()"
partition=$(q -c "SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'ims.crawl_sessions'::regclass ORDER BY 1 DESC LIMIT 1")
expect_state 42501 "ims_admin creating a trigger on partition $partition" ims_it_admin \
  "CREATE TRIGGER planted AFTER INSERT ON $partition FOR EACH ROW EXECUTE FUNCTION ims.stamp_search_version()"
expect_state 42501 "ims_admin truncating ims.audit_log" ims_it_admin "TRUNCATE ims.audit_log"
expect_state none "ims_admin still reads and writes rows" ims_it_admin \
  "UPDATE ims.users SET display_name = 'Lee' WHERE user_id = 2" "SELECT count(*) FROM ims.audit_log"
echo "2. ims_admin: rows only (no TRIGGER, REFERENCES, TRUNCATE on any table or partition)"

# 3. Any login holding the advisory keys of 0.8.0 (and more) stalls nothing.
indexers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ims search indexer' AND datname = '$db'"
psql -X -q -U ims_it_anyone -d $db -c "SELECT pg_advisory_lock(k) FROM unnest(ARRAY[
    x'00696d735f697772'::bigint, x'00696d735f696478'::bigint]) k" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
sleep 1
as ims_it_user -o /dev/null -c "SELECT count(*) FROM ims.upsert_issues((SELECT jsonb_agg(jsonb_build_object(
    'issue_id', 'W-' || g, 'title', 'wombat burrow ' || g)) FROM generate_series(1, 300) g), $session)"
end=$((SECONDS + 20))
until [ "$(q -c "SELECT ims.search_index_pending() = 0 AND ($indexers) = 1")" = t ]; do
  [ $SECONDS -lt $end ] || fail "the indexer did not index 300 issues in 20 s while a login held the advisory keys \
($(q -c "SELECT ims.search_index_pending()") pending, $(q -c "$indexers") indexers)"
  sleep 0.5
done
starts=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'ims search%' AND datname = '$db'")
[ "$starts" -le 2 ] || fail "$starts search workers in the database"
# A round held open by one session: another's update_search_index waits
# lock_timeout, then says so (55P03), instead of waiting forever.
psql -X -q -U postgres -d $db -c "BEGIN" -c "SELECT * FROM ims.update_search_index()" -c "SELECT pg_sleep(20)" \
  -c "COMMIT" >/dev/null 2>&1 &
holder=$!
sleep 1
t0=$SECONDS
expect_state 55P03 "update_search_index while another round holds the index" postgres \
  "SET lock_timeout = '1s'" "SELECT * FROM ims.update_search_index()"
[ $((SECONDS - t0)) -le 5 ] || fail "update_search_index waited $((SECONDS - t0)) s with lock_timeout 1s"
kill $holder 2>/dev/null || true
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()" >/dev/null
echo "3. advisory keys held by any login: indexer unaffected; a held round: 55P03 after lock_timeout"

# 4. Inputs bounded before they are normalised (U+FDFA is 18 characters in NFKC).
for f in "ims.to_search_query(repeat(U&'\\FDFA', 3000000))" "ims.search_query_text(repeat(U&'\\FDFA', 3000000))" \
         "ims.search_issues(repeat(U&'\\FDFA', 3000000))"; do
  expect_state 54000 "$f" ims_it_user "SET statement_timeout = '2s'" "SELECT count(*) FROM $f"
done
expect_state 22001 "search_issues with a 30 MB product" ims_it_user "SET statement_timeout = '2s'" \
  "SELECT count(*) FROM ims.search_issues('wombat', repeat('p', 30000000))"
expect_state none "a query just under the limit" ims_it_user "SET statement_timeout = '2s'" \
  "SELECT count(*) FROM ims.search_issues(repeat(U&'\\FDFA', 3333))"
echo "4. to_search_query, search_query_text, search_issues and its product bounded (54000, 22001) within 2 s"

# 5. The cache size is the server's to set.
expect_state 42501 "an ims_user raising ims.search_cache_size" ims_it_user \
  "SELECT count(*) FROM ims.search_issues('wombat')" "SET ims.search_cache_size = '64GB'"
shown=$(as ims_it_user -c "SET ims.search_cache_size = '64GB'" -c "SELECT count(*) FROM ims.search_issues('wombat')" \
          -c "SHOW ims.search_cache_size" 2>/dev/null | tail -1)
[ "$shown" = 128MB ] || fail "a placeholder set before the library loaded gave the cache $shown"
echo "5. ims.search_cache_size: superuser-only (42501; a value set before the library loaded is dropped)"

# 6. A session identity ends for good at DISCARD ALL, RESET, SET and
# ROLLBACK TO SAVEPOINT: setting the old token again brings nothing back.
savepoint=$'BEGIN;\nSAVEPOINT s;\nSELECT ims.set_current_user(1, \'session\');
SELECT current_setting(\'ims.identity_token\') AS token \\gset\nROLLBACK TO SAVEPOINT s;\nCOMMIT'
for ender in "DISCARD ALL" "RESET ALL" "RESET ims.identity_token" "SET ims.identity_token = 'x'" "$savepoint"; do
  seen=$(as ims_it_app -f - <<SQL | grep -E '^(nobody|[0-9]+)$' | tr '\n' ' '
SELECT ims.set_current_user(1, 'session');
SELECT current_setting('ims.identity_token') AS token \\gset
SELECT coalesce(ims.current_user_id()::text, 'nobody');
$ender;
SET ims.identity_token = :'token';
SELECT coalesce(ims.current_user_id()::text, 'nobody');
SQL
)
  [ "$seen" = "1 nobody " ] || fail "after $ender and the old token set again, the app acts as '$seen' (want 1, then nobody)"
done
seen=$(as ims_it_app -c "SELECT ims.set_current_user(1, 'session')" -c "SELECT 'x'" \
         -c "SELECT coalesce(ims.current_user_id()::text, 'nobody')" | grep -E '^(nobody|[0-9]+)$')
[ "$seen" = 1 ] || fail "a session identity did not last the session (got '$seen')"
echo "6. session identities end for good at DISCARD ALL, RESET, SET, ROLLBACK TO SAVEPOINT"

# 7. A superuser's own conflicting DDL with row_security off still fails (the
# library loaded, as in a restore, where CREATE EXTENSION loads it).
idx=$(q -c "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = 'ims.session_issues_default'::regclass AND NOT x.indisprimary ORDER BY 1 LIMIT 1")
def=$(q -c "SELECT pg_get_indexdef(i.oid) FROM pg_class i WHERE i.relname = '$idx'")
expect_state 42P07 "CREATE INDEX $idx (a different definition) with row_security off" postgres \
  "LOAD 'ims_crawler'" "SET row_security = off" "CREATE INDEX $idx ON ims.session_issues_default (action)"
expect_state 42P07 "the same with a dump's settings" postgres "LOAD 'ims_crawler'" "SET row_security = off" "SET check_function_bodies = off" \
  "SELECT pg_catalog.set_config('search_path', '', false)" "CREATE INDEX $idx ON ims.session_issues_default USING btree (action)"
expect_state 42P07 "the dump's own statement outside a dump's settings" postgres "LOAD 'ims_crawler'" "SET row_security = off" "$def"
expect_state none "the dump's own statement in a dump's settings (skipped)" postgres "LOAD 'ims_crawler'" "SET row_security = off" \
  "SET check_function_bodies = off" "SELECT pg_catalog.set_config('search_path', '', false)" "$def"
echo "7. restore hook: only a dump's exact copy, in a dump's session, is skipped"

# 8. A server started with RUST_BACKTRACE=1 sends no backtrace to clients.
mkdir -p "$work/spare" && chown postgres: "$work/spare"
runuser -u postgres -- initdb -D "$work/spare/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- env RUST_BACKTRACE=full pg_ctl -D "$work/spare/data" -l "$work/spare/log" -w \
  -o "-p $spare_port -k $work/spare -c listen_addresses=''" start >/dev/null
out=$(psql -X -h "$work/spare" -p $spare_port -U postgres -d postgres -v VERBOSITY=verbose \
        -c "CREATE EXTENSION ims_crawler" -c "SELECT ims.search_issues('')" \
        -c "SELECT ims.log_error(999, 'x', 'y')" -c "SELECT ims.upsert_issue('[1]')" 2>&1 || true)
# The second is an ERROR raised inside SPI, which pgrx carries through a Rust panic.
[ "$(grep -c "^ERROR:" <<<"$out")" = 3 ] || fail "not the three errors from the spare server: $out"
if grep -qiE "backtrace|/\.cargo/|/rustc/|rust_begin_unwind|^ +[0-9]+: " <<<"$out"; then
  fail "a client got a backtrace or build paths: $out"
fi
runuser -u postgres -- pg_ctl -D "$work/spare/data" -m fast stop >/dev/null
echo "8. RUST_BACKTRACE=full in the server's environment: errors carry no backtrace"

# 9. Snippets are HTML: the issue's text escaped, matches marked.
as ims_it_user -o /dev/null -c "SELECT ims.upsert_issue('{\"issue_id\": \"X-1\", \"title\": \"<script>alert(1)</script> platypus\",
  \"description\": \"<img src=x onerror=alert(1)> platypus & <b>bold</b>\"}', $session)"
snippet=$(as ims_it_user -c "SELECT snippet FROM ims.search_issues('platypus')")
[ "$snippet" = "&lt;img src=x onerror=alert(1)&gt; <b>platypus</b> &amp; &lt;b&gt;bold&lt;/b&gt;" ] \
  || fail "snippet not escaped: $snippet"
echo "9. snippets HTML-escaped: $snippet"

# 10. One SQLSTATE for a session or user that does not exist.
for call in "SELECT * FROM ims.finish_session(999999)" "SELECT ims.log_error(999999, 'x', 'y')" \
            "SELECT ims.upsert_issue('{\"issue_id\": \"NF-1\"}', 999999)" \
            "SELECT ims.log_search('timeout', session_id => 999999)" "SELECT * FROM ims.get_user_stats(999999)" \
            "SELECT * FROM ims.get_user_stats(2)"; do
  expect_state 23503 "ims_user: $call" ims_it_user "$call"
done
for call in "SELECT * FROM ims.start_session('x', user_id => 999999)" "SELECT * FROM ims.get_user_stats(999999)" \
            "SELECT * FROM ims.delete_old_sessions(999999::bigint, 30)" "SELECT * FROM ims.finish_session(999999)" \
            "INSERT INTO ims.crawl_sessions (user_id) VALUES (999999)"; do
  expect_state 23503 "ims_admin: $call" ims_it_admin "$call"
done
expect_state 23503 "the app asserting a user that does not exist" ims_it_app "SELECT ims.set_current_user(999999)"
echo "10. a session or user that does not exist: 23503 from every function and plain SQL"

q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
psql -X -q -d postgres -c "DROP ROLE ims_it_user" -c "DROP ROLE ims_it_admin" -c "DROP ROLE ims_it_app" -c "DROP ROLE ims_it_anyone"
