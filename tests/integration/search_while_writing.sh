#!/usr/bin/env bash
# Search stays exact while crawlers write and the index is kept current
# under them: 4 pgbench clients upsert issues, each new issue with a word of
# its own and each re-crawl moving a word from one issue to another; the
# search indexer (a background worker the writes start) indexes them into
# segments (a round every 0.5 s while writes come), while (after 12
# seconds) a second client rebuilds the base (ims.refresh_search_index) in a
# loop, and a third searches. Afterwards
# (with writes still pending, once the indexer has caught up, and after a
# last rebuild) every issue is found by its current word and by no old
# one, and no client saw an error.
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
db=ims_search_writes
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  -c "ALTER DATABASE $db SET ims.search_indexer = on"  # off in the test cluster
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null 2>&1 <<'SQL'
CREATE EXTENSION ims_crawler;
-- Enough issues for champion lists (a word in more than 2,048 issues).
SELECT count(*) FROM ims.upsert_issues((
  SELECT jsonb_agg(jsonb_build_object('issue_id', 'W-' || g, 'title', 'gateway word' || g || ' x',
                                      'product', (ARRAY['OpenFrame', 'Tmax'])[1 + g % 2]))
    FROM generate_series(1, 3000) g));
SELECT ims.refresh_search_index();
SQL

# A write: issue W-id gets the word of a random version v (word<id>v<v>).
cat >"$work/write.sql" <<'SQL'
\set id random(1, 3400)
\set v random(1, 9)
SELECT action FROM ims.upsert_issue(jsonb_build_object('issue_id', 'W-' || :id,
         'title', 'gateway word' || :id || 'v' || :v || ' x', 'product', 'Tmax'));
SQL
cat >"$work/search.sql" <<'SQL'
\set id random(1, 3400)
SELECT count(*) FROM ims.search_issues('gateway', 'Tmax', 50);
SELECT count(*) FROM ims.search_issues('word' || :id || ' OR gateway -zzz', NULL, 20);
SQL

# The first 12 seconds, segments only (merged as they grow); then rebuilds too.
(sleep 12; end=$((SECONDS + 13)); while [ $SECONDS -lt $end ]; do
   psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SELECT ims.refresh_search_index()" || exit 1
 done) >"$work/refresh.out" 2>&1 &
refresher=$!
pgbench -n -c 2 -j 1 -T 25 -f "$work/search.sql" "$db" >"$work/search.out" 2>&1 &
searcher=$!
pgbench -n -c 4 -j 2 -T 25 -f "$work/write.sql" "$db" >"$work/write.out" 2>&1 \
  || { cat "$work/write.out"; echo "FAIL: writers reported errors"; exit 1; }
wait $searcher || { cat "$work/search.out"; echo "FAIL: searches reported errors"; exit 1; }
wait $refresher || { cat "$work/refresh.out"; echo "FAIL: rebuilds reported errors"; exit 1; }
indexers=$(psql -X -At -d $db -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ims search indexer' AND datname = '$db'")
[ "$indexers" = 1 ] || { echo "FAIL: $indexers search indexers run in $db (want 1, started by the writes)"; exit 1; }
echo "writes: $(grep -oE 'actually processed: [0-9]+' "$work/write.out" | grep -oE '[0-9]+')," \
     "searches: $(grep -oE 'actually processed: [0-9]+' "$work/search.out" | grep -oE '[0-9]+')," \
     "rebuilds: $(grep -c 'refreshing' "$work/refresh.out")"

check() { # check WHEN [WRITES]: every issue found by its current word, none by another
  psql -X -q -At -v ON_ERROR_STOP=1 -d $db <<SQL
DO \$\$
DECLARE
    missing bigint;
    stale bigint;
BEGIN
    ${2:-}
    -- The current word of each issue is the second word of its title.
    SELECT count(*) INTO missing FROM ims.issues i
     WHERE NOT EXISTS (SELECT 1 FROM ims.search_issues(split_part(i.title, ' ', 2), NULL, 5) s
                        WHERE s.issue_id = i.issue_id);
    -- An old word of an issue finds it no more (words of versions it left).
    SELECT count(*) INTO stale FROM ims.issues i, generate_series(1, 9) v,
           LATERAL ims.search_issues('word' || substr(i.issue_id, 3) || 'v' || v, NULL, 5) s
     WHERE s.issue_id = i.issue_id AND split_part(i.title, ' ', 2) <> 'word' || substr(i.issue_id, 3) || 'v' || v
       AND i.issue_pk % 10 = 0;
    IF missing > 0 OR stale > 0 THEN
        RAISE EXCEPTION '$1: % issues not found by their word, % found by an old word (% pending)',
            missing, stale, ims.search_index_pending();
    END IF;
    RAISE NOTICE '$1: all % issues found by their current word (% pending)',
        (SELECT count(*) FROM ims.issues), ims.search_index_pending();
END
\$\$;
SQL
}
# The indexer runs rounds every 0.5 s while writes come, so it may have caught
# up already: the check writes pending issues of its own first (uncommitted,
# so no round can index them: every search scores them from their vectors).
check "with writes pending" "PERFORM ims.upsert_issue(jsonb_build_object('issue_id', 'W-' || g,
         'title', 'gateway word' || g || 'v' || 1 + g % 9 || ' x', 'product', 'Tmax'))
       FROM generate_series(1, 3400, 7) g;
     IF ims.search_index_pending() < 100 THEN
         RAISE EXCEPTION 'only % issues pending', ims.search_index_pending();
     END IF;" 2>&1 | sed 's/^.*NOTICE: *//' || { echo "FAIL"; exit 1; }
# The indexer catches up within seconds, with no rebuild.
for _ in $(seq 1 30); do
  [ "$(psql -X -At -d $db -c "SELECT ims.search_index_pending()")" = 0 ] && break
  sleep 1
done
psql -X -At -d $db -c "SELECT 'segments after the writes: ' || count(*) - 1 || ', holding ' || coalesce(sum(issues) FILTER (WHERE segment > 0), 0) || ' issues'
                       FROM ims.search_index_segments()"
check "once the indexer caught up" 2>&1 | sed 's/^.*NOTICE: *//' || { echo "FAIL"; exit 1; }
[ "$(psql -X -At -d $db -c "SELECT ims.search_index_pending()")" = 0 ] || { echo "FAIL: the indexer left issues pending"; exit 1; }
psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SELECT ims.refresh_search_index()" >/dev/null 2>&1
check "after a last rebuild" 2>&1 | sed 's/^.*NOTICE: *//' || { echo "FAIL"; exit 1; }
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
echo "search while writing: exact before and after rebuilds"
