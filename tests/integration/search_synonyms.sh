#!/usr/bin/env bash
# Synonyms (issue #24): a word written in Hangul finds issues written in
# Latin letters and the other way round, through the shipped table; an
# administrator's edit reaches connections that are already open (a pool's)
# on their next search, a rolled-back edit does not; only ims_admin edits;
# bad rows are refused; pg_dump/pg_restore keeps the administrator's rows
# and the restored extension brings back its own.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_synonyms
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
as() { local role=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -U "$role" -d $db "$@"; }
q() { as postgres "$@"; }
sqlstate_of() { # sqlstate_of ROLE SQL: the SQLSTATE the statement raises ("none" if none)
  local out
  out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -U "$1" -d $db -c "$2" 2>&1) && { echo none; return; }
  grep -oE 'ERROR:  [0-9A-Z]{5}' <<<"$out" | head -1 | grep -oE '[0-9A-Z]{5}$' || echo "?: $out"
}

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db WITH (FORCE);
DROP DATABASE IF EXISTS ${db}_restored WITH (FORCE);
CREATE DATABASE $db;
\c $db
CREATE EXTENSION ims_crawler;
DROP ROLE IF EXISTS ims_syn_user; DROP ROLE IF EXISTS ims_syn_admin; DROP ROLE IF EXISTS ims_syn_reader;
CREATE ROLE ims_syn_user LOGIN IN ROLE ims_user;
CREATE ROLE ims_syn_admin LOGIN IN ROLE ims_admin;
CREATE ROLE ims_syn_reader LOGIN IN ROLE ims_readonly;
SQL
q -o /dev/null <<'SQL'
INSERT INTO ims.users (user_id, username, role, db_role) VALUES (1, 'kim', 'user', 'ims_syn_user');
SELECT count(*) FROM ims.upsert_issues('[
  {"issue_id": "S-1", "product": "Tibero", "title": "Deadlock between two batch sessions", "description": "ORA-00060 while both update the ledger."},
  {"issue_id": "S-2", "product": "Tibero", "title": "테이블스페이스 확장 실패", "description": "자동 확장이 꺼져 있어 공간 부족."},
  {"issue_id": "S-3", "product": "JEUS", "title": "세션 타임아웃이 설정보다 빨리 발생", "description": "web.xml 의 값이 무시됨."},
  {"issue_id": "S-4", "product": "JEUS", "title": "Quokka adapter drops messages", "description": "The vendor adapter loses every tenth message."}
]'::jsonb);
SELECT ims.refresh_search_index();
SQL

top() { as ims_syn_user -c "SELECT coalesce(string_agg(issue_id, ',' ORDER BY rank DESC, issue_id), '-') FROM ims.search_issues('$1', NULL, 10)"; }

# 1. The shipped rows link Hangul and Latin spellings, both ways.
[ "$(top '데드락')" = "S-1" ] || fail "데드락 did not find the deadlock issue: $(top '데드락')"
[ "$(top 'session timeout')" = "S-3,S-1" ] \
  || fail "session timeout: $(top 'session timeout'), want S-3 (세션 타임아웃) then S-1 (sessions only)"
[ "$(top '"데드락"')" = "-" ] || fail "a quoted word is searched as typed: $(top '"데드락"')"
[ "$(top '데드락 -deadlock')" = "-" ] || fail "an exclusion applies: $(top '데드락 -deadlock')"
echo "shipped synonyms: 데드락 finds Deadlock, session timeout finds 세션 타임아웃 first, quoted words as typed"
# A query at the term limit (64) whose words have synonyms: the words past the
# limit are searched as typed, nothing fails.
words="session deadlock timeout memory $(seq -f 'w%g' 1 60 | tr '\n' ' ')"
[ "$(as ims_syn_user -c "SELECT count(*) FROM ims.search_issues('$words')")" = 1 ] \
  || fail "a query of 64 distinct words with synonyms"
echo "64 distinct words, some with synonyms: searched within the term limit"

