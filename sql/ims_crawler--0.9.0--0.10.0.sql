-- ims_crawler 0.9.0 -> 0.10.0: search synonyms (issue #24). A query word
-- with synonyms (a loanword's Hangul and Latin spellings, Korean and
-- English words for one thing) finds issues holding any of them, each
-- scored once by its best spelling. The rows live in
-- ims_index.search_synonyms: shipped ones, and an administrator's own.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

CREATE FUNCTION ims."search_synonyms_changed"() RETURNS TRIGGER
LANGUAGE c
AS 'MODULE_PATHNAME', 'search_synonyms_changed_wrapper';

-- Typos: search_issues searches a word no issue holds with the closest
-- indexed words; ims.did_you_mean says what it meant.
CREATE FUNCTION ims."did_you_mean"(
	"query" TEXT /* & str */
) RETURNS TEXT /* Option < String > */
STRICT STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'did_you_mean_wrapper';

COMMENT ON SCHEMA ims_index IS 'Internal storage of the search index (segments, read by the extension''s functions only) and the search synonyms (edited by ims_admin).';
-- Synonyms (src/search/synonyms.rs): loanwords spelled in Hangul or in
-- Latin letters, and Korean and English words for one thing. A query word
-- with synonyms is searched as one word of several spellings.
-- Administrators add and remove rows; the shipped rows come back with the
-- extension (a dump keeps only the others). In ims_index with the rest of
-- the search index's own tables (the ims schema holds the crawl's data).
CREATE TABLE ims_index.search_synonyms (
    word     text    NOT NULL,
    synonym  text    NOT NULL,
    shipped  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (word, synonym),
    CONSTRAINT search_synonyms_words_check CHECK (
        word <> synonym
        AND word !~ '[[:space:]"]' AND synonym !~ '[[:space:]"]'
        AND pg_catalog.octet_length(word) BETWEEN 1 AND 64
        AND pg_catalog.octet_length(synonym) BETWEEN 1 AND 64)
);
COMMENT ON TABLE ims_index.search_synonyms IS
    'Synonyms of search words (one word each side; matched as the index knows words, so "Sessions" and "세션을" find the rows of "session" and "세션"): a query word with synonyms finds issues holding any of them, each scored once by its best spelling. A row works one way: add both directions for a two-way link. shipped: installed by the extension (restored with it, not dumped). Changes apply to the next search of every connection.';
COMMENT ON COLUMN ims_index.search_synonyms.word IS 'The word as typed in a query.';
COMMENT ON COLUMN ims_index.search_synonyms.synonym IS 'Another word issues may use for it.';
COMMENT ON COLUMN ims_index.search_synonyms.shipped IS 'A row the extension installs (a dump leaves it out; the restored extension brings it back).';
CREATE TRIGGER trg_search_synonyms_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ims_index.search_synonyms
    FOR EACH STATEMENT EXECUTE FUNCTION ims.search_synonyms_changed();
COMMENT ON FUNCTION ims.did_you_mean(text) IS
    'The query with its misspelt English words (a stem of 4 letters or more that no issue in the search index holds) corrected to the closest word the index holds (one edit for stems of up to 7 letters, two from 8, the first letter kept); NULL when no word needs it. ims.search_issues already searches such words with their corrections.';
COMMENT ON FUNCTION ims.search_synonyms_changed() IS
    'Trigger on ims_index.search_synonyms: every connection reads the synonyms again before its next search.';
