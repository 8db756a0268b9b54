-- A realistic sample: several users, crawl sessions over the last four
-- months, Korean and English issues with comments, attachments, history
-- (from re-crawls), errors and searches. Loaded by scripts/demo.sh into a
-- database where CREATE EXTENSION ims_crawler has run; as a superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

INSERT INTO ims.users (user_id, username, display_name, email, role, db_role) VALUES
  (1, 'admin',        'IMS Admin',  'admin@example.com',       'admin',    NULL),
  (2, 'yijae.shin',   '신이재',      'yijae.shin@example.com',  'user',     NULL),
  (3, 'minsu.kim',    '김민수',      'minsu.kim@example.com',   'user',     NULL),
  (4, 'analyst',      'Data Analyst', 'analyst@example.com',    'readonly', NULL);
SELECT setval(pg_get_serial_sequence('ims.users', 'user_id'), 4);

-- Sessions: yijae and minsu crawl a few times a week over four months.
INSERT INTO ims.crawl_sessions (user_id, started_at, finished_at, status, product, search_query, parameters, crawler_version)
SELECT u, t, t + (interval '1 second' * (120 + (g * 37) % 900)),
       CASE WHEN g % 11 = 0 THEN 'failed' WHEN g % 17 = 0 THEN 'cancelled' ELSE 'completed' END,
       (ARRAY['OpenFrame', 'Tmax', 'JEUS', 'OpenFrame'])[1 + g % 4],
       (ARRAY['connection timeout', '연결 타임아웃', 'ORA-00942', 'TJES abend', '배치 실패'])[1 + g % 5],
       jsonb_build_object('max_pages', 5 + g % 10), '2.3.' || (g % 4)
  FROM generate_series(1, 60) AS g,
       LATERAL (SELECT 2 + g % 2 AS u,
                       date_trunc('day', now()) - interval '1 day' * (g * 2) + interval '9 hours' + interval '13 minutes' * g AS t) x;

