//! Monthly partitions of `ims.crawl_sessions`.
//!
//! Partitions cover calendar months in UTC and are named
//! `crawl_sessions_YYYY_MM`. They are ordinary tables (not members of the
//! extension), so `pg_dump` writes their definition and data like any other
//! table; only the DEFAULT partition belongs to the extension.

use pgrx::prelude::*;

use crate::errors::{invalid_parameter, SpiOk, SpiValue};

/// The most months ahead one call may create: ten years.
const MAX_MONTHS_AHEAD: i32 = 120;

/// The most past or future months with rows waiting in the DEFAULT
/// partition that one call turns into partitions (oldest first); the rest
/// wait for the next call. So one run creates at most
/// `months_ahead + 1 + MAX_WAITING_MONTHS_PER_RUN` partitions.
pub const MAX_WAITING_MONTHS_PER_RUN: i64 = 12;

/// Columns of crawl_sessions that can be written (all but the generated one).
const WRITABLE_COLUMNS: &str =
    "session_id, session_uuid, user_id, started_at, finished_at, status, \
     product, search_query, parameters, issues_found, issues_crawled, issues_new, issues_updated, \
     comments_crawled, attachments_crawled, errors_count, crawler_version, hostname, metadata, \
     created_at, updated_at";

/// Row level security and grants every partition carries, so that selecting
/// a partition directly shows no more than the parent table would.
/// `ims_user` gets no privilege on partitions: it goes through the parent.
fn secure_partition(qualified: &str) {
    for stmt in [
        format!("ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY"),
        format!("REVOKE ALL ON {qualified} FROM PUBLIC"),
        format!("GRANT ALL ON {qualified} TO ims_admin"),
        format!("GRANT SELECT ON {qualified} TO ims_readonly"),
        format!(
            "CREATE POLICY admin_all ON {qualified} TO ims_admin USING (true) WITH CHECK (true)"
        ),
        format!(
            "CREATE POLICY readonly_select ON {qualified} FOR SELECT TO ims_readonly USING (true)"
        ),
    ] {
        Spi::run(&stmt).spi_ok("securing a partition");
    }
}

/// Secure every partition of crawl_sessions that is not yet (the DEFAULT one
/// at install time, any created by hand). Returns how many it secured.
pub fn secure_unsecured_partitions() -> i64 {
    let names: Vec<String> = Spi::connect(|c| {
        c.select(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) \
               FROM pg_catalog.pg_inherits i \
               JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid \
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
              WHERE i.inhparent = 'ims.crawl_sessions'::pg_catalog.regclass \
                AND NOT (c.relrowsecurity AND c.relforcerowsecurity) \
              ORDER BY 1",
            None,
            &[],
        )
        .spi_ok("listing partitions")
        .map(|row| row.get::<String>(1).value("reading a partition name"))
        .collect()
    });
    for name in &names {
        secure_partition(name);
    }
    names.len() as i64
}

/// Give every partition of crawl_sessions that lacks it row level security
/// and the partition grants; returns how many it changed. ensure_partitions
/// does this too; this form creates nothing.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn secure_partitions() -> i64 {
    crate::db::require_writable("ims.secure_partitions");
    secure_unsecured_partitions()
}

fn in_create_extension() -> bool {
    // SAFETY: plain read of a backend global.
    unsafe { pg_sys::creating_extension }
}

/// Create the monthly partitions of `ims.crawl_sessions` from the current
/// month (UTC) to `months_ahead` months ahead, plus one for every month that
/// has rows waiting in the DEFAULT partition (those rows are moved into it,
/// keeping every row that references them). Idempotent: returns only what it
/// created. Also secures any partition that lacks row level security.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn ensure_partitions(
    months_ahead: default!(Option<i32>, 3),
) -> TableIterator<
    'static,
    (
        name!(partition_name, String),
        name!(range_start, TimestampWithTimeZone),
        name!(range_end, TimestampWithTimeZone),
        name!(rows_moved, i64),
    ),