INSERT INTO ims_index.search_synonyms (word, synonym, shipped)
SELECT DISTINCT x.w, x.s, true
  FROM (VALUES
    -- loanwords: Hangul and Latin spellings
    ('세션', 'session'), ('타임아웃', 'timeout'), ('데드락', 'deadlock'), ('힙', 'heap'), ('덤프', 'dump'),
    ('로드', 'load'), ('밸런싱', 'balancing'), ('밸런서', 'balancer'), ('메모리', 'memory'), ('릭', 'leak'),
    ('커넥션', 'connection'), ('쓰레드', 'thread'), ('스레드', 'thread'), ('쓰레드', '스레드'),
    ('로그인', 'login'), ('로그아웃', 'logout'), ('캐시', 'cache'), ('클러스터', 'cluster'),
    ('클러스터링', 'clustering'), ('페일오버', 'failover'), ('인코딩', 'encoding'), ('트랜잭션', 'transaction'),
    ('서버', 'server'), ('데이터베이스', 'database'), ('쿼리', 'query'), ('인덱스', 'index'), ('버퍼', 'buffer'),
    ('로그', 'log'), ('패치', 'patch'), ('업그레이드', 'upgrade'), ('마이그레이션', 'migration'), ('백업', 'backup'),
    ('스키마', 'schema'), ('테이블', 'table'), ('컬럼', 'column'), ('노드', 'node'), ('포트', 'port'),
    ('프로세스', 'process'), ('메시지', 'message'), ('큐', 'queue'), ('소켓', 'socket'), ('프록시', 'proxy'),
    ('라이선스', 'license'), ('라이센스', 'license'), ('라이선스', '라이센스'), ('인스턴스', 'instance'),
    ('버전', 'version'), ('스케줄러', 'scheduler'), ('배치', 'batch'), ('리스너', 'listener'),
    ('드라이버', 'driver'), ('가비지', 'garbage'), ('롤백', 'rollback'), ('커밋', 'commit'), ('락', 'lock'),
    ('디플로이', 'deploy'), ('파티션', 'partition'), ('스왑', 'swap'), ('핸들러', 'handler'),
    ('리소스', 'resource'), ('세그먼트', 'segment'), ('컴파일', 'compile'), ('어플리케이션', 'application'),
    ('애플리케이션', 'application'), ('어플리케이션', '애플리케이션'), ('데이터셋', 'dataset'),
    ('스풀', 'spool'), ('카탈로그', 'catalog'), ('게이트웨이', 'gateway'), ('인증서', 'certificate'),
    ('토큰', 'token'), ('런타임', 'runtime'), ('웹어드민', 'webadmin'), ('어드민', 'admin'),
    ('스냅샷', 'snapshot'), ('리전', 'region'), ('터미널', 'terminal'), ('프린터', 'printer'),
    -- Korean and English words for one thing
    ('에러', '오류'), ('에러', 'error'), ('오류', 'error'), ('장애', 'failure'), ('누수', 'leak'),
    ('배포', 'deploy'), ('잠금', 'lock'), ('교착', 'deadlock'), ('지연', 'latency'), ('복구', 'recovery'),
    ('권한', 'permission'), ('인증', 'authentication'), ('설치', 'install'), ('기동', 'startup'),
    ('종료', 'shutdown'), ('접속', 'connection'), ('연결', 'connection'), ('접속', '연결'),
    ('암호', 'password'), ('비밀번호', 'password'), ('암호', '비밀번호'), ('설정', 'configuration'),
    ('재시작', 'restart'), ('재기동', 'restart'), ('재시작', '재기동'), ('느림', 'slow'), ('복제', 'replication')
  ) AS g(a, b),
  LATERAL (VALUES (g.a, g.b), (g.b, g.a)) AS x(w, s);

GRANT USAGE ON SCHEMA ims_index TO ims_admin, ims_readonly;
REVOKE ALL ON ims_index.search_synonyms FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ims_index.search_synonyms TO ims_admin;
GRANT SELECT ON ims_index.search_synonyms TO ims_readonly;
REVOKE ALL ON FUNCTION ims.search_synonyms_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION ims.did_you_mean(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.did_you_mean(text) TO ims_admin, ims_user, ims_readonly;
SELECT pg_catalog.pg_extension_config_dump('ims_index.search_synonyms', 'WHERE NOT shipped');
