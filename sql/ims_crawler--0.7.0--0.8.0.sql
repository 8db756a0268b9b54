-- ims_crawler 0.7.0 -> 0.8.0: the search index stays current without a
-- maintenance step: issues written since its base was built go into
-- segments (ims_index.search_segments), written by ims.update_search_index()
-- rounds that the search indexer (a background worker the extension starts)
-- runs every second. The base built by 0.7.0 stays in use (its statistics
-- row is still read); its next rebuild drops the segments it replaces.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

CREATE SCHEMA ims_index;
REVOKE ALL ON SCHEMA ims_index FROM PUBLIC;
COMMENT ON SCHEMA ims_index IS 'Internal storage of the search index (segments); read by ims.search_issues only.';
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

CREATE FUNCTION ims."search_index_segments"() RETURNS TABLE (
	"segment" bigint,
	"issues" bigint,
	"terms" bigint,
	"bytes" bigint
)
STRICT STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'search_index_segments_wrapper';

CREATE FUNCTION ims."start_search_indexer"() RETURNS bool
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'start_search_indexer_wrapper';

CREATE FUNCTION ims."update_search_index"() RETURNS TABLE (
	"indexed" bigint,
	"merged" bigint,
	"segments" bigint,
	"segment_issues" bigint,
	"base_issues" bigint
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'update_search_index_wrapper';

REVOKE ALL ON FUNCTION ims.search_index_segments(), ims.start_search_indexer(), ims.update_search_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.search_index_segments() TO ims_admin, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.update_search_index(), ims.start_search_indexer() TO ims_admin;

COMMENT ON FUNCTION ims.update_search_index() IS
    'One round of keeping the search index current (the search indexer runs it every second): issues written since the newest build go into a new segment, small segments are merged; builds the base if it never was.';
COMMENT ON FUNCTION ims.search_index_segments() IS
    'The search index''s base (segment 0) and each segment built after it: issues, terms, bytes.';
COMMENT ON FUNCTION ims.start_search_indexer() IS
    'Start the search indexer (a background worker keeping the search index current) for this database if none runs; writes and searches start it too.';

-- Both read the segments too, which only the extension's owner may read.
ALTER FUNCTION ims.search_index_terms() SECURITY DEFINER;
ALTER FUNCTION ims.search_index_pending() SECURITY DEFINER;
COMMENT ON FUNCTION ims.search_index_terms() IS
    'Terms of the search index (its base and the segments built since) and the number of issues holding each.';
COMMENT ON FUNCTION ims.search_index_pending() IS
    'Issues written since the newest build of the search index (base or segment): searches score them one by one until the search indexer indexes them, within about a second.';
