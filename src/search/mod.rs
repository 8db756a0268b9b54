//! `ims.search_issues`: ranked search over issue titles, descriptions,
//! comments and attachment text, in Korean and English. The pipeline, one
//! module per stage:
//!
//! 1. `tokenize`: text to terms (Hangul bigrams and stems, stemmed English,
//!    codes kept whole), with positions and byte spans; `korean` holds the
//!    Hangul stemmer.
//! 2. `vectors`: each issue's terms as a weighted tsvector in
//!    `ims.issues.search_vector`, kept current by upserts and triggers;
//!    `tsvector` writes and reads that type's binary layout.
//! 3. `ranking`: the BM25 model: one-byte impacts per issue and term, scores
//!    at query time, and picking the top k.
//! 4. `list_format` and `doc_sets`: posting lists as stored (sparse or
//!    bitmap, champion lists) and read back; set algebra over them;
//!    `block_bounds`: which issues can still reach the top k;
//!    `list_cache`: lists kept decoded by each backend between searches.
//! 5. `index_build`: building every list into `ims.mv_search_postings`
//!    (the base, `ims.refresh_search_index`) and the index's statistics;
//!    which issues are newer than the newest build ("pending");
//!    `segments`: the issues written since the base, indexed into segments
//!    every 0.5 s while writes come (`ims.update_search_index`) and merged; `indexer`: the
//!    background worker that runs those rounds.
//! 6. `query`: the query language (words, "phrases", -exclusions, OR,
//!    field filters) parsed into terms; `spellings`: one term for the
//!    spellings of a word (its posting list the union of theirs), made of
//!    `synonyms` (the table `ims_index.search_synonyms`) and `typos` (the
//!    indexed words closest to one no issue holds).
//! 7. `search_issues`: candidates from the lists of the base and of each
//!    segment (and pending issues from their vectors), ranked, checked,
//!    with details.
//! 8. `snippet`: the passage shown with each result.

pub mod block_bounds;
pub mod doc_sets;
pub mod index_build;
pub mod indexer;
pub mod korean;
pub mod list_cache;
pub mod list_format;
pub mod locks;
pub mod query;
pub mod ranking;
pub mod search_issues;
pub mod segments;
pub mod snippet;
pub mod spellings;
pub mod synonyms;
pub mod tokenize;
pub mod tsvector;
pub mod typos;
pub mod vectors;
