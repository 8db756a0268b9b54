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
  "title": "Virtual host configuration ignored", "description": "The second virtual host serves the default site."},
 {"issue_id": "R-31", "product": "OpenFrame", "status": "Open",
  "title": "로그인 화면에서 한글이 깨집니다", "description": "Windows 클라이언트의 로그인 화면에서 한글 입력이 깨집니다."},
 {"issue_id": "R-32", "product": "OpenFrame", "status": "Open",
  "title": "문자가 깨져서 표시됩니다", "description": "보고서를 출력하면 일부 문자가 깨져서 표시됩니다."},
 {"issue_id": "R-33", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "메모리 사용량 급증", "description": "배치 실행 중 힙 메모리가 두 배로 늘어나 OOM이 발생합니다."},
 {"issue_id": "R-34", "product": "OpenFrame", "module": "OSC", "status": "Open",
  "title": "화면 응답이 느립니다", "description": "OSC 화면 전환에 5초 이상 걸리고 조회도 느려요."},
 {"issue_id": "R-35", "product": "Tmax", "status": "Open",
  "title": "라이선스 만료됨", "description": "라이선스가 만료되어 서버가 올라오지 않음."},
 {"issue_id": "R-36", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "스케줄러가 작업을 시작하지 않음", "description": "예약된 배치 작업이 정해진 시각에 실행되지 않고 대기 상태로 남습니다."},
 {"issue_id": "R-37", "product": "Tmax", "status": "Open",
  "title": "타임아웃 설정 문의", "description": "트랜잭션 타임아웃 값을 어디서 바꾸는지 문의드립니다."},
 {"issue_id": "R-38", "product": "OpenFrame", "status": "Open",
  "title": "OpenFrame 환경에서 메모리가 누수되는 문제", "description": "장시간 운영하면 프로세스의 메모리가 조금씩 새어 나갑니다."},
 {"issue_id": "R-39", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "배치 작업이 중단되었습니다", "description": "야간 배치 작업이 중간에 멈추고 재시작되지 않았습니다."},
 {"issue_id": "R-40", "product": "JEUS", "status": "Open",
  "title": "데이터베이스 연결이 자주 끊김", "description": "DB 커넥션 풀에서 연결이 자주 끊깁니다."},
 {"issue_id": "R-41", "product": "Tibero", "status": "Open",
  "title": "Tibero 접속 실패", "description": "Tibero에 접속할 때 인증 오류가 반환됩니다."},
 {"issue_id": "R-42", "product": "JEUS", "status": "Open",
  "title": "JEUS 설치 중 오류", "description": "JEUS를 설치하면 라이선스 파일을 찾지 못합니다."},
 {"issue_id": "R-43", "product": "WebtoB", "status": "Open",
  "title": "인증서를 갱신했는데도 경고가 표시됨", "description": "새 인증서로 교체한 후에도 브라우저가 경고를 보여 줍니다."},
 {"issue_id": "R-44", "product": "Tmax", "status": "Open",
  "title": "로그 파일이 생성되지 않습니다", "description": "로그 디렉터리 권한을 바꾼 뒤로 로그 파일이 만들어지지 않습니다."},
 {"issue_id": "R-45", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "Batch job stops without error", "description": "The nightly batch job stopped at step 4 and nothing was written to the log."},
 {"issue_id": "R-46", "product": "JEUS", "status": "Open",
  "title": "How to configure the transaction timeout", "description": "Customer asks where the transaction timeout of JEUS services is configured."},
 {"issue_id": "R-47", "product": "JEUS", "status": "Open",
  "title": "Login page freezes after upgrade", "description": "After upgrading to 7.1 the login page freezes when the user submits the form."},
 {"issue_id": "R-48", "product": "OpenFrame", "status": "Open",
  "title": "Disk usage keeps growing on the spool volume", "description": "Spool files are never deleted, so usage grows until the volume runs out of space."},
 {"issue_id": "R-49", "product": "JEUS", "status": "Open",
  "title": "사용자 권한 변경 후 메뉴가 보이지 않음", "description": "관리자가 권한을 변경하면 일부 메뉴가 사라집니다."},
 {"issue_id": "R-50", "product": "WebtoB", "status": "Open",
  "title": "대용량 파일 업로드 시 서버가 멈춤", "description": "500MB 이상 파일을 업로드하면 서버가 응답하지 않습니다."},
 {"issue_id": "R-51", "product": "Tibero", "status": "Open",
  "title": "SQL 실행 계획이 바뀌어 조회가 느려짐", "description": "통계를 갱신한 후 실행 계획이 바뀌어 조회 속도가 떨어졌습니다."},
 {"issue_id": "R-52", "product": "OpenFrame", "module": "TJES", "status": "Open",
  "title": "TJES 작업 로그 조회 불가", "description": "TJES에서 완료된 작업의 로그를 볼 수 없습니다."},
 {"issue_id": "R-53", "product": "OpenFrame", "module": "OSC", "status": "Open",
  "title": "온라인 트랜잭션 응답 지연", "description": "CICS 트랜잭션 응답 시간이 3초 이상으로 늘었습니다."},
 {"issue_id": "R-54", "product": "JEUS", "status": "Open",
  "title": "메모리 설정 가이드", "description": "JVM 힙 크기를 정하는 방법을 안내합니다."},
 {"issue_id": "R-55", "product": "OpenFrame", "module": "Batch", "status": "Open",
  "title": "배치 일정 변경 요청", "description": "배치 실행 시각을 오전 2시로 바꿔 주세요."},
 {"issue_id": "R-56", "product": "OpenFrame", "status": "Open",
  "title": "한글 폰트 추가 요청", "description": "보고서에 새 한글 폰트를 넣고 싶습니다."},
 {"issue_id": "R-57", "product": "JEUS", "status": "Open",
  "title": "Password expires too early", "description": "User passwords expire after 30 days although the policy says 90."},
 {"issue_id": "R-58", "product": "Tmax", "status": "Open",
  "title": "Connection pool exhausted under load", "description": "All 50 connections in the pool are busy and new requests wait until they time out."},
 {"issue_id": "R-59", "product": "WebtoB", "status": "Open",
  "title": "인증서 체인 오류", "description": "중간 인증서가 누락되어 SSL 핸드셰이크에 실패합니다."},
 {"issue_id": "R-60", "product": "WebtoB", "status": "Open",
  "title": "WebtoB 재시작 후 세션이 유지되지 않음", "description": "WebtoB를 재시작하면 로그인 세션이 모두 끊어집니다."}
]$$);
SELECT ims.refresh_materialized_views();

