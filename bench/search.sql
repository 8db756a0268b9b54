-- Search benchmark at one corpus size (psql variable n): ims.search_issues
-- against baseline B0, the original design done properly (stored weighted
-- english tsvector, GIN, websearch_to_tsquery, ts_rank_cd, ORDER BY LIMIT),
-- and against the peer, Tantivy (bench/tantivy_peer.py, run from here when
-- IMS_PEER_DSN is set), on the same generated corpus, in the same run.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\pset footer off
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.t;
CREATE TABLE bench.t (name text, bucket text, ms float8);

-- Vocabulary: English, Korean and code terms interleaved; a document picks
-- ranks log-uniformly (Zipf-like: rank r with probability ~ 1/r).
CREATE OR REPLACE FUNCTION bench.vocab() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(w ORDER BY k) FROM (
    SELECT k, CASE k % 3
                WHEN 0 THEN (ARRAY['connection','timeout','batch','dataset','server','memory','leak','session','deploy',
                                   'error','catalog','lock','queue','printer','gateway','certificate','login','token',
                                   'restart','abend','compile','runtime','cluster','heap','thread','socket','buffer',
                                   'transaction','rollback','commit','index','query','report','screen','terminal','job',
                                   'step','spool','volume','backup'])[1 + (k / 3) % 40] || CASE WHEN k >= 120 THEN (k / 120)::text ELSE '' END
                WHEN 1 THEN (ARRAY['연결','타임아웃','배치','데이터셋','서버','메모리','누수','세션','배포','오류','카탈로그',
                                   '잠금','대기열','프린터','게이트웨이','인증서','로그인','토큰','재기동','비정상','컴파일',
                                   '런타임','클러스터','스레드','소켓','버퍼','트랜잭션','롤백','커밋','인덱스','쿼리',
                                   '보고서','화면','단말','작업','단계','스풀','볼륨','백업','장애'])[1 + (k / 3) % 40] || CASE WHEN k >= 120 THEN (k / 120)::text ELSE '' END
                ELSE (ARRAY['ORA-', 'OFCOBOL-', 'TJES-', 'JEUS-', 'TMAX-'])[1 + (k / 3) % 5] || lpad((k / 15)::text, 5, '0')
              END AS w
      FROM generate_series(0, 5999) k) v
$$;
CREATE OR REPLACE FUNCTION bench.words(seed bigint, n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg((bench.vocab())[1 + least(5999, floor(exp(((hashint8(seed * 1000 + i) & 2147483647)::float8 / 2147483648.0)
                                                              * ln(6000))) - 1)::int], ' ')
    FROM generate_series(1, n) i
$$;

-- The corpus: n issues, about 5 comments each, in batches of 1,000 through upsert_issues.
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'bench', 'user') ON CONFLICT DO NOTHING;
SELECT clock_timestamp() AS t0 \gset
\o /dev/null
SELECT format($f$SELECT count(*) FROM ims.upsert_issues((
  SELECT jsonb_agg(jsonb_build_object(
           'issue_id', 'S-' || i,
           'title', bench.words(i, 6),
           'description', bench.words(i + 10000000, 30),
           'product', (ARRAY['OpenFrame', 'Tmax', 'JEUS', 'WebtoB'])[1 + i %% 4],
           'status', (ARRAY['Open', 'In Progress', 'Resolved', 'Closed'])[1 + (i / 4) %% 4],
           'comments', (SELECT jsonb_agg(jsonb_build_object('comment_id', c, 'content', bench.words(i * 10 + c + 20000000, 12)))
                          FROM generate_series(1, 4 + i %% 3) c)))
    FROM generate_series(%s, %s) i))$f$, b * 1000 + 1, least((b + 1) * 1000, :n))
  FROM generate_series(0, (:n - 1) / 1000) b \gexec
\o
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS load_seconds_incl_index \gset

