-- ims.search_issues: relevance on a labelled Korean/English corpus, the
-- query syntax, index freshness, and bad input.
SELECT count(*) AS stored FROM ims.upsert_issues($$[
 {"issue_id": "R-01", "product": "OpenFrame", "module": "TJES", "status": "Open", "priority": "High",
  "title": "TJES 기동 시 연결 타임아웃", "description": "TJES 서버를 기동하면 클라이언트 연결이 30초 후 끊깁니다."},
 {"issue_id": "R-02", "product": "OpenFrame", "module": "OFCOBOL", "status": "Open",
  "title": "OFCOBOL-1234 컴파일 오류", "description": "중첩 COPY 멤버를 포함한 프로그램을 컴파일하면 OFCOBOL-1234 오류가 발생합니다."},
 {"issue_id": "R-03", "product": "OpenFrame", "module": "Batch", "status": "In Progress",
  "title": "Nightly batch fails with ORA-00942", "description": "table or view does not exist when the settlement batch runs"},
 {"issue_id": "R-04", "product": "Tmax", "status": "Open",
  "title": "TPECLOSE during tpcall under load", "description": "The server closes the connection when more than 200 clients call at once."},
 {"issue_id": "R-05", "product": "JEUS", "status": "Resolved",
  "title": "세션 클러스터링 메모리 누수", "description": "세션 클러스터링을 켜면 힙 메모리가 계속 증가합니다."},
 {"issue_id": "R-06", "product": "JEUS", "status": "Open",
  "title": "Memory leak in session manager after redeploy", "description": "Heap usage grows by 50 MB on every redeploy."},
 {"issue_id": "R-07", "product": "WebtoB", "status": "Open",
  "title": "SSL 인증서 만료 경고", "description": "인증서가 만료되어 HTTPS 연결이 거부됩니다."},
 {"issue_id": "R-08", "product": "WebtoB", "status": "Open",
  "title": "Certificate expiry warning is not shown", "description": "Expired certificates are served without any warning in the log."},
 {"issue_id": "R-09", "product": "OpenFrame", "module": "OSC", "status": "Closed",
  "title": "0x1F control character breaks OSC screen", "description": "Map fields containing 0x1F render as garbage."},
 {"issue_id": "R-10", "product": "OpenFrame", "status": "Open",
  "title": "v7.0.3 upgrade breaks dataset catalog", "description": "After upgrading to v7.0.3 the catalog cannot be opened."},
 {"issue_id": "R-11", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "데이터셋 잠금 대기 타임아웃", "description": "여러 배치가 같은 데이터셋을 열면 잠금 대기 시간이 초과됩니다."},
 {"issue_id": "R-12", "product": "Tmax", "status": "Open",
  "title": "Connection reset by peer in gateway", "description": "The gateway logs connection reset by peer every few minutes."},
 {"issue_id": "R-13", "product": "Tmax", "status": "Open",
  "title": "Reset of the pool fails", "description": "A pool reset does not close the idle connection."},
 {"issue_id": "R-14", "product": "JEUS", "status": "Open",
  "title": "로그인 실패가 반복됨", "description": "SSO 토큰이 만료된 후 로그인을 계속 실패합니다."},
 {"issue_id": "R-15", "product": "OpenFrame", "module": "TJES", "status": "Open",
  "title": "TJES abend S0C4 in job step", "description": "Step 3 of the job ends with abend S0C4."},
 {"issue_id": "R-16", "product": "OpenFrame", "status": "Open",
  "title": "Slow query on dataset catalog", "description": "A catalog lookup takes 30 seconds."},
 {"issue_id": "R-17", "product": "OpenFrame", "status": "Resolved", "title": "Job hangs",
  "comments": [{"comment_id": "1", "author": "kim", "content": "원인은 디스크 풀 때문이었습니다 (disk full)."}]},
 {"issue_id": "R-18", "product": "Tmax", "status": "Open", "title": "Crash report",
  "attachments": [{"file_name": "core.txt", "checksum": "c18", "extracted_text": "SIGSEGV in tmadmin at address 0xdeadbeef"}]},
 {"issue_id": "R-19", "product": "OpenFrame", "module": "TJES", "status": "Closed",
  "title": "연결 타임아웃 (해결됨)", "description": "TJES 연결 문제는 패치로 해결되었습니다."},
 {"issue_id": "R-20", "product": "JEUS", "status": "Open",
  "title": "Deployment fails with ClassNotFoundException", "description": "The web module cannot load its servlet class."},
 {"issue_id": "R-21", "product": "WebtoB", "status": "Open",
  "title": "HTTP 502 Bad Gateway from WebtoB", "description": "Requests to the backend return 502."},
 {"issue_id": "R-22", "product": "OpenFrame", "status": "Open",
  "title": "OFCOBOL runtime error 0C7 data exception", "description": "Packed decimal field contains invalid data."},
 {"issue_id": "R-23", "product": "Tmax", "status": "Open",
  "title": "XA transaction timeout with Oracle", "description": "ORA-24756 transaction does not exist after the timeout."},
 {"issue_id": "R-24", "product": "OpenFrame", "status": "Open",
  "title": "OpenFrame에서 한글 깨짐", "description": "EBCDIC 변환 시 한글이 깨집니다."},
 {"issue_id": "R-25", "product": "JEUS", "status": "Open",
  "title": "웹 애플리케이션 배포 실패", "description": "배포 중 ClassNotFoundException이 발생합니다."},
 {"issue_id": "R-26", "product": "OpenFrame", "status": "Open",
  "title": "Print spooler queue stuck", "description": "스풀러 큐에 작업이 쌓인 채 출력되지 않습니다."},
 {"issue_id": "R-27", "product": "Tmax", "status": "Open",
  "title": "서버 프로세스가 비정상 종료됨", "description": "tmboot 후 서버 프로세스가 코어 덤프를 남기고 종료됩니다."},
 {"issue_id": "R-28", "product": "OpenFrame", "module": "TJES", "status": "Open", "priority": "Critical",
  "title": "Production outage: TJES not responding", "description": "All TJES requests time out."},
 {"issue_id": "R-29", "product": "OpenFrame", "module": "TJES", "status": "Open", "priority": "Low",
  "title": "TJES slow response", "description": "TJES answers take two seconds."},
 {"issue_id": "R-30", "product": "WebtoB", "status": "Open",
  "title": "Virtual host configuration ignored", "description": "The second virtual host serves the default site."}
]$$);
SELECT ims.refresh_materialized_views();

