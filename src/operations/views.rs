//! Materialized view maintenance.

use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::SpiOk;

/// The materialized views, in refresh order.
pub const MATERIALIZED_VIEWS: [&str; 3] = [
    "ims.mv_weekly_issue_trends",
    "ims.mv_product_stats",
    "ims.mv_search_postings",
];

/// Refresh the materialized views: CONCURRENTLY (readers are not blocked)
/// when the view is already populated, plainly otherwise. Records each
/// refresh in `ims.audit_log`.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn refresh_materialized_views() {
    crate::db::require_writable("ims.refresh_materialized_views");
    for mv in MATERIALIZED_VIEWS {
        refresh(mv);
    }
}

/// Refresh one materialized view (CONCURRENTLY once populated) and record
/// the run; nothing when the view does not exist.
pub fn refresh(mv: &str) {
    // None: the view does not exist (a library newer than the database's
    // extension version, before ALTER EXTENSION UPDATE).
    let Some(populated) = read_one::<bool>(
        "SELECT relispopulated FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass($1)",
        &[mv.into()],
        "checking a materialized view",
    ) else {
        return;
    };
    let how = if populated { "CONCURRENTLY " } else { "" };
    ereport!(
        NOTICE,
        PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
        format!("refreshing {mv}")
    );
    Spi::run(&format!("REFRESH MATERIALIZED VIEW {how}{mv}"))
        .spi_ok("refreshing a materialized view");
    if mv == "ims.mv_search_postings" {
        crate::search::segments::drop_replaced();
    }
    crate::operations::record_run(&format!("refresh {mv}"), None);
}