-- Right after the load, with no rebuild: the search indexer (a background
-- worker the first upsert started) indexed the issues into segments as
-- they came (and rebuilt the base in a second worker when the segments
-- outgrew it). How long until nothing is pending, then every bucket.
SELECT clock_timestamp() AS t0 \gset
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        EXIT WHEN ims.search_index_pending() = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS caught_up_s \gset
SELECT count(*) FILTER (WHERE segment > 0) AS segments_after_load,
       coalesce(sum(issues) FILTER (WHERE segment > 0), 0) AS segment_issues_after_load,
       max(issues) FILTER (WHERE segment = 0) AS base_issues_after_load
  FROM ims.search_index_segments() \gset
-- Searches come from their own connections, not from the one that loaded a
-- million issues (its memory is what a long load left): a new one.
\connect
SET client_min_messages = warning;
-- Queries in four buckets, from the corpus statistics.
DROP TABLE IF EXISTS bench.q;
CREATE TABLE bench.q AS
WITH st AS (SELECT term, doc_freq FROM ims.search_index_terms()),
     n AS (SELECT count(*) AS docs FROM ims.issues),
     words AS (SELECT w, row_number() OVER () AS k FROM unnest(bench.vocab()) w)
SELECT 'rare' AS bucket, w AS query FROM (
    SELECT w FROM words JOIN st ON st.term = lower(w) ORDER BY st.doc_freq, w LIMIT 20) r
UNION ALL
SELECT 'common', w FROM (
    SELECT w FROM words, st, n WHERE w !~ '-' AND st.term = lower(w) AND st.doc_freq >= n.docs * 0.05
     ORDER BY hashtext(w) LIMIT 20) c
UNION ALL
SELECT 'mixed 2-4 terms', string_agg(w, ' ') FROM (
    SELECT g, w FROM generate_series(1, 20) g
    CROSS JOIN LATERAL (SELECT w FROM words WHERE k BETWEEN 10 AND 400 AND w !~ '-'
                         ORDER BY hashtext(w || g) LIMIT 2 + g % 3) x) m GROUP BY g
UNION ALL
-- Natural questions of words each in at least 30% of the issues (#13: several
-- frequent words).
SELECT 'frequent 2-3 words', string_agg(w, ' ') FROM (
    SELECT g, w FROM generate_series(1, 20) g
    CROSS JOIN LATERAL (SELECT w FROM words, st, n WHERE w !~ '-' AND st.term = lower(w) AND st.doc_freq >= n.docs * 0.3
                         ORDER BY hashtext(w || g || 'f') LIMIT 2 + g % 2) x) f GROUP BY g
UNION ALL
SELECT 'common + product', w || ' product:Tmax' FROM (
    SELECT w FROM words, st, n WHERE w !~ '-' AND st.term = lower(w) AND st.doc_freq >= n.docs * 0.05
     ORDER BY hashtext(w || 'p') LIMIT 20) p
UNION ALL
SELECT 'no match', 'zyxq' || g || ' ' || (ARRAY['kwvj', '뷁뛹', 'qqzx'])[1 + g % 3] FROM generate_series(1, 20) g;