-- The labelled set: the relevant issue must be first (top 1) or in the top 3.
CREATE TEMP TABLE judgements (query text, product text, expected text, within int, class text DEFAULT 'baseline');
INSERT INTO judgements (query, product, expected, within) VALUES
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

-- How Korean engineers write (0.4.0): inflected forms, particles in the
-- query, Latin words with particles, compounds with and without spaces,
-- natural questions, and precision (an issue sharing one word of the query
-- must not outrank the one that matches it).
INSERT INTO judgements (query, product, expected, within, class) VALUES
  -- spoken questions padded with filler words (0.9.0)
  ('배치가 왜 자꾸 멈췄어요', NULL, 'R-39', 1, 'question'),
  ('화면이 갑자기 너무 느려요', NULL, 'R-34', 1, 'question'),
  ('라이선스 만료되면 서버가 안 떠요?', NULL, 'R-35', 1, 'question'),
  ('혹시 타임아웃 설정 어떻게 바꾸나요', NULL, 'R-37', 1, 'question'),
  ('스케줄러가 작업을 계속 시작 안 해요', NULL, 'R-36', 1, 'question'),
  -- auxiliary verbs, and symptoms as said (0.11.0): 느려지다 is 느리다,
  -- 먹통 is 멈춤, a server that 안 올라가요 does not 기동, 느리다 is 지연
  ('조회가 예전보다 느려졌어요', NULL, 'R-51', 3, 'question'),
  ('업로드하면 서버가 먹통이에요', NULL, 'R-50', 1, 'question'),
  ('TJES 서버가 안 올라가요', NULL, 'R-01', 1, 'question'),
  ('트랜잭션 응답이 너무 느려졌어요', NULL, 'R-53', 1, 'question'),
  ('한글 깨짐', NULL, 'R-31', 3, 'inflection'),
  ('깨짐', NULL, 'R-32', 3, 'inflection'),
  ('깨지는 문자', NULL, 'R-32', 1, 'inflection'),
  ('한글이 깨져서', NULL, 'R-31', 3, 'inflection'),
  ('메모리 급증', NULL, 'R-33', 1, 'inflection'),
  ('메모리가 급증했습니다', NULL, 'R-33', 1, 'inflection'),
  ('느림', NULL, 'R-34', 1, 'inflection'),
  ('조회가 느립니다', NULL, 'R-34', 3, 'inflection'),
  ('응답이 느려요', NULL, 'R-34', 1, 'inflection'),
  ('라이선스 만료', NULL, 'R-35', 1, 'inflection'),
  ('라이선스가 만료되어', NULL, 'R-35', 1, 'inflection'),
  ('만료됨', NULL, 'R-35', 3, 'inflection'),
  ('시작하지 않음', NULL, 'R-36', 1, 'inflection'),
  ('실행되지 않고', NULL, 'R-36', 3, 'inflection'),
  ('중단됨', NULL, 'R-39', 1, 'inflection'),
  ('누수되는', NULL, 'R-38', 3, 'inflection'),
  ('끊김', NULL, 'R-40', 3, 'inflection'),
  ('생성되지 않음', NULL, 'R-44', 1, 'inflection'),
  ('인증서를 갱신했는데', NULL, 'R-43', 1, 'inflection'),
  ('변경하면 메뉴', NULL, 'R-49', 1, 'inflection'),
  ('stopped batch job', NULL, 'R-45', 1, 'inflection'),
  ('freezing login page', NULL, 'R-47', 1, 'inflection'),
  ('passwords expiring', NULL, 'R-57', 1, 'inflection'),
  ('growing disk usage', NULL, 'R-48', 1, 'inflection'),
  ('타임아웃 설정이', NULL, 'R-37', 1, 'particle'),
  ('설정을', NULL, 'R-37', 3, 'particle'),
  ('스케줄러가', NULL, 'R-36', 1, 'particle'),
  ('권한을 변경하면', NULL, 'R-49', 1, 'particle'),
  ('업로드를', NULL, 'R-50', 1, 'particle'),
  ('인증서가 만료되어', NULL, 'R-07', 1, 'particle'),
  ('세션이 유지되지', NULL, 'R-60', 1, 'particle'),
  ('로그 파일이', NULL, 'R-44', 1, 'particle'),
  ('실행 계획이', NULL, 'R-51', 1, 'particle'),
  ('커넥션 풀에서', NULL, 'R-40', 1, 'particle'),
  ('라이선스 파일을', NULL, 'R-42', 1, 'particle'),
  ('OpenFrame에서 메모리', NULL, 'R-38', 1, 'mixed'),
  ('Tibero에 접속', NULL, 'R-41', 1, 'mixed'),
  ('JEUS를 설치', NULL, 'R-42', 1, 'mixed'),
  ('TJES에서 로그', NULL, 'R-52', 1, 'mixed'),
  ('WebtoB를 재시작', NULL, 'R-60', 1, 'mixed'),
  ('SSL 핸드셰이크', NULL, 'R-59', 1, 'mixed'),
  ('500MB 파일 업로드', NULL, 'R-50', 1, 'mixed'),
  ('DB 커넥션', NULL, 'R-40', 1, 'mixed'),
  ('배치작업 중단', NULL, 'R-39', 1, 'spacing'),
  ('로그파일 생성', NULL, 'R-44', 1, 'spacing'),
  ('메모리누수', NULL, 'R-38', 3, 'spacing'),
  ('실행계획', NULL, 'R-51', 1, 'spacing'),
  ('인증서 체인오류', NULL, 'R-59', 1, 'spacing'),
  ('파일업로드', NULL, 'R-50', 1, 'spacing'),
  ('연결타임아웃', NULL, 'R-01', 3, 'spacing'),
  ('로그인화면', NULL, 'R-31', 1, 'spacing'),
  ('배치가 중단된 경우', NULL, 'R-39', 1, 'natural'),
  ('한글이 깨지는 문제', NULL, 'R-31', 3, 'natural'),
  ('메모리가 계속 늘어나는 현상', NULL, 'R-33', 3, 'natural'),
  ('타임아웃 설정 방법', NULL, 'R-37', 1, 'natural'),
  ('로그인 세션이 끊어지는 이유', NULL, 'R-60', 1, 'natural'),
  ('why does the batch job stop', NULL, 'R-45', 1, 'natural'),
  ('how to configure transaction timeout', NULL, 'R-46', 1, 'natural'),
  ('login page freezes after upgrading to 7.1', NULL, 'R-47', 1, 'natural'),
  ('what happens when the connection pool is exhausted', NULL, 'R-58', 1, 'natural'),
  ('서버가 응답하지 않는 경우', NULL, 'R-50', 3, 'natural'),
  ('인증서를 교체했는데 경고가 계속 나오는 문제', NULL, 'R-43', 1, 'natural'),
  ('배치 작업 중단', NULL, 'R-39', 1, 'precision'),
  ('한글 폰트', NULL, 'R-56', 1, 'precision'),
  ('힙 메모리 급증', NULL, 'R-33', 1, 'precision'),
  ('disk usage spool', NULL, 'R-48', 1, 'precision'),
  ('configure transaction timeout', NULL, 'R-46', 1, 'precision'),
  ('connection pool exhausted', NULL, 'R-58', 1, 'precision'),
  ('certificate expired warning', NULL, 'R-08', 1, 'precision');

