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
    // No error may carry a Rust backtrace (build paths, code layout) to a
    // client: pgrx appends one to DETAIL whenever std captures one, which
    // RUST_BACKTRACE in the server's environment turns on. This turns
    // capture off for the process, before anything here can panic.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    operations::restore::install_hook();
    identity::define_setting();
    search::list_cache::define_setting();
    search::indexer::define_setting();
}

// Shared: SPI helpers, errors, limits.
pub mod db;
pub mod errors;
pub mod limits;

// Who the caller is (row level security).
pub mod identity;

// The crawler's side, search, and operations.
pub mod crawl;
pub mod operations;
pub mod search;

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
        operations::partitions::ensure_partitions,
        operations::partitions::secure_partitions,
        operations::views::refresh_materialized_views,
        crawl::upsert::upsert_issue,
        crawl::upsert::upsert_issues,
        crawl::sessions::start_session,
        crawl::sessions::finish_session,
        crawl::sessions::log_error,
        crawl::sessions::log_search,
        operations::stats::aggregate_daily_stats,
        operations::stats::aggregate_monthly_stats,
        operations::stats::get_user_stats,
        operations::retention::delete_old_sessions,
    ]
);
extension_sql_file!("../sql/audit.sql", name = "audit", requires = ["comments"]);
extension_sql_file!(
    "../sql/search.sql",
    name = "search",
    requires = [
        "audit",
        search::vectors::search_vector_text,
        search::vectors::to_search_vector,
        search::vectors::refresh_search_vectors,
        search::search_issues::search_query_text,
        search::search_issues::search_issues,
        search::index_build::search_postings_build,
        search::index_build::search_index_terms,
        search::index_build::search_index_pending,
        search::index_build::refresh_search_index,
        search::segments::update_search_index,
        search::segments::search_index_segments,
        search::indexer::start_search_indexer,
        search::synonyms::search_synonyms_changed,
        search::typos::did_you_mean,
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
        // Tests run rounds of the indexer themselves, when they mean to.
        vec!["ims.search_indexer = off"]
    }
}
