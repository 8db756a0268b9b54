//! ims_crawler: store, track and search crawled issue-management-system data.
//!
//! The schema is hand-written SQL in `sql/` (loaded below, in order); the
//! functions a crawler, a support engineer and cron call are Rust, one
//! module per capability.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

/// Runs when a backend loads the library.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    restore::install_hook();
}

pub mod cleanup;
pub mod db;
pub mod doc_sets;
pub mod errors;
pub mod identity;
pub mod issue_input;
pub mod limits;
pub mod maintenance;
pub mod partitions;
pub mod posting_lists;
pub mod ranking;
pub mod restore;
pub mod search;
pub mod search_index;
pub mod search_postings;
pub mod search_query;
pub mod sessions;
pub mod snippet;
pub mod stats;
pub mod tokenize;
pub mod upsert;
pub mod views;

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!(
    "../sql/indexes.sql",
    name = "indexes",
    requires = ["schema"]
);
extension_sql_file!(
    "../sql/triggers.sql",
    name = "triggers",
    requires = ["indexes"]
);
extension_sql_file!("../sql/views.sql", name = "views", requires = ["triggers"]);
extension_sql_file!(
    "../sql/comments.sql",
    name = "comments",
    requires = [
        "views",
        identity::current_user_id,
        identity::set_current_user,
        partitions::ensure_partitions,
        partitions::secure_partitions,
        views::refresh_materialized_views,
        upsert::upsert_issue,
        upsert::upsert_issues,
        sessions::start_session,
        sessions::finish_session,
        sessions::log_error,
        sessions::log_search,
        stats::aggregate_daily_stats,
        stats::aggregate_monthly_stats,
        stats::get_user_stats,
        cleanup::delete_old_sessions,
    ]
);
extension_sql_file!("../sql/audit.sql", name = "audit", requires = ["comments"]);
extension_sql_file!(
    "../sql/search.sql",
    name = "search",
    requires = [
        "audit",
        search_index::search_vector_text,
        search_index::refresh_search_vectors,
        search::search_query_text,
        search::search_issues,
        search_postings::search_postings_build,
        search_postings::search_index_terms,
        search_postings::search_index_pending,
        views::refresh_search_index,
    ]
);
extension_sql_file!(
    "../sql/operations.sql",
    name = "operations",
    requires = ["search"]
);
extension_sql_file!("../sql/security.sql", name = "security", finalize);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn install_creates_twelve_tables() {
        let n = Spi::get_one::<i64>(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'ims' AND c.relkind IN ('r','p') AND NOT c.relispartition",
        );
        assert_eq!(n, Ok(Some(12)));
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