SELECT j.query, coalesce(j.product, '') AS product, j.expected, j.within, r.position,
       coalesce(r.position <= j.within, false) AS ok
  FROM judgements j
  LEFT JOIN LATERAL (
        SELECT s.position FROM (
          SELECT issue_id, row_number() OVER () AS position
            FROM ims.search_issues(j.query, j.product, 10)) s
         WHERE s.issue_id = j.expected) r ON true
 ORDER BY ok, j.query, j.expected;
-- Per class: judgements passed, recall (expected issue in the top 10) and
-- mean reciprocal rank (BENCHMARKS.md reports the whole set).
SELECT coalesce(class, 'all') AS class, count(*) AS judgements, count(*) FILTER (WHERE ok) AS passed,
       round(avg((position IS NOT NULL)::int), 3) AS recall_at_10,
       round(avg(coalesce(1.0 / position, 0)), 3) AS mrr
  FROM (SELECT j.class, p.position, coalesce(p.position <= j.within, false) AS ok
          FROM judgements j
          LEFT JOIN LATERAL (
                SELECT s.position FROM (SELECT issue_id, row_number() OVER () AS position
                                          FROM ims.search_issues(j.query, j.product, 10)) s
                 WHERE s.issue_id = j.expected) p ON true) x
 GROUP BY ROLLUP (class) ORDER BY class NULLS LAST;

