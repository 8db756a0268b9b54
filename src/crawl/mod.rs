//! What a crawler calls: crawl sessions (start, errors, searches, finish)
//! and storing crawled issues, validated from their JSON.

pub mod issue_json;
pub mod sessions;
pub mod upsert;