CREATE OR REPLACE FUNCTION bench.run_b0(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    words text := regexp_replace(query, ' ?product:\S+', '');
    prod text := substring(query FROM 'product:(\S+)');
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM (
      SELECT b.issue_pk FROM bench.b0 b, websearch_to_tsquery('english', words) q
       WHERE b.tsv @@ q AND (prod IS NULL OR b.product = prod)
       ORDER BY ts_rank_cd(b.tsv, q) DESC LIMIT 50) x;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION bench.time_search(query text, k int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM count(*) FROM ims.search_issues(query, NULL, k);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;


CREATE OR REPLACE PROCEDURE bench.time_bucket(which text, label text) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    t0 timestamptz;
BEGIN
    FOR rep IN 1..3 LOOP
        FOR r IN SELECT * FROM bench.q WHERE bucket = which LOOP
            t0 := clock_timestamp();
            PERFORM count(*) FROM ims.search_issues(r.query, NULL, 50);
            INSERT INTO bench.t VALUES ('ims', label, extract(epoch FROM clock_timestamp() - t0) * 1000);
        END LOOP;
    END LOOP;
END $$;

-- Every bucket of ours: a warm-up pass, then 3 timed runs.
CREATE OR REPLACE PROCEDURE bench.time_buckets(suffix text) LANGUAGE plpgsql AS $$
DECLARE
    b text;
BEGIN
    FOR b IN SELECT DISTINCT bucket FROM bench.q ORDER BY 1 LOOP
        CALL bench.time_bucket(b, 'warm-up');
        CALL bench.time_bucket(b, b || suffix);
    END LOOP;
    DELETE FROM bench.t WHERE bucket = 'warm-up';
END $$;
CALL bench.time_buckets(', right after load');

-- Under a steady writer: a crawler re-crawling existing issues (new text)
-- and adding new ones, 20 every 0.1 s (200 issues/s), committing each
-- batch, while every bucket is timed again.
CREATE OR REPLACE PROCEDURE bench.write_steadily(seconds int, n int) LANGUAGE plpgsql AS $$
DECLARE
    stop timestamptz := clock_timestamp() + make_interval(secs => seconds);
    b int := 0;
BEGIN
    WHILE clock_timestamp() < stop LOOP
        b := b + 1;
        PERFORM count(*) FROM ims.upsert_issues((
          SELECT jsonb_agg(jsonb_build_object(
                   'issue_id', CASE WHEN j % 2 = 0 THEN 'S-' || 1 + (hashint4(b * 20 + j) & 1048575) % n
                                    ELSE 'W-' || b || '-' || j END,
                   'title', bench.words(b * 100 + j + 50000000, 6),
                   'description', bench.words(b * 100 + j + 60000000, 30),
                   'product', (ARRAY['OpenFrame', 'Tmax', 'JEUS', 'WebtoB'])[1 + j % 4],
                   'status', 'Open'))
            FROM generate_series(1, 20) j));
        COMMIT;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
\setenv IMS_BENCH_N :n
\! "$IMS_BENCH_PSQL" -X -q "$IMS_PEER_DSN" -c "CALL bench.write_steadily(90, $IMS_BENCH_N)" > /dev/null 2>&1 &
SELECT pg_sleep(10);
CREATE TABLE bench.pending_seen (pending bigint);
INSERT INTO bench.pending_seen SELECT ims.search_index_pending();
CALL bench.time_buckets(', under a writer');
INSERT INTO bench.pending_seen SELECT ims.search_index_pending();
SELECT round(avg(pending)) AS writer_pending_avg, max(pending) AS writer_pending_max FROM bench.pending_seen \gset
-- Let the writer finish before the rebuild below.
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        PERFORM pg_stat_clear_snapshot();  -- else the first look is kept for the transaction
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE 'CALL bench.write_steadily%' AND pid <> pg_backend_pid());
        PERFORM pg_sleep(0.5);
    END LOOP;
END $$;
SELECT count(*) AS writer_issues FROM ims.issues WHERE issue_id LIKE 'W-%' \gset
-- What the rounds left on disk: the segments table with its indexes (rows
-- deleted by merges are reused once autovacuum has been), and its live data.
SELECT pg_size_pretty(pg_total_relation_size('ims_index.search_segments')) AS segments_table,
       pg_size_pretty(sum(octet_length(postings))) AS segments_data
  FROM ims_index.search_segments \gset
SELECT ims.refresh_materialized_views();

-- Our index: the posting lists, rebuilt from the stored vectors, timed
-- (tokenizing into vectors is part of the load above).
SELECT clock_timestamp() AS t0 \gset
REFRESH MATERIALIZED VIEW ims.mv_search_postings;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS ims_rebuild_s \gset

-- The tokenizer alone: every title and description to its vector, as
-- upserts build it; and PostgreSQL's own parser on the same text (the
-- 'simple' configuration: words lowercased, no stemming) as a peer.
SELECT clock_timestamp() AS t0 \gset
SELECT sum(octet_length(coalesce(title, '')) + octet_length(coalesce(description, ''))) AS tokenized_bytes,
       sum(length(ims.to_search_vector(title, description))) AS vector_lexemes
  FROM ims.issues \gset