-- Exclusion removes, phrases require adjacency
SELECT issue_id FROM ims.search_issues('memory leak -redeploy');
SELECT issue_id FROM ims.search_issues('"connection reset"') ORDER BY 1;
SELECT issue_id FROM ims.search_issues('connection reset') ORDER BY 1;
-- Plain words: at least half of them (rounded up) match, more matched ranks
-- higher; AND and quotes make a word required. When fewer issues than asked
-- for hold half of the words, issues holding any one of them are ranked
-- instead (after those holding more, at equal weight): R-55 holds 배치 only.
SELECT issue_id, title FROM ims.search_issues('배치가 중단된 경우', NULL, 3);
SELECT issue_id, title FROM ims.search_issues('타임아웃 설정 방법', NULL, 3);
SELECT issue_id, title FROM ims.search_issues('타임아웃 문의하는 방법', NULL, 2);
SELECT count(*) AS both_required FROM ims.search_issues('타임아웃 AND 방법');
SELECT count(*) AS with_and FROM ims.search_issues('배치가 중단된 AND 경우');
SELECT count(*) AS quoted FROM ims.search_issues('배치가 중단된 "경우"');
SELECT issue_id FROM ims.search_issues('batch job stop AND nightly') ORDER BY 1;
SELECT issue_id FROM ims.search_issues('memory leak session redeploy heap grows') ORDER BY rank DESC, issue_id LIMIT 2;