-- The labelled set: the relevant issue must be first (top 1) or in the top 3.
CREATE TEMP TABLE judgements (query text, product text, expected text, within int);
INSERT INTO judgements VALUES
  ('연결 타임아웃', NULL, 'R-01', 3),
  ('연결이', NULL, 'R-01', 3),                     -- particle form of 연결
  ('타임아웃', NULL, 'R-11', 3),
  ('기동', NULL, 'R-01', 1),
  ('ORA-00942', NULL, 'R-03', 1),
  ('ora-00942', NULL, 'R-03', 1),
  ('ＯＲＡ－００９４２', NULL, 'R-03', 1),          -- full-width
  ('00942', NULL, 'R-03', 1),                      -- a part of a code
  ('ORA-24756', NULL, 'R-23', 1),
  ('OFCOBOL-1234', NULL, 'R-02', 1),
  ('TJES abend', NULL, 'R-15', 1),
  ('S0C4', NULL, 'R-15', 1),
  ('0x1F', NULL, 'R-09', 1),
  ('v7.0.3', NULL, 'R-10', 1),
  ('"connection reset"', NULL, 'R-12', 1),
  ('connection reset', NULL, 'R-12', 1),
  ('TPECLOSE', NULL, 'R-04', 1),
  ('메모리 누수', NULL, 'R-05', 1),
  ('memory leak', NULL, 'R-06', 1),
  ('인증서 만료', NULL, 'R-07', 1),
  ('certificate expiry', NULL, 'R-08', 1),
  ('certificates expired', NULL, 'R-08', 1),        -- stemming
  ('잠금 대기', NULL, 'R-11', 1),
  ('데이터셋', NULL, 'R-11', 3),
  ('dataset catalog', NULL, 'R-16', 3),
  ('디스크', NULL, 'R-17', 1),                      -- only in a comment
  ('disk full', NULL, 'R-17', 1),
  ('SIGSEGV', NULL, 'R-18', 1),                    -- only in an attachment
  ('tmadmin', NULL, 'R-18', 1),
  ('연결 타임아웃 status:closed', NULL, 'R-19', 1),
  ('연결 타임아웃 -해결', NULL, 'R-01', 1),
  ('TJES priority:critical', NULL, 'R-28', 1),
  ('TJES priority:low', NULL, 'R-29', 1),
  ('timeout product:Tmax', NULL, 'R-23', 1),
  ('timeout', 'Tmax', 'R-23', 1),
  ('ClassNotFoundException', NULL, 'R-20', 3),
  ('배포 실패', NULL, 'R-25', 1),
  ('한글 깨짐', NULL, 'R-24', 1),
  ('OpenFrame에서', NULL, 'R-24', 1),               -- mixed script
  ('502 Bad Gateway', NULL, 'R-21', 1),
  ('gateway', NULL, 'R-12', 3),
  ('코어 덤프', NULL, 'R-27', 1),
  ('"코어 덤프" OR SIGSEGV', NULL, 'R-18', 3),
  ('"코어 덤프" OR SIGSEGV', NULL, 'R-27', 3),
  ('spooler OR 스풀러', NULL, 'R-26', 1),
  ('HTTPS 연결 거부', NULL, 'R-07', 1),
  ('ssl', NULL, 'R-07', 1),
  ('XA transaction', NULL, 'R-23', 1),
  ('EBCDIC', NULL, 'R-24', 1),
  ('로그인 실패', NULL, 'R-14', 1);

