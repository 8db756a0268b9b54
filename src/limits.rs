//! Documented maximum sizes, enforced with clear errors so no single input
//! can exhaust a backend's memory. See README "Limits".

/// Characters in `issue_id`, `comment_id`.
pub const MAX_ID_CHARS: usize = 200;
/// Bytes in a short text field (title, product, status, author, url, ...).
pub const MAX_SHORT_TEXT_BYTES: usize = 64 * 1024;
/// Bytes in a field searches filter on or group by (product, module,
/// status, priority): each value is also a key of the search index, and
/// a btree key must fit a third of a page. Real values are a few words.
pub const MAX_FILTER_VALUE_BYTES: usize = 256;
/// Bytes in a long text field (description, comment content, attachment text).
pub const MAX_LONG_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Comments in one issue.
pub const MAX_COMMENTS_PER_ISSUE: usize = 10_000;
/// Attachments in one issue.
pub const MAX_ATTACHMENTS_PER_ISSUE: usize = 1_000;
/// Issues in one `upsert_issues` batch.
pub const MAX_BATCH_ISSUES: usize = 10_000;
/// Bytes in a search query.
pub const MAX_QUERY_BYTES: usize = 10_000;
/// Bytes in a search's `product` argument (a filter value).
pub const MAX_PRODUCT_ARG_BYTES: usize = MAX_FILTER_VALUE_BYTES;
/// Distinct terms in a search query (words, phrase words, exclusions and
/// filter values, after duplicates are merged). Each term's posting list is
/// held in memory while the query runs: at most about 1.2 bytes per issue
/// in the corpus, so a search holds at most ~80 MB of lists at a million
/// issues (plus one such list per OR clause).
pub const MAX_QUERY_TERMS: usize = 64;

/// Let `statement_timeout` and `pg_cancel_backend` stop a long loop. Call it
/// at the head of every loop whose length depends on the data. (A no-op in
/// plain Rust unit tests, which run outside PostgreSQL.)
#[inline]
pub fn check_for_interrupts() {
    #[cfg(not(test))]
    pgrx::check_for_interrupts!();
}
