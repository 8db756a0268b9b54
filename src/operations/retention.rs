//! Retention: remove old crawl sessions with their errors and issue links.
//! The shared issue corpus is never touched; attachments, searches and
//! history keep the id of the session that found them, which then matches
//! no session.
//! Whole months past the cutoff go as partitions (sessions, links and
//! errors of a month reference only each other), so their cost does not
//! grow with the data; the cutoff's own month is deleted row by row.

use pgrx::prelude::*;

use crate::errors::{invalid_parameter, null_argument, permission_denied, raise, SpiOk, SpiValue};
use crate::identity::{current_user_id, login_is_admin};

/// Row-by-row removal of sessions older than $1 (optionally of user $2).
const DELETE_ROWS: &str = include_str!("retention/delete_rows.sql");

/// Months whose crawl_sessions partition ends on or before the cutoff $1,
/// with their three partitions and row estimates.
const OLD_PARTITIONS: &str = include_str!("retention/old_partitions.sql");

/// A month to drop: where it ends, and for crawl_sessions, session_issues
/// and session_errors the partition (if any) and its row estimate.
struct OldMonth {
    hi: TimestampWithTimeZone,
    partitions: Vec<Option<String>>,
    estimates: Vec<i64>,
}

impl OldMonth {
    /// (sessions, links, errors) in the month, and whether any figure is an
    /// estimate: from table statistics, or counted where asked or never
    /// analyzed. Counted before the month is locked: crawlers do not write
    /// to months past the cutoff.
    fn rows(&self, exact: bool) -> ([i64; 3], bool) {
        let mut rows = [0; 3];
        let mut estimated = false;
        for (i, (partition, estimate)) in self.partitions.iter().zip(&self.estimates).enumerate() {
            rows[i] = match partition {
                None => 0,
                Some(name) if exact || *estimate < 0 => {
                    Spi::get_one::<i64>(&format!("SELECT pg_catalog.count(*) FROM {name}"))
                        .value("counting the rows of an old partition")
                }
                Some(_) => {
                    estimated = true;
                    *estimate
                }
            };
        }
        (rows, estimated)
    }
}

fn old_months(cutoff: TimestampWithTimeZone) -> Vec<OldMonth> {
    Spi::connect(|c| {
        c.select(OLD_PARTITIONS, None, &[cutoff.into()])
            .spi_ok("listing old partitions")
            .map(|r| OldMonth {
                hi: r.get(1).value("end of an old month"),
                partitions: r
                    .get::<Vec<Option<String>>>(2)
                    .value("partitions of an old month"),
                estimates: r.get::<Vec<i64>>(3).value("rows of an old month"),
            })
            .collect()
    })
}

/// Drop whole months: each month's sessions, links and errors partitions,
/// keyed only to each other, go in one DROP TABLE with nothing to scan or
/// check, under locks taken all at once (so crawlers wait for them only as
/// long as the DROP takes). Returns the (sessions, errors, links) they held.
fn drop_months(months: &[OldMonth], exact: bool) -> (i64, i64, i64) {
    if months.is_empty() {
        return (0, 0, 0);
    }
    let mut totals = (0, 0, 0);
    let mut notices = Vec::with_capacity(months.len());
    for month in months {
        let ([sessions, links, errors], estimated) = month.rows(exact);
        totals = (totals.0 + sessions, totals.1 + errors, totals.2 + links);
        let name = month.partitions[0].as_deref().unwrap_or_default();
        let about = if estimated { "about " } else { "" };
        notices.push(format!(
            "dropped {name} and its links and errors: {about}{sessions} sessions, {errors} errors, {links} issue links"
        ));
    }
    crate::operations::lock_session_tables();
    // Links and errors first: their foreign keys point at the sessions.
    let mut tables: Vec<&str> = Vec::with_capacity(3 * months.len());
    for i in [2, 1, 0] {
        tables.extend(months.iter().filter_map(|m| m.partitions[i].as_deref()));
    }
    Spi::run(&format!("DROP TABLE {}", tables.join(", "))).spi_ok("dropping old partitions");
    for notice in notices {
        ereport!(
            NOTICE,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            notice
        );
    }
    totals
}