-- Issues: a hand-written core, crawled by the sessions.
CREATE TEMP TABLE demo_issues (doc jsonb);
INSERT INTO demo_issues VALUES
 ('{"issue_id": "IMS-20231", "title": "OpenFrame TJES 기동 시 연결 타임아웃 발생", "product": "OpenFrame", "module": "TJES",
    "status": "Open", "priority": "High", "severity": "Major", "reporter": "park.jiwoo", "assignee": "yijae.shin",
    "description": "TJES 서버 기동 직후 클라이언트 연결이 30초 후 타임아웃됩니다. 로그에 ORA-00942 오류가 함께 기록됩니다.",
    "created_at": "2026-08-03T10:15:00+09:00", "customer": "한국은행",
    "comments": [{"comment_id": "5001", "author": "yijae.shin", "content": "로그 확인 결과 DB 계정 권한 문제로 보입니다.", "created_at": "2026-08-03T14:00:00+09:00"},
                 {"comment_id": "5002", "author": "park.jiwoo", "content": "권한 부여 후에도 연결이 끊깁니다.", "created_at": "2026-08-04T09:20:00+09:00"}],
    "attachments": [{"file_name": "tjes_boot.log", "mime_type": "text/plain", "size_bytes": 48213, "checksum": "sha256:1f2e",
                     "extracted_text": "TJES0012E connection timeout after 30000 ms\nORA-00942: table or view does not exist"}]}'),
 ('{"issue_id": "IMS-20232", "title": "OFCOBOL-1234 compile error on nested COPY members", "product": "OpenFrame", "module": "OFCOBOL",
    "status": "In Progress", "priority": "Medium", "severity": "Minor", "reporter": "john.doe", "assignee": "minsu.kim",
    "description": "Compiling a program whose COPY member includes another COPY member fails with OFCOBOL-1234. Works on v7.0.2, fails on v7.0.3.",
    "created_at": "2026-08-10T08:00:00Z",
    "comments": [{"comment_id": "5010", "author": "minsu.kim", "content": "Reproduced on v7.0.3 with the attached sample.", "created_at": "2026-08-11T01:00:00Z"}],
    "attachments": [{"file_name": "sample.cbl", "mime_type": "text/plain", "size_bytes": 2048, "checksum": "sha256:aa01",
                     "extracted_text": "COPY MEMBER-A. COPY MEMBER-B."}]}'),
 ('{"issue_id": "IMS-20240", "title": "JEUS 세션 클러스터링 후 메모리 누수", "product": "JEUS", "module": "Session",
    "status": "Resolved", "priority": "Critical", "severity": "Critical", "reporter": "lee.sohee", "assignee": "yijae.shin",
    "description": "세션 클러스터링을 켜면 힙 사용량이 계속 증가합니다. 12시간 후 OutOfMemoryError가 발생합니다.",
    "created_at": "2026-09-01T11:00:00+09:00", "resolved_at": "2026-09-05T18:30:00+09:00",
    "comments": [{"comment_id": "5020", "author": "yijae.shin", "content": "힙 덤프 분석 결과 세션 리스너가 해제되지 않습니다."},
                 {"comment_id": "5021", "author": "lee.sohee", "content": "패치 적용 후 24시간 동안 문제 없음. 종료합니다."}]}'),
 ('{"issue_id": "IMS-20255", "title": "Tmax batch job fails with TPECLOSE during nightly run", "product": "Tmax", "module": "Batch",
    "status": "Open", "priority": "High", "severity": "Major", "reporter": "ops.team", "assignee": "minsu.kim",
    "description": "The nightly settlement batch stops with TPECLOSE around 02:10. Restarting the job succeeds.",
    "created_at": "2026-10-02T02:30:00+09:00",
    "comments": [{"author": "ops.team", "content": "Happened again last night, same time."}],
    "attachments": [{"file_name": "ulog.20261002", "mime_type": "text/plain", "checksum": "sha256:bb02",
                     "extracted_text": "TPECLOSE: server closed connection during tpcall"}]}'),
 ('{"issue_id": "IMS-20260", "title": "OpenFrame 배치 실패: 데이터셋 잠금 대기 타임아웃", "product": "OpenFrame", "module": "Batch",
    "status": "Open", "priority": "Medium", "severity": "Major", "reporter": "kim.taeho", "assignee": "yijae.shin",
    "description": "여러 배치가 같은 데이터셋을 열 때 잠금 대기 시간이 초과되어 배치가 실패합니다.",
    "created_at": "2026-10-20T16:45:00+09:00"}'),
 ('{"issue_id": "IMS-20271", "title": "0x1F control character breaks OSC screen rendering", "product": "OpenFrame", "module": "OSC",
    "status": "Closed", "priority": "Low", "severity": "Minor", "reporter": "qa.bot", "assignee": "minsu.kim",
    "description": "Fields containing 0x1F render as garbage in OSC map screens.", "created_at": "2026-11-02T09:00:00Z",
    "resolved_at": "2026-11-10T09:00:00Z"}');

