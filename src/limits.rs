//! Documented maximum sizes, enforced with clear errors so no single input
//! can exhaust a backend's memory. See README "Limits".

/// Characters in `issue_id`, `comment_id`.
pub const MAX_ID_CHARS: usize = 200;
/// Bytes in a short text field (title, product, status, author, url, ...).
pub const MAX_SHORT_TEXT_BYTES: usize = 64 * 1024;
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