SELECT round((:tokenized_bytes / 1e6 / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz))::numeric, 1)
       AS tokenizer_mb_s \gset
SELECT clock_timestamp() AS t0 \gset
SELECT sum(length(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, '')))) AS simple_lexemes
  FROM ims.issues \gset
SELECT round((:tokenized_bytes / 1e6 / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz))::numeric, 1)
       AS pg_simple_mb_s \gset

-- Baseline B0: stored weighted english tsvector with GIN.
SELECT clock_timestamp() AS t0 \gset
DROP TABLE IF EXISTS bench.b0;
CREATE TABLE bench.b0 AS
SELECT i.issue_pk, i.issue_id, i.product,
       setweight(to_tsvector('english', coalesce(i.title, '')), 'A')
       || setweight(to_tsvector('english', coalesce(i.description, '')), 'B')
       || setweight(to_tsvector('english', coalesce(c.txt, '')), 'C') AS tsv
  FROM ims.issues i
  LEFT JOIN (SELECT issue_pk, string_agg(content, ' ') AS txt FROM ims.issue_comments GROUP BY issue_pk) c USING (issue_pk);
CREATE INDEX b0_tsv ON bench.b0 USING gin (tsv);
CREATE INDEX b0_product ON bench.b0 (product);
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS b0_build_s \gset
VACUUM ANALYZE ims.issues;
VACUUM ANALYZE bench.b0;
-- Write out what the load dirtied, so the timings below do not race the checkpointer.
CHECKPOINT;
\connect
SET client_min_messages = warning;

-- Each side times each query 3 times after a warm-up pass, one side after
-- the other (interleaved, B0's large reads left the caches cold for ours:
-- the common bucket doubled).
DO $$
DECLARE
    side text;
    r record;
    t0 timestamptz;
BEGIN
    FOREACH side IN ARRAY ARRAY['ims', 'B0'] LOOP
        FOR rep IN 0..3 LOOP
            FOR r IN SELECT * FROM bench.q LOOP
                t0 := clock_timestamp();
                IF side = 'ims' THEN
                    PERFORM count(*) FROM ims.search_issues(r.query, NULL, 50);
                ELSE
                    PERFORM bench.run_b0(r.query);
                END IF;
                IF rep > 0 THEN
                    INSERT INTO bench.t VALUES (side, r.bucket, extract(epoch FROM clock_timestamp() - t0) * 1000);
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

-- What each returned row costs (details and snippet): the common bucket
-- with 50 results against 1, best of 3 each.
CREATE TABLE bench.per_row AS
SELECT query, min(ms) FILTER (WHERE k = 1) AS ms_1, min(ms) FILTER (WHERE k = 50) AS ms_50 FROM (
  SELECT q.query, k.k, bench.time_search(q.query, k.k) AS ms
    FROM bench.q q, generate_series(1, 3), (VALUES (1), (50)) k(k) WHERE q.bucket = 'common') x
 GROUP BY query;

-- With no list kept decoded between searches (ims.search_cache_size = 0):
-- every search fetches and decodes its lists, as the first search of a new
-- connection does.
SET ims.search_cache_size = 0;
CALL bench.time_bucket('common', 'common, no list cache');
CALL bench.time_bucket('mixed 2-4 terms', 'mixed, no list cache');
CALL bench.time_bucket('frequent 2-3 words', 'frequent, no list cache');
RESET ims.search_cache_size;