-- Typos (#24): an English word no issue holds is searched with the indexed
-- words closest to it (one edit up to 7 letters, two from 8, the first
-- letter kept); did_you_mean says what it meant. Codes, short words and
-- Hangul are left as typed.
SELECT issue_id, title FROM ims.search_issues('certificate exipry', NULL, 2);
SELECT issue_id FROM ims.search_issues('conection reset', NULL, 1);
SELECT ims.did_you_mean('conection resett') AS conection_resett,
       ims.did_you_mean('connection reset') AS already_right,
       ims.did_you_mean('ORA-00943 ssl 인증서') AS codes_short_hangul,
       ims.did_you_mean('Conection  timout') AS spacing_kept;
SELECT count(*) AS no_such_word FROM ims.search_issues('qqqqzzzz');

-- Synonyms (#24): shipped rows link Hangul and Latin spellings; a word
-- with synonyms counts once toward half of the words, and an issue scores
-- once by the spelling it holds.
SELECT issue_id, title FROM ims.search_issues('세션 메모리 누수', NULL, 3);
SELECT issue_id, title FROM ims.search_issues('certificate 만료', NULL, 2);
SELECT ims.search_query_text('세션') AS query_text_is_as_typed;
INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('TPECLOSE', '끊김');
SELECT issue_id FROM ims.search_issues('TPECLOSE', NULL, 5) ORDER BY 1;
DELETE FROM ims_index.search_synonyms WHERE word = 'TPECLOSE';
SELECT issue_id FROM ims.search_issues('TPECLOSE', NULL, 5) ORDER BY 1;
INSERT INTO ims_index.search_synonyms (word, synonym) VALUES ('two words', 'x');
-- Spoken symptoms (0.11.0): any form of the verb finds the written word.
SELECT issue_id, title FROM ims.search_issues('서버가 먹통이 돼버렸어요', NULL, 1);
SELECT issue_id, title FROM ims.search_issues('TJES 서버가 안 올라가요', NULL, 1);

SELECT ims.to_search_query('배치가 중단된 경우');
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
-- The vector is built in tsvector's binary layout: the same value as its
-- text form read by tsvector_in, for every issue here and at the edges (no
-- text, quotes and backslashes, a word more than 255 times, positions past
-- the last one tsvector has, 16383).
WITH t(title, description, comments, attachments) AS (
  SELECT title, description, (SELECT string_agg(content, E'\n') FROM ims.issue_comments c WHERE c.issue_pk = i.issue_pk), NULL
    FROM ims.issues i
  UNION ALL VALUES (NULL, NULL, NULL, NULL), ('', '', '', ''),
    ('it''s a back\slash "quoted" O''Reilly', NULL, NULL, 'x:1 y\\z'),
    (repeat('timeout ', 300), repeat('연결 오류 ', 9000), 'tail word', 'ORA-00942 at the very end'))
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE ims.to_search_vector(title, description, comments, attachments)::text
                        IS DISTINCT FROM ims.search_vector_text(title, description, comments, attachments)::tsvector::text) AS differing,
       count(*) FILTER (WHERE ims.to_search_vector(title, description, comments, attachments)
                        <> ims.search_vector_text(title, description, comments, attachments)::tsvector) AS unequal
  FROM t;
SELECT length(v) AS lexemes, (SELECT positions FROM unnest(v) WHERE lexeme = 'tail') AS tail_at
  FROM ims.to_search_vector('start', repeat('연결 오류 ', 9000), 'tail word') v;

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
-- An upsert stamps its rows as the row triggers would: a re-crawl that
-- changes nothing search reads leaves the issue in the lists (updated_at
-- still moves: the crawl counters did); a changed status makes it pending,
-- and the filter sees the new status at once.
SELECT status AS r12_status FROM ims.issues WHERE issue_id = 'R-12' \gset
BEGIN;
SELECT action FROM ims.upsert_issue('{"issue_id": "R-12"}');
SELECT updated_at = now() AS updated_now, search_version = pg_current_xact_id() AS stamped
  FROM ims.issues WHERE issue_id = 'R-12';
COMMIT;
SELECT ims.search_index_pending() AS pending;
BEGIN;
SELECT action, changed_fields FROM ims.upsert_issue('{"issue_id": "R-12", "status": "Closed"}');
SELECT updated_at = now() AS updated_now, search_version = pg_current_xact_id() AS stamped
  FROM ims.issues WHERE issue_id = 'R-12';
COMMIT;
SELECT ims.search_index_pending() AS pending;
SELECT issue_id, status FROM ims.search_issues('gateway status:closed');
SELECT action FROM ims.upsert_issue(jsonb_build_object('issue_id', 'R-12', 'status', :'r12_status'));
SELECT ims.refresh_materialized_views();
DELETE FROM ims.issues WHERE issue_id = 'R-90';
SELECT count(*) AS deleted_issue FROM ims.search_issues('quokka');
UPDATE ims.issues SET product = 'Tmax' WHERE issue_id = 'R-12';
-- A transaction finds its own writes.
BEGIN;
SELECT action FROM ims.upsert_issue('{"issue_id": "R-91", "title": "numbat in the same transaction"}');
SELECT issue_id FROM ims.search_issues('numbat');
ROLLBACK;
-- An old stamp that sorts after the newest one as text (999 > 1234 as
-- text) does not hide an issue written since the rebuild.
SELECT ims.refresh_search_index();
SELECT title AS r11_title, repeat('9', length(pg_current_xact_id()::text) - 1) AS old_stamp
  FROM ims.issues WHERE issue_id = 'R-11' \gset
UPDATE ims.issues SET search_version = :'old_stamp'::xid8 WHERE issue_id = 'R-12';
UPDATE ims.issues SET title = 'bilby at the gateway' WHERE issue_id = 'R-11';
SELECT ims.search_index_pending() AS pending;
SELECT issue_id FROM ims.search_issues('bilby');
UPDATE ims.issues SET title = :'r11_title' WHERE issue_id = 'R-11';
-- The lists a backend keeps decoded follow the index: after a rebuild
-- rolled back, the lists it read inside it are not used.
BEGIN;
UPDATE ims.issues SET title = 'echidna' WHERE issue_id = 'R-12';
SELECT ims.refresh_search_index();
SELECT issue_id FROM ims.search_issues('echidna');
ROLLBACK;
SELECT count(*) AS after_rollback FROM ims.search_issues('echidna');
-- The lists kept per backend: a setting in MB; 0 keeps none (searches still answer).
SHOW ims.search_cache_size;
SET ims.search_cache_size = 0;
SELECT issue_id FROM ims.search_issues('bilby OR gateway') ORDER BY 1 LIMIT 3;
RESET ims.search_cache_size;
SELECT issue_id FROM ims.search_issues('bilby OR gateway') ORDER BY 1 LIMIT 3;
DO $$ BEGIN SET ims.search_cache_size = -1; EXCEPTION WHEN invalid_parameter_value THEN RAISE NOTICE 'refused: %', SQLSTATE; END $$;
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
-- Segments: issues written since the base was built go into a segment at
-- each round of ims.update_search_index() (the search indexer runs one
-- while writes come; it is off in these tests). Searches read the base and every
-- segment after it, a later copy of an issue replacing an earlier one.
UPDATE ims.issues SET title = 'giraffe ' || title WHERE issue_id LIKE 'Z-%' AND substr(issue_id, 3)::int % 2 = 0;
SELECT ims.search_index_pending() AS pending;
SELECT indexed, merged, segments, segment_issues, base_issues FROM ims.update_search_index();
SELECT ims.search_index_pending() AS pending;
SELECT segment > 0 AS is_segment, issues FROM ims.search_index_segments() ORDER BY segment;
SELECT term, doc_freq FROM ims.search_index_terms() WHERE term IN ('zebra', 'giraff') ORDER BY 1;
-- Ranks from the base and a segment are those of scoring every issue from its vector.
INSERT INTO zq VALUES ('giraffe zebra', NULL, 50), ('giraffe', 'Tmax', 20), ('zebra -giraffe', NULL, 50),
                      ('giraffe OR okapi', NULL, 100);
CREATE TEMP TABLE zsegments AS
SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
  FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position);
