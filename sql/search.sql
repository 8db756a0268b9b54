-- ims_crawler: the search index. See src/search/mod.rs. The columns it
-- reads and stamps (issues.search_vector, search_version) are in schema.sql.

COMMENT ON COLUMN ims.issues.search_vector IS
    'Search tokens (Hangul bigrams and =stems, stemmed English, codes whole) weighted A title, B description, C comments, D attachment text; kept current by triggers.';
-- Searches rank from the posting lists in ims.mv_search_postings (below)
-- and score the issues written since its last refresh from their vectors:
-- those carry a transaction id at or after the one the refresh recorded.
COMMENT ON COLUMN ims.issues.search_version IS
    'Transaction that last changed what search reads of this issue (text, product, status, priority); set by a trigger (upserts set it as the trigger would).';
CREATE INDEX idx_issues_search_version ON ims.issues (search_version); -- issues newer than the posting lists

CREATE FUNCTION ims.stamp_search_version() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR (NEW.title, NEW.description, NEW.product, NEW.status, NEW.priority, NEW.search_vector)
          IS DISTINCT FROM (OLD.title, OLD.description, OLD.product, OLD.status, OLD.priority, OLD.search_vector) THEN
        NEW.search_version := pg_catalog.pg_current_xact_id();
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION ims.stamp_search_version() FROM PUBLIC;
COMMENT ON FUNCTION ims.stamp_search_version() IS
    'Trigger: stamps an issue with the current transaction id when what search reads of it changes.';
-- A row already stamped by this transaction is left alone without calling
-- the function (the upsert stamps the rows whose searched fields it changes).
CREATE TRIGGER trg_issues_search_version BEFORE INSERT OR UPDATE ON ims.issues
    FOR EACH ROW WHEN (NEW.search_version IS DISTINCT FROM pg_catalog.pg_current_xact_id())
    EXECUTE FUNCTION ims.stamp_search_version();

COMMENT ON FUNCTION ims.to_search_vector(text, text, text, text) IS
    'The weighted search tsvector of an issue''s title, description, comments and attachment text, as ims.search_issues indexes it.';

CREATE FUNCTION ims.to_search_query(query text)
RETURNS pg_catalog.tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ims.search_query_text(query)::pg_catalog.tsquery $$;
COMMENT ON FUNCTION ims.to_search_query(text) IS
    'The tsquery for a search query''s words, phrases, OR and -exclusions (field filters are applied by ims.search_issues, not here).';

COMMENT ON FUNCTION ims.search_vector_text(text, text, text, text) IS 'Text form of ims.to_search_vector.';
COMMENT ON FUNCTION ims.search_query_text(text) IS 'Text form of ims.to_search_query.';
COMMENT ON FUNCTION ims.refresh_search_vectors(bigint[]) IS
    'Recompute the search vectors of these issues (the triggers call it; pass every issue_pk to rebuild the index).';
COMMENT ON FUNCTION ims.search_issues(text, text, integer) IS
    'Ranked (BM25) search over titles, descriptions, comments and attachment text: words (at least half of them must match, more rank higher; Korean by stem), AND, "phrases", -exclusions, OR, product:/status:/priority: filters; best first, with an HTML snippet (the text escaped, matches in <b>).';

-- The search index between rebuilds of its base: segments (src/search/segments.rs).
-- Index data, not user data: in a schema of their own, read only by the
-- extension's functions, and not dumped (a restore rebuilds the base).
CREATE SCHEMA ims_index;
REVOKE ALL ON SCHEMA ims_index FROM PUBLIC;
COMMENT ON SCHEMA ims_index IS 'Internal storage of the search index (segments, read by the extension''s functions only) and the search synonyms (edited by ims_admin).';
CREATE TABLE ims_index.search_segments (
    segment  bigint NOT NULL,
    term     text   NOT NULL,
    postings bytea  NOT NULL,
    PRIMARY KEY (term, segment)
);
ALTER TABLE ims_index.search_segments ALTER COLUMN postings SET STORAGE EXTERNAL;
CREATE INDEX idx_search_segments_segment ON ims_index.search_segments (segment);
COMMENT ON TABLE ims_index.search_segments IS
    'Posting lists of the issues written since the base of the search index (ims.mv_search_postings) was built, one segment per build (numbered in the order of their snapshots); term '''' holds a segment''s statistics, ''issues:'' the issues it holds. Written by ims.update_search_index().';

-- The posting lists: one row per term (and per product, status and
-- priority value) with every issue holding it and its BM25 impact; row ''
-- holds the corpus statistics. Built in Rust (src/search_postings.rs) by
-- ims.refresh_materialized_views(); stored uncompressed, since the lists
-- are already packed and searches read them whole.
CREATE MATERIALIZED VIEW ims.mv_search_postings AS
SELECT term, postings FROM ims.search_postings_build();
ALTER MATERIALIZED VIEW ims.mv_search_postings ALTER COLUMN postings SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX uq_mv_search_postings ON ims.mv_search_postings (term);
COMMENT ON MATERIALIZED VIEW ims.mv_search_postings IS
    'Search posting lists (per term: the issues holding it with their BM25 impacts; row '''' holds the corpus statistics), refreshed by ims.refresh_materialized_views().';