> {
    crate::db::require_writable("ims.ensure_partitions");
    let Some(months_ahead) = months_ahead else {
        crate::errors::null_argument("months_ahead")
    };
    if !(0..=MAX_MONTHS_AHEAD).contains(&months_ahead) {
        invalid_parameter(format!(
            "months_ahead must be between 0 and {MAX_MONTHS_AHEAD}, got {months_ahead}"
        ));
    }
    secure_unsecured_partitions();

    let wanted = missing_months(months_ahead);
    let mut created = Vec::with_capacity(wanted.len());
    if !wanted.is_empty() {
        crate::operations::lock_session_tables();
    }
    for (name, start, end, waiting) in wanted {
        crate::limits::check_for_interrupts();
        create_partition(&name, start, end, waiting);
        created.push((name, start, end, waiting));
    }
    TableIterator::new(created)
}

/// A month's partition: name, bounds, rows waiting for it in DEFAULT.
type Month = (String, TimestampWithTimeZone, TimestampWithTimeZone, i64);

/// The months that need a partition and have none: this month and
/// `months_ahead` more, and the oldest months with rows waiting in DEFAULT.
const MISSING_MONTHS: &str = include_str!("partitions/missing_months.sql");

fn missing_months(months_ahead: i32) -> Vec<Month> {
    Spi::connect(|c| {
        c.select(
            MISSING_MONTHS,
            None,
            &[months_ahead.into(), MAX_WAITING_MONTHS_PER_RUN.into()],
        )
        .spi_ok("planning partitions")
        .map(|row| {
            (
                row.get::<String>(1).value("partition name"),
                row.get::<TimestampWithTimeZone>(2).value("partition start"),
                row.get::<TimestampWithTimeZone>(3).value("partition end"),
                row.get::<i64>(4).value("rows waiting for a partition"),
            )
        })
        .collect()
    })
}

fn create_partition(
    name: &str,
    start: TimestampWithTimeZone,
    end: TimestampWithTimeZone,
    waiting: i64,
) {
    let qualified = format!("ims.{}", spi::quote_identifier(name));
    if waiting > 0 {
        // The rows must leave DEFAULT before a partition for their month can
        // exist. Foreign keys from session_errors, session_issues, ... point
        // at them, so move them with referential actions off (replica role):
        // the same keys come back in the same transaction.
        Spi::run("SET LOCAL session_replication_role = replica").spi_ok("moving rows");
        Spi::run_with_args(
            "CREATE TEMP TABLE ims_moving_sessions ON COMMIT DROP AS \
             WITH moved AS (DELETE FROM ims.crawl_sessions_default \
                             WHERE started_at >= $1 AND started_at < $2 RETURNING *) \
             SELECT * FROM moved",
            &[start.into(), end.into()],
        )
        .spi_ok("moving rows out of the DEFAULT partition");
    }
    // Bounds are UTC month starts, written as ISO literals so that the
    // session's DateStyle and TimeZone cannot change them.
    let bound = |t: TimestampWithTimeZone| {
        Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00\"')",
            &[t.into()],
        )
        .spi_ok("formatting a partition bound")
        .map(spi::quote_literal)
        .unwrap_or_default()
    };
    Spi::run(&format!(
        "CREATE TABLE {qualified} PARTITION OF ims.crawl_sessions FOR VALUES FROM ({}) TO ({})",
        bound(start),
        bound(end)
    ))
    .spi_ok("creating a partition");
    if waiting > 0 {
        Spi::run(&format!(
            "INSERT INTO ims.crawl_sessions ({WRITABLE_COLUMNS}) \
             SELECT {WRITABLE_COLUMNS} FROM pg_temp.ims_moving_sessions"
        ))
        .spi_ok("moving rows into the new partition");
        Spi::run("DROP TABLE pg_temp.ims_moving_sessions").spi_ok("moving rows");
        Spi::run("SET LOCAL session_replication_role = origin").spi_ok("moving rows");
    }
    secure_partition(&qualified);
    if in_create_extension() {
        // Keep dated partitions out of the extension even at install time:
        // pg_dump then dumps every partition the same way.
        Spi::run(&format!(
            "ALTER EXTENSION ims_crawler DROP TABLE {qualified}"
        ))
        .spi_ok("releasing a partition from the extension");
    }
}