# 2. An administrator's rows reach a connection that is already open (it
#    searched before, so it had read the table) on its next search; a
#    rolled-back insert never does; a delete does too.
open_session=$(as ims_syn_user <<SQL
SELECT count(*) FROM ims.search_issues('쿼카');
\! psql -X -q -v ON_ERROR_STOP=1 -U ims_syn_admin -d $db -c "BEGIN" -c "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('쿼카', 'quokka')" -c "ROLLBACK"
SELECT count(*) FROM ims.search_issues('쿼카');
\! psql -X -q -v ON_ERROR_STOP=1 -U ims_syn_admin -d $db -c "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('쿼카', 'quokka')"
SELECT string_agg(issue_id, ',') FROM ims.search_issues('쿼카');
\! psql -X -q -v ON_ERROR_STOP=1 -U ims_syn_admin -d $db -c "DELETE FROM ims_index.search_synonyms WHERE word = '쿼카'"
SELECT count(*) FROM ims.search_issues('쿼카');
SQL
)
[ "$(echo $open_session)" = "0 0 S-4 0" ] \
  || fail "an open connection's searches around edits: $(echo $open_session), want 0 0 S-4 0"
echo "an open connection: a rolled-back row never applies, an inserted one on its next search, a deleted one stops"

# 3. Who edits: ims_admin; ims_readonly reads; ims_user neither.
[ "$(sqlstate_of ims_syn_user "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('a', 'b')")" = 42501 ] \
  || fail "ims_user could add a synonym"
[ "$(sqlstate_of ims_syn_user "SELECT count(*) FROM ims_index.search_synonyms")" = 42501 ] \
  || fail "ims_user could read the synonyms"
[ "$(sqlstate_of ims_syn_reader "DELETE FROM ims_index.search_synonyms")" = 42501 ] \
  || fail "ims_readonly could delete synonyms"
[ "$(as ims_syn_reader -c "SELECT count(*) > 100 FROM ims_index.search_synonyms WHERE shipped")" = t ] \
  || fail "ims_readonly cannot read the shipped synonyms"
[ "$(sqlstate_of ims_syn_admin "TRUNCATE ims_index.search_synonyms")" = 42501 ] || fail "ims_admin could truncate"
# 4. Bad rows: one word each side, at most 64 bytes, not the word itself.
for bad in "('heap dump', '힙 덤프')" "('x', 'x')" "(repeat('x', 65), 'y')" "('', 'y')"; do
  [ "$(sqlstate_of ims_syn_admin "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES $bad")" = 23514 ] \
    || fail "the row $bad was accepted"
done
echo "ims_admin edits, ims_readonly reads, ims_user neither; rows of several words, a word itself, too long: 23514"

# 5. pg_dump / pg_restore: the administrator's rows come back, the shipped
#    ones once (from the restored extension, not from the dump).
as ims_syn_admin -c "INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('쿼카', 'quokka')"
pg_dump -Fc -d $db -f "$work/db.dump"
psql -X -q -d postgres -c "CREATE DATABASE ${db}_restored"
pg_restore --exit-on-error -d ${db}_restored "$work/db.dump"
same=$(psql -X -q -At -d ${db}_restored -c "SELECT count(*) FILTER (WHERE NOT shipped), count(*) FILTER (WHERE shipped),
         (SELECT string_agg(issue_id, ',') FROM ims.search_issues('쿼카')) FROM ims_index.search_synonyms")
want=$(q -c "SELECT count(*) FILTER (WHERE NOT shipped), count(*) FILTER (WHERE shipped), 'S-4' FROM ims_index.search_synonyms")
[ "$same" = "$want" ] || fail "restored synonyms (own|shipped|search): $same, want $want"
psql -X -q -d postgres -c "DROP DATABASE ${db}_restored"
echo "pg_dump/pg_restore: the administrator's row restored and used, shipped rows once ($want)"
echo "search_synonyms: ok"
