//! Retention: remove old crawl sessions with their errors and issue links.
//! The shared issue corpus is never touched; attachments and searches that
//! pointed at a removed session keep their rows and forget the session.

use pgrx::prelude::*;

use crate::errors::{invalid_parameter, null_argument, permission_denied, SpiOk};
use crate::identity::{current_user_id, login_is_admin};

/// Row-by-row removal of sessions older than $1 (optionally of user $2).
const DELETE_ROWS: &str = "\
WITH old AS (SELECT session_id, started_at FROM ims.crawl_sessions
              WHERE started_at < $1 AND ($2::bigint IS NULL OR user_id = $2)),
e AS (DELETE FROM ims.session_errors se USING old
       WHERE se.session_id = old.session_id AND se.session_started_at = old.started_at RETURNING 1),
l AS (DELETE FROM ims.session_issues si USING old
       WHERE si.session_id = old.session_id AND si.session_started_at = old.started_at RETURNING 1),
s AS (DELETE FROM ims.crawl_sessions cs USING old
       WHERE cs.session_id = old.session_id AND cs.started_at = old.started_at RETURNING 1)
SELECT (SELECT pg_catalog.count(*) FROM s), (SELECT pg_catalog.count(*) FROM e), (SELECT pg_catalog.count(*) FROM l)";

/// Dated partitions whose whole month ends on or before the cutoff $1.
const OLD_PARTITIONS: &str = "\
SELECT pg_catalog.format('ims.%I', p.relname), p.lo, p.hi
  FROM (SELECT c.relname,
               pg_catalog.timezone('UTC', pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')::timestamp) AS lo,
               pg_catalog.timezone('UTC', pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')
                                          + interval '1 month') AS hi
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'ims.crawl_sessions'::pg_catalog.regclass
           AND c.relname ~ '^crawl_sessions_[0-9]{4}_[0-9]{2}$'
        OFFSET 0) p
 WHERE p.hi <= $1
 ORDER BY p.lo";

/// Remove a whole month: its errors and links first (their foreign keys
/// would block the detach), then detach and drop the partition.
fn drop_partition(
    name: &str,
    lo: TimestampWithTimeZone,
    hi: TimestampWithTimeZone,
) -> (i64, i64, i64) {
    let count = |sql: &str| {
        Spi::get_one_with_args::<i64>(sql, &[lo.into(), hi.into()])
            .spi_ok("removing an old partition")
            .unwrap_or(0)
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
        .spi_ok("counting sessions")
        .unwrap_or(0);
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
    .spi_ok("computing the cutoff")
    .expect("cutoff");

    let mut totals = (0i64, 0i64, 0i64);
    if user_id.is_none() {
        let parts: Vec<(String, TimestampWithTimeZone, TimestampWithTimeZone)> =
            Spi::connect(|c| {
                c.select(OLD_PARTITIONS, None, &[cutoff.into()])
                    .spi_ok("listing old partitions")
                    .map(|r| {
                        (
                            r.get::<String>(1)
                                .spi_ok("reading partitions")
                                .unwrap_or_default(),
                            r.get::<TimestampWithTimeZone>(2)
                                .spi_ok("reading partitions")
                                .expect("lo"),
                            r.get::<TimestampWithTimeZone>(3)
                                .spi_ok("reading partitions")
                                .expect("hi"),
                        )
                    })
                    .collect()
            });
        for (name, lo, hi) in parts {
            crate::limits::check_for_interrupts();
            let (s, e, l) = drop_partition(&name, lo, hi);
            totals = (totals.0 + s, totals.1 + e, totals.2 + l);
        }
    }
    let (s, e, l) = Spi::connect_mut(|c| {
        let r = c
            .update(DELETE_ROWS, None, &[cutoff.into(), user_id.into()])
            .spi_ok("deleting old sessions")
            .first();
        let n = |i: usize| r.get::<i64>(i).spi_ok("reading counts").unwrap_or(0);
        (n(1), n(2), n(3))
    });
    totals = (totals.0 + s, totals.1 + e, totals.2 + l);
    crate::maintenance::record_run(
        "delete_old_sessions",
        Some(pgrx::JsonB(serde_json::json!({
            "user_id": user_id, "older_than_days": days,
            "deleted_sessions": totals.0, "deleted_errors": totals.1, "deleted_links": totals.2
        }))),
    );
    TableIterator::once(totals)
}
