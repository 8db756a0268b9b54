#!/usr/bin/env bash
# A search answers the same whichever way it ranks. Over 30,000 issues of
# Korean and English words (Zipf-like, so frequent terms have champion
# lists), each query's results from the posting lists (champion lists with
# their bound, or the full walk) must equal its results when every issue is
# pending and scored one by one from its stored vector: the same issues, in
# the same order, with the same rank. Covers one Korean word (an OR of its
# forms), two words, natural questions (minimum-should-match), filters,
# phrases, exclusions and AND.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_search_paths
q() { psql -X -q -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION ims_crawler"
q <<'SQL'
CREATE TEMP TABLE vocab AS
SELECT k, (ARRAY['연결이','타임아웃','배치가','메모리','누수되는','세션','배포','오류가','인증서가','로그인',
                 '중단되었습니다','깨집니다','서버','데이터셋','잠금','connection','timeout','batch','memory',
                 'leak','session','deploy','error','certificate','login','stopped','failed','queue','gateway',
                 'catalog'])[1 + k % 30] || CASE WHEN k >= 30 THEN (k / 30)::text ELSE '' END AS w
  FROM generate_series(0, 899) k;
CREATE TEMP TABLE words AS SELECT array_agg(w ORDER BY k) AS a FROM vocab;
INSERT INTO ims.issues (issue_id, title, description, product, status)
SELECT 'P-' || g,
       (SELECT string_agg(a[1 + least(899, floor(exp(((hashint8(g * 100 + i) & 2147483647)::float8 / 2147483648.0) * ln(900))) - 1)::int], ' ')
          FROM generate_series(1, 5) i),
       (SELECT string_agg(a[1 + least(899, floor(exp(((hashint8(g * 100 + 50 + i) & 2147483647)::float8 / 2147483648.0) * ln(900))) - 1)::int], ' ')
          FROM generate_series(1, 25) i),
       (ARRAY['OpenFrame', 'JEUS', 'Tmax'])[1 + g % 3], (ARRAY['open', 'closed'])[1 + g % 2]
  FROM generate_series(1, 30000) g, words;
SELECT ims.refresh_search_index();
SQL
champions=$(q -At -c "SELECT count(*) FROM ims.mv_search_postings WHERE term IN ('top:=연결', 'top:연결', 'top:=메모리', 'top:connect', 'top:memori')")
[ "$champions" -ge 4 ] || fail "the corpus is too small for champion lists ($champions of 5)"

q <<'SQL'
CREATE TABLE public.queries (query text);
INSERT INTO public.queries VALUES
  ('연결'), ('메모리가'), ('타임아웃'), ('깨짐'), ('중단된'), ('connection'),
  ('연결 타임아웃'), ('memory leak'), ('메모리 누수'), ('세션 product:JEUS'), ('timeout status:closed'),
  ('배치가 중단된 경우'), ('why does the batch job stop'), ('메모리가 계속 누수되는 문제'),
  ('인증서 memory'), ('login failed session gateway queue'), ('"connection timeout"'), ('연결 -timeout'),
  ('메모리 AND 누수 세션'), ('연결 OR connection 오류'), ('서버1 오류2 배포3');
CREATE TABLE public.from_lists AS
SELECT x.query, s.issue_id, round(s.rank::numeric, 4) AS rank, s.position
  FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position);
SQL
# Frequent words in natural questions rank through block bounds (a DEBUG1
# message says how many issues could reach the champions' k-th best, and
# another, when there are many, how many were scored in two rounds).
debug=$(mktemp)
q -c "SET client_min_messages = debug1" \
  -c "SELECT count(*) FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50)" >"$debug" 2>&1
bounded=$(grep -c "can reach the floor" "$debug" || true)
two_rounds=$(grep -c "scored [0-9]* first" "$debug" || true)
[ "$bounded" -ge 1 ] || fail "no query ranked through block bounds"
[ "$two_rounds" -ge 1 ] || fail "no query scored its bounded issues in two rounds"
rows=$(q -At -c "SELECT count(*) FROM public.from_lists")
[ "$rows" -gt 500 ] || fail "only $rows results from the lists"

# Every issue pending: scored from its vector, in one transaction rolled back.
compare() { # TABLE: its rows against scoring every issue from its vector
  local differences
  differences=$(q -At <<SQL
BEGIN;
UPDATE ims.issues SET search_version = pg_current_xact_id();
SELECT count(*) FROM (
  (SELECT * FROM public.$1
   EXCEPT ALL
   SELECT x.query, s.issue_id, round(s.rank::numeric, 4), s.position
     FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position))
  UNION ALL
  (SELECT x.query, s.issue_id, round(s.rank::numeric, 4), s.position
     FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position)
   EXCEPT ALL
   SELECT * FROM public.$1)) d;
ROLLBACK;
SQL
)
  differences=$(tail -n 1 <<<"$differences")
  if [ "$differences" != 0 ]; then
    q -c "SELECT query, count(*) FROM public.$1 GROUP BY 1 ORDER BY 1"
    fail "$differences result rows of $1 differ from scoring every issue from its vector"
  fi
}
compare from_lists

# Segments: a third of the issues rewritten in three rounds of the indexer
# (the first two segments merged), searched with the base: the base's k-th
# best is a floor for the segments. Same results as scoring every vector.
for c in 0 1 2; do
  q -o /dev/null -c "UPDATE ims.issues SET title = 'rewritten ' || reverse(title) || ' 메모리 누수 연결' WHERE issue_pk % 9 = $c" \
    -c "SELECT * FROM ims.update_search_index()"
done
segments=$(q -At -c "SELECT count(*) FROM ims.search_index_segments() WHERE segment > 0")
[ "$segments" -ge 1 ] || fail "no segment after three rounds"
q -c "CREATE TABLE public.from_segments AS
      SELECT x.query, s.issue_id, round(s.rank::numeric, 4) AS rank, s.position
        FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position)"
q -c "SET client_min_messages = debug1" \
  -c "SELECT count(*) FROM public.queries x, LATERAL ims.search_issues(x.query, NULL, 50)" >"$debug" 2>&1
floors=$(grep -c "source [0-9]* ([0-9]* issues, floor Some" "$debug" || true)
[ "$floors" -ge 1 ] || fail "no segment was searched with the base's floor"
changed=$(q -At -c "SELECT count(*) FROM (SELECT * FROM public.from_lists EXCEPT ALL SELECT * FROM public.from_segments) d")
[ "$changed" -gt 0 ] || fail "the rewritten issues changed no result"
compare from_segments
echo "the same queries over the base and $segments segment(s) ($floors searched with a floor, $changed result rows changed by the rewrites): identical when every issue is scored from its vector"
echo "21 queries over 30,000 issues ($bounded through block bounds, $two_rounds of them in two rounds): $rows results from the posting lists (champion lists included), identical when every issue is scored from its vector"
psql -X -q -d postgres -c "DROP DATABASE $db"
