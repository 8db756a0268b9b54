//! Retention: remove old crawl sessions with their errors and issue links.
//! The shared issue corpus is never touched; attachments and searches that
//! pointed at a removed session keep their rows and forget the session.

use pgrx::prelude::*;

use crate::errors::{invalid_parameter, null_argument, permission_denied, SpiOk, SpiValue};
use crate::identity::{current_user_id, login_is_admin};

/// Row-by-row removal of sessions older than $1 (optionally of user $2).
const DELETE_ROWS: &str = include_str!("retention/delete_rows.sql");

/// Dated partitions whose whole month ends on or before the cutoff $1.
const OLD_PARTITIONS: &str = include_str!("retention/old_partitions.sql");

/// Remove a whole month: its errors and links first (their foreign keys
/// would block the detach), then detach and drop the partition.
fn drop_partition(
    name: &str,
    lo: TimestampWithTimeZone,
    hi: TimestampWithTimeZone,
) -> (i64, i64, i64) {
    let count = |sql: &str| {
        Spi::get_one_with_args::<i64>(sql, &[lo.into(), hi.into()])
            .value("removing an old partition")
    };
    let errors = count(
        "WITH d AS (DELETE FROM ims.session_errors WHERE session_started_at >= $1 AND session_started_at < $2 RETURNING 1) \
         SELECT pg_catalog.count(*) FROM d",
    );
    let links = count(
        "WITH d AS (DELETE FROM ims.session_issues WHERE session_started_at >= $1 AND session_started_at < $2 RETURNING 1) \
         SELECT pg_catalog.count(*) FROM d",
    );
    for table in ["ims.attachments", "ims.search_queries"] {
        count(&format!(
            "WITH u AS (UPDATE {table} SET session_id = NULL, session_started_at = NULL \
                         WHERE session_started_at >= $1 AND session_started_at < $2 RETURNING 1) \
             SELECT pg_catalog.count(*) FROM u"
        ));
    }
    let sessions = Spi::get_one::<i64>(&format!("SELECT pg_catalog.count(*) FROM {name}"))
        .value("counting sessions");
    Spi::run(&format!(
        "ALTER TABLE ims.crawl_sessions DETACH PARTITION {name}"
    ))
    .spi_ok("detaching a partition");
    Spi::run(&format!("DROP TABLE {name}")).spi_ok("dropping a partition");
    ereport!(
        NOTICE,
        PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
        format!(
            "dropped partition {name}: {sessions} sessions, {errors} errors, {links} issue links"
        )
    );
    (sessions, errors, links)
}

/// Detach and drop every monthly partition that ends before the cutoff;
/// returns (sessions, errors, links) removed.
fn drop_old_partitions(cutoff: TimestampWithTimeZone) -> (i64, i64, i64) {
    let parts: Vec<(String, TimestampWithTimeZone, TimestampWithTimeZone)> = Spi::connect(|c| {
        c.select(OLD_PARTITIONS, None, &[cutoff.into()])
            .spi_ok("listing old partitions")
            .map(|r| {
                (
                    r.get::<String>(1).value("name of an old partition"),
                    r.get::<TimestampWithTimeZone>(2)
                        .value("start of an old partition"),
                    r.get::<TimestampWithTimeZone>(3)
                        .value("end of an old partition"),
                )
            })
            .collect()
    });
    if !parts.is_empty() {
        crate::operations::lock_session_tables();
    }
    let mut totals = (0, 0, 0);
    for (name, lo, hi) in parts {
        crate::limits::check_for_interrupts();
        let (s, e, l) = drop_partition(&name, lo, hi);
        totals = (totals.0 + s, totals.1 + e, totals.2 + l);
    }
    totals
}

/// Delete the sessions (of one user, or all) that started before the
/// cutoff, with their errors and links; returns the three counts.
fn delete_old_rows(cutoff: TimestampWithTimeZone, user_id: Option<i64>) -> (i64, i64, i64) {
    Spi::connect_mut(|c| {
        let r = c
            .update(DELETE_ROWS, None, &[cutoff.into(), user_id.into()])
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
/// detached and dropped instead of deleted row by row.
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
        _ => {}
    }
    let cutoff = Spi::get_one_with_args::<TimestampWithTimeZone>(
        "SELECT pg_catalog.now() - pg_catalog.make_interval(days => $1)",
        &[days.into()],
    )
    .value("the retention cutoff");

    // Every user's: whole months first, then the rows of the cutoff's month.
    let whole_months = if user_id.is_none() {
        drop_old_partitions(cutoff)
    } else {
        (0, 0, 0)
    };
    let rows = delete_old_rows(cutoff, user_id);
    let totals = (
        whole_months.0 + rows.0,
        whole_months.1 + rows.1,
        whole_months.2 + rows.2,
    );
    crate::operations::record_run(
        "delete_old_sessions",
        Some(pgrx::JsonB(serde_json::json!({
            "user_id": user_id, "older_than_days": days,
            "deleted_sessions": totals.0, "deleted_errors": totals.1, "deleted_links": totals.2
        }))),
    );
    TableIterator::once(totals)
}