COMMENT ON FUNCTION ims.search_postings_build() IS
    'The rows of ims.mv_search_postings, built from every issue''s search vector.';
COMMENT ON FUNCTION ims.search_index_terms() IS
    'Terms of the search index (its base and the segments built since) and the number of issues holding each.';
COMMENT ON FUNCTION ims.refresh_search_index() IS
    'Rebuild the search index (ims.mv_search_postings) concurrently; schedule_maintenance runs it hourly.';
COMMENT ON FUNCTION ims.search_index_pending() IS
    'Issues written since the newest build of the search index (base or segment): searches score them one by one until the search indexer indexes them, within a fraction of a second.';

-- Keep vectors current whatever writes the rows. The trigger functions run
-- as the owner: a delete can cascade into comments and attachments, and the
-- index must follow without granting users the refresh function.
CREATE FUNCTION ims.search_index_issues() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
-- Transition tables have no statistics: pair old and new rows by hashing.
SET enable_nestloop = off
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ims.restoring() THEN
        RETURN NULL;  -- restored rows bring their vectors
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT n.issue_pk FROM new_rows n));
    ELSE
        PERFORM ims.refresh_search_vectors(ARRAY(
            SELECT n.issue_pk FROM new_rows n JOIN old_rows o ON o.issue_pk = n.issue_pk
             WHERE (n.title, n.description) IS DISTINCT FROM (o.title, o.description)));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ims.search_index_issues() IS 'Trigger: refreshes search vectors of inserted issues and of issues whose title or description changed.';

CREATE FUNCTION ims.search_index_children() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ims.restoring() THEN
        RETURN NULL;  -- restored rows bring their vectors
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT DISTINCT n.issue_pk FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT DISTINCT o.issue_pk FROM old_rows o));
    ELSE
        PERFORM ims.refresh_search_vectors(ARRAY(SELECT n.issue_pk FROM new_rows n
                                                 UNION SELECT o.issue_pk FROM old_rows o));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ims.search_index_issues(), ims.search_index_children() FROM PUBLIC;
COMMENT ON FUNCTION ims.search_index_children() IS 'Trigger: refreshes search vectors of issues whose comments or attachments changed.';

CREATE TRIGGER trg_issues_search_insert AFTER INSERT ON ims.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_issues();
CREATE TRIGGER trg_issues_search_update AFTER UPDATE ON ims.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_issues();
CREATE TRIGGER trg_issue_comments_search_insert AFTER INSERT ON ims.issue_comments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_issue_comments_search_update AFTER UPDATE ON ims.issue_comments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_issue_comments_search_delete AFTER DELETE ON ims.issue_comments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_insert AFTER INSERT ON ims.attachments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_update AFTER UPDATE ON ims.attachments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();
CREATE TRIGGER trg_attachments_search_delete AFTER DELETE ON ims.attachments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.search_index_children();

COMMENT ON FUNCTION ims.update_search_index() IS
    'One round of keeping the search index current (the search indexer runs it every 0.5 s while writes come, every second otherwise): issues written since the newest build go into a new segment, small segments are merged; builds the base if it never was.';
COMMENT ON FUNCTION ims.search_index_segments() IS
    'The search index''s base (segment 0) and each segment built after it: issues, terms, bytes.';
COMMENT ON FUNCTION ims.start_search_indexer() IS
    'Start the search indexer (a background worker keeping the search index current) for this database if none runs; writes and searches start it too.';

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
    ('재시작', 'restart'), ('재기동', 'restart'), ('재시작', '재기동'), ('느림', 'slow'), ('복제', 'replication'),
    -- 0.11.0: more loanwords
    ('매니지드', 'managed'), ('도메인', 'domain'), ('데이터소스', 'datasource'), ('커널', 'kernel'),
    ('파라미터', 'parameter'), ('디스크', 'disk'), ('네트워크', 'network'), ('계정', 'account'),
    ('방화벽', 'firewall'), ('모니터링', 'monitoring'), ('라이브러리', 'library'), ('플러그인', 'plugin'),
    -- 0.11.0: symptoms as people say them (any form of the verb: 죽어요 is
    -- also 죽었어요, 죽어버려요) and the words issues write for them
    ('죽어요', '다운'), ('죽어요', 'crash'), ('죽어요', 'down'), ('죽어요', '종료'), ('다운', 'crash'),
    ('다운', 'down'), ('뻗어요', '다운'), ('뻗어요', 'hang'), ('먹통', 'hang'), ('먹통', '멈춤'), ('멈춤', 'hang'),
    ('멈춤', 'freeze'), ('멈춤', '중단'), ('느림', '지연'), ('느림', '저하'), ('느림', 'delay'), ('지연', 'delay'),
    ('올라가요', '기동'), ('올라가요', 'startup'), ('기동', 'boot'), ('끊김', 'disconnect'), ('끊김', '단절'),
    ('튕김', '끊김'), ('깨짐', 'garbled')
  ) AS g(a, b),
  LATERAL (VALUES (g.a, g.b), (g.b, g.a)) AS x(w, s);