SELECT j.query, coalesce(j.product, '') AS product, j.expected, j.within, r.position,
       coalesce(r.position <= j.within, false) AS ok
  FROM judgements j
  LEFT JOIN LATERAL (
        SELECT s.position FROM (
          SELECT issue_id, row_number() OVER () AS position
            FROM ims.search_issues(j.query, j.product, 10)) s
         WHERE s.issue_id = j.expected) r ON true
 ORDER BY ok, j.query, j.expected;
SELECT count(*) AS judgements, count(*) FILTER (WHERE ok) AS passed FROM (
  SELECT coalesce((SELECT s.position FROM (SELECT issue_id, row_number() OVER () AS position
                                             FROM ims.search_issues(j.query, j.product, 10)) s
                    WHERE s.issue_id = j.expected) <= j.within, false) AS ok
    FROM judgements j) x;

-- Exclusion removes, phrases require adjacency
SELECT issue_id FROM ims.search_issues('memory leak -redeploy');
SELECT issue_id FROM ims.search_issues('"connection reset"') ORDER BY 1;
SELECT issue_id FROM ims.search_issues('connection reset') ORDER BY 1;
-- product: and the product argument agree
SELECT (SELECT array_agg(issue_id ORDER BY issue_id) FROM ims.search_issues('connection product:tmax'))
     = (SELECT array_agg(issue_id ORDER BY issue_id) FROM ims.search_issues('connection', 'Tmax')) AS same;
SELECT count(*) AS contradictory FROM ims.search_issues('connection product:JEUS', 'Tmax');

-- Ranks are positive and descending; ties go to the issue stored first; snippets mark matches
SELECT issue_id, rank > 0 AS positive, snippet FROM ims.search_issues('TJES', NULL, 4);
SELECT bool_and(rank > 0) AS all_positive,
       bool_and(rank <= prev) AS descending FROM (
  SELECT rank, lag(rank, 1, 'Infinity') OVER () AS prev FROM ims.search_issues('OpenFrame', NULL, 50)) x;
SELECT issue_id, snippet FROM ims.search_issues('SIGSEGV');
SELECT issue_id, snippet FROM ims.search_issues('디스크');