BEGIN;
UPDATE ims.issues SET search_version = pg_current_xact_id() WHERE issue_id LIKE 'Z-%';
SELECT count(*) AS differences FROM (
  (SELECT * FROM zsegments
   EXCEPT ALL
   SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
     FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position))
  UNION ALL
  (SELECT zq.query, zq.product, zq.k, s.issue_id, s.rank, s.position
     FROM zq, LATERAL ims.search_issues(zq.query, zq.product, zq.k) WITH ORDINALITY s(issue_id, t, p, st, rank, sn, position)
   EXCEPT ALL
   SELECT * FROM zsegments)) d;
ROLLBACK;
SELECT query, product, k, count(*) AS results, min(issue_id) FILTER (WHERE position = 1) AS first
  FROM zsegments WHERE query ~ 'giraffe' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- A copy in a newer segment replaces the older one; a deleted issue is gone.
UPDATE ims.issues SET title = 'hippo wading' WHERE issue_id = 'Z-2';
DELETE FROM ims.issues WHERE issue_id = 'Z-4';
SELECT indexed, merged, segments FROM ims.update_search_index();
SELECT issue_id FROM ims.search_issues('hippo');
SELECT count(*) AS giraffes, count(*) FILTER (WHERE issue_id IN ('Z-2', 'Z-4')) AS stale
  FROM ims.search_issues('giraffe product:JEUS', NULL, 1000);