-- Issues written since the last rebuild of the lists are scored one by
-- one: stamp 0.1%, then 1%, of the issues as just written (committed, as a
-- crawler's writes are) and run the common bucket again.
-- The search indexer is turned off for these (it would index them within a second).
ALTER SYSTEM SET ims.search_indexer = off;
SELECT pg_reload_conf(), pg_sleep(3);
UPDATE ims.issues SET search_version = pg_current_xact_id() WHERE issue_pk % 1000 = 0;
CALL bench.time_bucket('common', 'common, 0.1% pending');
UPDATE ims.issues SET search_version = pg_current_xact_id() WHERE issue_pk % 100 = 0;
CALL bench.time_bucket('common', 'common, 1% pending');
ALTER SYSTEM RESET ims.search_indexer;
SELECT pg_reload_conf();

-- The peer, on the same issues and queries (its timings join bench.t).
\! [ -z "$IMS_PEER_DSN" ] || python3 "$IMS_BENCH_DIR/tantivy_peer.py" "$IMS_PEER_DSN"

\echo
\echo '== search at' :n 'issues: latency in ms (20 queries per bucket x 3 runs, warm cache, top 50)'
SELECT bucket,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'ims')::numeric, 2) AS ims_p50,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'ims')::numeric, 2) AS ims_p95,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'B0')::numeric, 2) AS b0_p50,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'B0')::numeric, 2) AS b0_p95,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'tantivy')::numeric, 2) AS tantivy_p50,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'tantivy')::numeric, 2) AS tantivy_p95,
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'ims')
            / nullif(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'B0'), 0))::numeric, 2) AS p95_ims_to_b0,
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'ims')
            / nullif(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE name = 'tantivy'), 0))::numeric, 2) AS p95_ims_to_tantivy
  FROM bench.t GROUP BY bucket ORDER BY bucket;
\echo '== kept current by the search indexer, no rebuild: after the load (seconds until nothing was pending, the index then), and under a writer of 200 issues/s (issues pending as searches ran)'
SELECT :'caught_up_s' AS caught_up_after_load_s, :'segments_after_load' AS segments, :'segment_issues_after_load' AS segment_issues,
       :'base_issues_after_load' AS base_issues, :'writer_pending_avg' AS writer_pending_avg, :'writer_pending_max' AS writer_pending_max,
       :'writer_issues' AS writer_new_issues, :'segments_table' AS segments_table, :'segments_data' AS segments_data;
\echo '== what a returned row costs: common bucket, 50 results against 1 (medians of the best of 3)'
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms_1)::numeric, 2) AS ms_1_row,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms_50)::numeric, 2) AS ms_50_rows,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY (ms_50 - ms_1) / 49) * 1000)::numeric, 1) AS us_per_row
  FROM bench.per_row;
SELECT :n AS issues, :'load_seconds_incl_index' AS load_s_incl_vectors, :'ims_rebuild_s' AS ims_lists_build_s, :'b0_build_s' AS b0_build_s,
       :'tokenizer_mb_s' AS tokenizer_mb_s, :'pg_simple_mb_s' AS pg_to_tsvector_simple_mb_s;
WITH sz AS (
  SELECT pg_total_relation_size('ims.mv_search_postings') AS lists,
         (SELECT sum(pg_column_size(search_vector)) FROM ims.issues)::bigint AS vectors,
         pg_relation_size('ims.idx_issues_search_version') AS version_index,
         pg_relation_size('bench.b0_tsv') + (SELECT sum(pg_column_size(tsv)) FROM bench.b0)::bigint AS b0,
         (SELECT sum(octet_length(coalesce(title, '')) + octet_length(coalesce(description, ''))) FROM ims.issues)
           + (SELECT sum(octet_length(content)) FROM ims.issue_comments) AS raw)
SELECT pg_size_pretty(lists) AS ims_index_lists, pg_size_pretty(vectors) AS ims_stored_vectors,
       pg_size_pretty(version_index) AS ims_version_index, pg_size_pretty(b0) AS b0_gin_and_vectors,
       pg_size_pretty(raw::bigint) AS raw_text,
       round(lists::numeric / raw, 2) AS ims_index_to_raw,
       round((lists + vectors + version_index)::numeric / raw, 2) AS ims_all_to_raw,
       round(b0::numeric / raw, 2) AS b0_to_raw
  FROM sz;