-- The tokenizer in SQL: immutable, parallel safe
SELECT ims.to_search_vector('OpenFrame에서 ORA-00942', 'TJES 연결이 끊김');
SELECT ims.to_search_query('연결 "connection reset" -OSC OR batch product:Tmax');
SELECT proname, provolatile, proparallel FROM pg_proc
 WHERE pronamespace = 'ims'::regnamespace AND proname IN ('to_search_vector', 'to_search_query') ORDER BY 1;

-- The index follows direct writes to comments and attachments
INSERT INTO ims.issue_comments (issue_pk, content, content_hash)
SELECT issue_pk, 'Workaround: restart the zeppelin daemon', 'h1' FROM ims.issues WHERE issue_id = 'R-30';
SELECT issue_id FROM ims.search_issues('zeppelin');
UPDATE ims.issue_comments SET content = 'Workaround: restart the blimp daemon' WHERE content_hash = 'h1';
SELECT count(*) AS old_word FROM ims.search_issues('zeppelin');
SELECT issue_id FROM ims.search_issues('blimp');
DELETE FROM ims.issue_comments WHERE content_hash = 'h1';
SELECT count(*) AS after_delete FROM ims.search_issues('blimp');
INSERT INTO ims.attachments (issue_pk, file_name, extracted_text)
SELECT issue_pk, 'x.log', 'kraken detected' FROM ims.issues WHERE issue_id = 'R-29';
SELECT issue_id FROM ims.search_issues('kraken');
UPDATE ims.issues SET title = 'TJES slow response (narwhal)' WHERE issue_id = 'R-29';
SELECT issue_id FROM ims.search_issues('narwhal kraken');
SELECT action FROM ims.upsert_issue('{"issue_id": "R-29", "comments": [{"content": "walrus seen"}]}');
SELECT issue_id FROM ims.search_issues('walrus narwhal kraken');

-- The posting lists and the pending path agree: the same query ranks the
-- same issues the same, whether they come from the lists (just refreshed)
-- or are all pending (stamped as written now).
SELECT ims.refresh_materialized_views();
SELECT ims.search_index_pending() AS pending_after_refresh;
CREATE TEMP TABLE from_lists AS
SELECT j.query, s.issue_id, s.rank, s.position
  FROM judgements j, LATERAL ims.search_issues(j.query, j.product, 10) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position);
UPDATE ims.issues SET search_version = pg_current_xact_id();
SELECT ims.search_index_pending() AS pending_after_stamping;
SELECT count(*) AS differences FROM (
  (SELECT * FROM from_lists
   EXCEPT ALL
   SELECT j.query, s.issue_id, s.rank, s.position
     FROM judgements j, LATERAL ims.search_issues(j.query, j.product, 10) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position))
  UNION ALL
  (SELECT j.query, s.issue_id, s.rank, s.position
     FROM judgements j, LATERAL ims.search_issues(j.query, j.product, 10) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position)
   EXCEPT ALL
   SELECT * FROM from_lists)) d;
SELECT count(*) > 50 AS compared FROM from_lists;
SELECT ims.refresh_materialized_views();
-- Writes after a refresh show at once: a new issue, a changed product, a
-- deleted issue (still in the lists until the next refresh).
SELECT action FROM ims.upsert_issue('{"issue_id": "R-90", "product": "Tmax", "title": "quokka sighting in the gateway"}');
SELECT issue_id, product FROM ims.search_issues('gateway', 'Tmax') ORDER BY 1;
UPDATE ims.issues SET product = 'JEUS' WHERE issue_id = 'R-12';
SELECT issue_id FROM ims.search_issues('gateway', 'Tmax') ORDER BY 1;
SELECT issue_id FROM ims.search_issues('gateway product:JEUS') ORDER BY 1;
SELECT ims.search_index_pending() AS pending;
SELECT ims.refresh_materialized_views();
SELECT ims.search_index_pending() AS pending;
DELETE FROM ims.issues WHERE issue_id = 'R-90';
SELECT count(*) AS deleted_issue FROM ims.search_issues('quokka');
UPDATE ims.issues SET product = 'Tmax' WHERE issue_id = 'R-12';
-- A transaction finds its own writes.
BEGIN;
SELECT action FROM ims.upsert_issue('{"issue_id": "R-91", "title": "numbat in the same transaction"}');
SELECT issue_id FROM ims.search_issues('numbat');
ROLLBACK;
-- An issue_pk set by hand, even a negative one, is found after a rebuild.
INSERT INTO ims.issues (issue_pk, issue_id, title) VALUES (-5, 'R-NEG', 'wombat burrow');
SELECT ims.refresh_search_index();
SELECT issue_id, ims.search_index_pending() AS pending FROM ims.search_issues('wombat');
DELETE FROM ims.issues WHERE issue_pk = -5;
SELECT term, doc_freq FROM ims.search_index_terms() WHERE term IN ('gateway', 'product:tmax', 'quokka', '연결') ORDER BY 1;