-- Small segments are merged: the newer one is at least half the older.
UPDATE ims.issues SET title = title || ' again' WHERE issue_id LIKE 'Z-%' AND substr(issue_id, 3)::int % 3 = 0;
SELECT indexed, merged, segments, segment_issues FROM ims.update_search_index();
SELECT count(*) AS giraffes FROM ims.search_issues('giraffe product:JEUS', NULL, 1000);
SELECT issue_id FROM ims.search_issues('hippo');
-- A round with nothing new writes nothing; a rebuild of the base drops the segments.
SELECT indexed, merged, segments FROM ims.update_search_index();
SELECT ims.refresh_search_index();
SELECT segment, issues > 0 AS holds_issues FROM ims.search_index_segments();
SELECT count(*) AS giraffes FROM ims.search_issues('giraffe product:JEUS', NULL, 1000);
-- The indexer is off here: starting it says so.
SELECT regress.error_of($$SELECT ims.start_search_indexer()$$);
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

-- A minus before a digit is a number's sign: SQLCODE -811 finds -811 first.
SELECT ims.search_query_text('SQLCODE -811 -deadlock');
SELECT count(*) FROM ims.upsert_issues('[
  {"issue_id": "S-3", "title": "SQLCODE -811 on SELECT INTO", "product": "OpenFrame"},
  {"issue_id": "S-4", "title": "SQLCODE -803 duplicate key", "product": "OpenFrame"}]');
SELECT issue_id FROM ims.search_issues('SQLCODE -811');

DELETE FROM ims.attachments;
DELETE FROM ims.issue_comments;
DELETE FROM ims.issue_history;
DELETE FROM ims.issues;
SELECT ims.refresh_materialized_views();

