#!/usr/bin/env bash
# Many crawlers upserting the same issue ids at once (pgbench, 8 clients,
# 40 overlapping ids, single and batched calls in varying order). Afterwards,
# exactly: no duplicate issues or comments, no error or deadlock reported to
# any client, crawl_count equal to the calls made, one 'inserted' per issue,
# and each issue's status history an unbroken chain ending at its status
# (a lost history row would break the chain).
set -euo pipefail
export PATH="$IMS_PG_BIN:$PATH"
CLIENTS=${IMS_CONC_CLIENTS:-8}
TX_PER_CLIENT=${IMS_CONC_TX:-150}
db=ims_concurrency
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
sid=$(psql -X -At -v ON_ERROR_STOP=1 -d $db <<'SQL' | tail -n 1
CREATE EXTENSION ims_crawler;
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'crawler', 'user');
CREATE TABLE calls (issue_id text, action text, changed_fields text[]);
CREATE TABLE batch_calls (inserted bigint, updated bigint, unchanged bigint);
SELECT session_id FROM ims.start_session('OpenFrame', user_id => 1);
SQL
)

cat >"$work/single.sql" <<SQL
\set id random(1, 40)
\set st random(1, 3)
\set c random(1, 5)
INSERT INTO calls SELECT 'CONC-' || :id, action, changed_fields
  FROM ims.upsert_issue(jsonb_build_object('issue_id', 'CONC-' || :id, 'title', 'Issue ' || :id,
         'status', 'S' || :st,
         'comments', jsonb_build_array(jsonb_build_object('comment_id', 'c' || :c, 'content', 'comment ' || :c || ' v' || :st))),
       $sid);
SQL
cat >"$work/batch.sql" <<SQL
\set a random(1, 40)
\set st random(1, 3)
INSERT INTO batch_calls
SELECT * FROM ims.upsert_issues(
  (SELECT jsonb_agg(jsonb_build_object('issue_id', 'CONC-' || i, 'title', 'Issue ' || i, 'status', 'S' || :st)
                    ORDER BY (i * :st) % 7)
     FROM unnest(ARRAY[:a, (:a + 13) % 40 + 1, (:a + 27) % 40 + 1]) AS i),
  $sid);
SQL

pgbench -n -c "$CLIENTS" -j 2 -t "$TX_PER_CLIENT" -f "$work/single.sql@3" -f "$work/batch.sql@1" "$db" \
  >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out"; echo "FAIL: pgbench reported errors"; exit 1; }
grep -E "number of transactions actually processed|tps" "$work/pgbench.out" | head -n 2

psql -X -q -v ON_ERROR_STOP=1 -d $db <<SQL
DO \$\$
DECLARE
    n_calls bigint := (SELECT count(*) FROM calls) + 3 * (SELECT count(*) FROM batch_calls);
    expected_tx bigint := $CLIENTS * $TX_PER_CLIENT;
    v record;
BEGIN
    IF (SELECT count(*) FROM calls) + (SELECT count(*) FROM batch_calls) <> expected_tx THEN
        RAISE EXCEPTION 'expected % committed calls, found %', expected_tx,
            (SELECT count(*) FROM calls) + (SELECT count(*) FROM batch_calls);
    END IF;
    IF (SELECT count(*) <> count(DISTINCT issue_id) FROM ims.issues) THEN
        RAISE EXCEPTION 'duplicate issues';
    END IF;
    IF (SELECT sum(crawl_count) FROM ims.issues) <> n_calls THEN
        RAISE EXCEPTION 'crawl counters: sum % <> calls %', (SELECT sum(crawl_count) FROM ims.issues), n_calls;
    END IF;
    IF (SELECT count(*) FROM calls WHERE action = 'inserted') + (SELECT sum(inserted) FROM batch_calls)
       <> (SELECT count(*) FROM ims.issues) THEN
        RAISE EXCEPTION 'each issue must be inserted exactly once';
    END IF;
    IF (SELECT count(*) <> count(DISTINCT (issue_pk, comment_id)) FROM ims.issue_comments) THEN
        RAISE EXCEPTION 'duplicate comments';
    END IF;
    IF (SELECT count(*) FROM ims.session_issues) <> (SELECT count(*) FROM ims.issues) THEN
        RAISE EXCEPTION 'session links: % for % issues', (SELECT count(*) FROM ims.session_issues),
            (SELECT count(*) FROM ims.issues);
    END IF;
    -- Status history: every change recorded, in order, ending at the current value.
    FOR v IN
        SELECT i.issue_id, i.status,
               array_agg(h.old_value ORDER BY h.history_id) AS olds,
               array_agg(h.new_value ORDER BY h.history_id) AS news
          FROM ims.issues i JOIN ims.issue_history h ON h.issue_pk = i.issue_pk AND h.field_name = 'status'
         GROUP BY i.issue_id, i.status
    LOOP
        IF v.news[array_upper(v.news, 1)] <> v.status THEN
            RAISE EXCEPTION '%: history ends at %, status is %', v.issue_id, v.news[array_upper(v.news, 1)], v.status;
        END IF;
        FOR k IN 2 .. array_upper(v.olds, 1) LOOP
            IF v.olds[k] <> v.news[k - 1] THEN
                RAISE EXCEPTION '%: history chain broken at step %', v.issue_id, k;
            END IF;
        END LOOP;
    END LOOP;
    -- Single calls that reported a status change each wrote exactly one status row.
    IF (SELECT count(*) FROM calls WHERE 'status' = ANY (changed_fields))
       > (SELECT count(*) FROM ims.issue_history WHERE field_name = 'status') THEN
        RAISE EXCEPTION 'status changes reported but not recorded';
    END IF;
    RAISE NOTICE 'concurrency: % calls, % issues, % history rows, all exact', n_calls,
        (SELECT count(*) FROM ims.issues), (SELECT count(*) FROM ims.issue_history);
END
\$\$;
SQL
psql -X -q -d postgres -c "DROP DATABASE $db"
echo "concurrent upserts: OK"