-- A word in more issues than its champion list holds (2,048): one-word
-- searches rank from the champion list, and agree with the full lists and
-- with scoring every issue from its vector.
SELECT count(*) AS stored FROM ims.upsert_issues((
  SELECT jsonb_agg(jsonb_build_object(
           'issue_id', 'Z-' || g,
           'product', (ARRAY['OpenFrame', 'Tmax', 'JEUS', 'WebtoB'])[1 + g % 4],
           'status', (ARRAY['Open', 'Closed'])[1 + g % 2],
           'title', repeat('zebra ', 1 + g % 3) || 'crossing ' || g,
           'description', repeat('filler words ', g % 7) || CASE WHEN g % 5 = 0 THEN 'okapi' ELSE '' END))
    FROM generate_series(1, 2500) g));
SELECT ims.refresh_materialized_views();
CREATE TEMP TABLE zq (query text, product text, k int);
INSERT INTO zq VALUES ('zebra', NULL, 50), ('zebra', 'Tmax', 50), ('zebra -okapi', NULL, 50),
                      ('zebra status:open', 'JEUS', 50), ('zebra', NULL, 1000), ('zebra product:webtob', NULL, 700);
CREATE TEMP TABLE zlisted AS
SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
  FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position);
UPDATE ims.issues SET search_version = pg_current_xact_id() WHERE issue_id LIKE 'Z-%';
SELECT ims.search_index_pending() AS pending;
SELECT count(*) AS differences FROM (
  (SELECT * FROM zlisted
   EXCEPT ALL
   SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
     FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position))
  UNION ALL
  (SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
     FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position)
   EXCEPT ALL
   SELECT * FROM zlisted)) d;
SELECT query, product, k, count(*) AS results, min(issue_id) FILTER (WHERE position = 1) AS first
  FROM zlisted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT ims.refresh_materialized_views();
SELECT term, doc_freq FROM ims.search_index_terms() WHERE term IN ('zebra', 'okapi') ORDER BY 1;
SELECT count(*) AS champion_lists FROM ims.mv_search_postings WHERE term = 'top:zebra';
DELETE FROM ims.issue_history WHERE issue_pk IN (SELECT issue_pk FROM ims.issues WHERE issue_id LIKE 'Z-%');
DELETE FROM ims.issues WHERE issue_id LIKE 'Z-%';

-- Bad or odd input: a documented result or a clear error
SELECT regress.error_of($$SELECT * FROM ims.search_issues('')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('   ')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues(NULL)$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('- OR ""')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('-timeout')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('product:Tmax')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('the of and')$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues(repeat('timeout ', 1300))$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('timeout', NULL, -1)$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('timeout', NULL, NULL)$$);
SELECT count(*) AS zero_results FROM ims.search_issues('timeout', NULL, 0);
SELECT count(*) AS huge_max_results FROM ims.search_issues('OpenFrame', NULL, 2000000000);
SELECT issue_id FROM ims.search_issues('"connection reset');    -- unbalanced quote: runs to the end
SELECT count(*) FROM ims.search_issues($$'; DROP TABLE ims.issues; --$$);
SELECT regress.error_of($$SELECT * FROM ims.search_issues('\\ '' : & | ! <-> ( )')$$);

DELETE FROM ims.attachments;
DELETE FROM ims.issue_comments;
DELETE FROM ims.issue_history;
DELETE FROM ims.issues;
SELECT ims.refresh_materialized_views();