/// Delete the sessions (of one user, or all) that started before the
/// cutoff, with their errors and links; before `dropped_until` (where the
/// months dropped whole end) only the DEFAULT partitions hold any. Returns
/// the three counts.
fn delete_old_rows(
    cutoff: TimestampWithTimeZone,
    user_id: Option<i64>,
    dropped_until: Option<TimestampWithTimeZone>,
) -> (i64, i64, i64) {
    Spi::connect_mut(|c| {
        let r = c
            .update(
                DELETE_ROWS,
                None,
                &[cutoff.into(), user_id.into(), dropped_until.into()],
            )
            .spi_ok("deleting old sessions")
            .first();
        let n = |i: usize, what: &str| r.get::<i64>(i).value(what);
        (
            n(1, "sessions deleted"),
            n(2, "errors deleted"),
            n(3, "links deleted"),
        )
    })
}

/// Delete crawl sessions that started more than `older_than_days` days ago,
/// with their errors and issue links. `user_id` NULL means every user (ims
/// administrators only): whole monthly partitions past the cutoff are then
/// dropped instead of deleted row by row, and their rows counted from table
/// statistics.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn delete_old_sessions(
    user_id: Option<i64>,
    older_than_days: Option<i32>,
) -> TableIterator<
    'static,
    (
        name!(deleted_sessions, i64),
        name!(deleted_errors, i64),
        name!(deleted_links, i64),
    ),
> {
    TableIterator::once(remove_old_sessions(user_id, older_than_days, false))
}

/// `delete_old_sessions(user_id, older_than_days)`, counting the rows of
/// dropped months exactly (a scan of each) when `exact_counts` is true.
#[pg_extern(
    name = "delete_old_sessions",
    volatile,
    parallel_unsafe,
    security_definer
)]
#[search_path(pg_catalog, pg_temp)]
pub fn delete_old_sessions_counted(
    user_id: Option<i64>,
    older_than_days: Option<i32>,
    exact_counts: Option<bool>,
) -> TableIterator<
    'static,
    (
        name!(deleted_sessions, i64),
        name!(deleted_errors, i64),
        name!(deleted_links, i64),
    ),
> {
    let Some(exact) = exact_counts else {
        null_argument("exact_counts")
    };
    TableIterator::once(remove_old_sessions(user_id, older_than_days, exact))
}

fn remove_old_sessions(
    user_id: Option<i64>,
    older_than_days: Option<i32>,
    exact: bool,
) -> (i64, i64, i64) {
    crate::db::require_writable("ims.delete_old_sessions");
    let Some(days) = older_than_days else {
        null_argument("older_than_days")
    };
    if days < 0 {
        invalid_parameter(format!("older_than_days must not be negative, got {days}"));
    }
    // This function sees every row, so who may delete what is checked here.
    match user_id {
        None if !login_is_admin() => permission_denied(
            "only ims administrators may delete every user's sessions (user_id NULL)",
        ),
        Some(id) if current_user_id() != Some(id) && !login_is_admin() => permission_denied(
            format!("you may delete only your own sessions, not those of ims user {id}"),
        ),
        Some(id) => crate::identity::require_user(id),
        None => {}
    }
    let cutoff = Spi::get_one_with_args::<TimestampWithTimeZone>(
        "SELECT pg_catalog.now() - pg_catalog.make_interval(days => $1)",
        &[days.into()],
    )
    .value("the retention cutoff");

    // Every user's: the rows of partial months first (row locks only), then
    // whole months dropped last, so that the locks the drop takes are held
    // only for the moment until commit.
    if !crate::operations::partitions::links_partitioned() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "ims_crawler's tables are older than its library: session_issues and session_errors are not partitioned",
            Some("Run ALTER EXTENSION ims_crawler UPDATE first."),
        );
    }
    let months = if user_id.is_none() {
        old_months(cutoff)
    } else {
        Vec::new()
    };
    let rows = delete_old_rows(cutoff, user_id, months.last().map(|m| m.hi));
    let whole_months = drop_months(&months, exact);
    let totals = (
        whole_months.0 + rows.0,
        whole_months.1 + rows.1,
        whole_months.2 + rows.2,
    );
    crate::operations::record_run(
        "delete_old_sessions",
        Some(pgrx::JsonB(serde_json::json!({
            "user_id": user_id, "older_than_days": days, "exact_counts": exact,
            "deleted_sessions": totals.0, "deleted_errors": totals.1, "deleted_links": totals.2
        }))),
    );
    totals
}
