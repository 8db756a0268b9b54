-- ims_crawler 0.3.0 -> 0.4.0: search understands how Korean is written.
-- Hangul words are indexed by their stem too (=깨지 for 깨짐, 깨집니다, 깨져서),
-- question words (how, why, what...) are stop words, and a query of three or
-- more plain words needs only half of them. No table changes: every issue's
-- search vector is recomputed in the new form and the index rebuilt from it.

COMMENT ON COLUMN ims.issues.search_vector IS
    'Search tokens (Hangul bigrams and =stems, stemmed English, codes whole) weighted A title, B description, C comments, D attachment text; kept current by triggers.';
COMMENT ON FUNCTION ims.search_issues(text, text, integer) IS
    'Ranked (BM25) search over titles, descriptions, comments and attachment text: words (at least half of them must match, more rank higher; Korean by stem), AND, "phrases", -exclusions, OR, product:/status:/priority: filters; best first, with a snippet.';

-- Recomputing a vector is not a change to the issue: no updated_at, audit
-- row, search stamp or per-statement trigger work for it. The index built
-- next holds every issue.
ALTER TABLE ims.issues DISABLE TRIGGER USER;
SELECT ims.refresh_search_vectors(ARRAY(SELECT issue_pk FROM ims.issues ORDER BY issue_pk));
ALTER TABLE ims.issues ENABLE TRIGGER USER;
REFRESH MATERIALIZED VIEW ims.mv_search_postings;