-- A generated tail: more issues so searches and statistics have something to chew.
INSERT INTO demo_issues
SELECT jsonb_build_object(
         'issue_id', 'IMS-' || (21000 + g),
         'title', (ARRAY['연결 타임아웃 재현', 'Connection reset by peer', '배치 작업 지연', 'Memory leak in session manager',
                         '로그인 실패 반복', 'Slow query on dataset catalog', '인증서 만료 경고', 'TJES abend S0C4'])[1 + g % 8]
                  || ' #' || g,
         'product', (ARRAY['OpenFrame', 'Tmax', 'JEUS', 'OpenFrame', 'WebtoB'])[1 + g % 5],
         'module', (ARRAY['TJES', 'Batch', 'Session', 'OSC', 'Security'])[1 + (g / 3) % 5],
         'status', (ARRAY['Open', 'In Progress', 'Resolved', 'Closed'])[1 + g % 4],
         'priority', (ARRAY['Low', 'Medium', 'High', 'Critical'])[1 + (g * 7) % 4],
         'reporter', 'user' || (g % 13),
         'assignee', (ARRAY['yijae.shin', 'minsu.kim', NULL])[1 + g % 3],
         'description', (ARRAY['고객사 운영 환경에서 간헐적으로 발생합니다.', 'Occurs under load with more than 200 concurrent users.',
                               '재기동 후 정상 동작합니다.', 'See the attached log for the stack trace.'])[1 + g % 4],
         'created_at', to_char((now() - interval '1 day' * (g % 110)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'resolved_at', CASE WHEN g % 4 >= 2
                             THEN to_char((now() - interval '1 day' * (g % 110) + interval '3 days') AT TIME ZONE 'UTC',
                                          'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
         'comments', jsonb_build_array(
             jsonb_build_object('comment_id', 'c' || g || '-1', 'author', 'support', 'content', '확인 중입니다. Checking.'),
             jsonb_build_object('comment_id', 'c' || g || '-2', 'author', 'dev', 'content', 'Fix planned for the next release.')))
  FROM generate_series(1, 120) AS g;

-- First crawl: each session stores a slice of the issues.
SELECT count(*) AS issues_stored FROM (
  SELECT (ims.upsert_issue(d.doc, s.session_id)).*
    FROM (SELECT doc, row_number() OVER () AS rn FROM demo_issues) d
    JOIN (SELECT session_id, row_number() OVER (ORDER BY started_at) AS sn FROM ims.crawl_sessions) s
      ON s.sn = 1 + d.rn % 60) x;

-- Re-crawls find changes: status moves, new comments, an edited title.
SELECT ims.upsert_issue('{"issue_id": "IMS-20231", "status": "In Progress", "assignee": "minsu.kim",
   "comments": [{"comment_id": "5003", "author": "minsu.kim", "content": "DBA와 함께 원인 분석 중입니다."}]}',
   (SELECT max(session_id) FROM ims.crawl_sessions));
SELECT ims.upsert_issue('{"issue_id": "IMS-20255", "status": "Resolved", "resolved_at": "2026-11-20T10:00:00+09:00",
   "title": "Tmax batch job fails with TPECLOSE during nightly run (fixed in 6.2.1)"}',
   (SELECT max(session_id) FROM ims.crawl_sessions));

-- Errors and searches.
INSERT INTO ims.session_errors (session_id, severity, error_type, error_message, error_detail, issue_id, occurred_at)
SELECT s.session_id,
       (ARRAY['warning', 'error', 'critical', 'error'])[1 + (s.session_id % 4)::int],
       (ARRAY['timeout', 'parse', 'auth', 'http_500'])[1 + (s.session_id % 4)::int],
       (ARRAY['페이지 로딩 시간 초과 (30s)', 'Unexpected HTML structure in issue list', 'SSO token expired', 'IMS returned HTTP 500'])[1 + (s.session_id % 4)::int],
       jsonb_build_object('attempt', 1 + s.session_id % 3), 'IMS-' || (21000 + s.session_id % 120),
       s.started_at + interval '1 minute'
  FROM ims.crawl_sessions s WHERE s.status <> 'completed' OR s.session_id % 5 = 0;
INSERT INTO ims.search_queries (user_id, session_id, original_query, parsed_query, parse_method, confidence, result_count, created_at)
SELECT s.user_id, s.session_id, s.search_query,
       jsonb_build_object('keywords', regexp_split_to_array(s.search_query, '\s+'), 'product', s.product),
       (ARRAY['rule', 'llm', 'hybrid'])[1 + (s.session_id % 3)::int], 0.6 + (s.session_id % 4) / 10.0,
       (s.session_id * 7 % 40)::int, s.started_at
  FROM ims.crawl_sessions s;

-- Finish what the sessions counted, put past months in their partitions,
-- aggregate, refresh.
UPDATE ims.crawl_sessions s SET issues_crawled = l.n, issues_new = l.new, issues_updated = l.upd,
       errors_count = coalesce(e.n, 0), issues_found = l.n + 3
  FROM (SELECT session_id, count(*) AS n, count(*) FILTER (WHERE action = 'inserted') AS new,
               count(*) FILTER (WHERE action = 'updated') AS upd FROM ims.session_issues GROUP BY 1) l
  LEFT JOIN (SELECT session_id, count(*) AS n FROM ims.session_errors GROUP BY 1) e USING (session_id)
 WHERE s.session_id = l.session_id;
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(3);
SELECT sum(ims.aggregate_daily_stats(d::date)) AS daily_rows
  FROM generate_series(now() - interval '125 days', now(), interval '1 day') AS d;
SELECT sum(ims.aggregate_monthly_stats(extract(year FROM m)::int, extract(month FROM m)::int)) AS monthly_rows
  FROM generate_series(date_trunc('month', now() - interval '4 months'), now(), interval '1 month') AS m;
SELECT ims.refresh_materialized_views();
