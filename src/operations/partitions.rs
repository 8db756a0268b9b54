//! Monthly partitions of `ims.crawl_sessions` and of the tables that hang
//! off a session, `ims.session_issues` and `ims.session_errors`.
//!
//! Partitions cover calendar months in UTC and are named
//! `crawl_sessions_YYYY_MM`, `session_issues_YYYY_MM` and
//! `session_errors_YYYY_MM`; a month's links and errors carry a foreign key
//! to that month's sessions only, so the month can be dropped as three
//! tables without checking any other (see retention). They are ordinary
//! tables (not members of the extension), so `pg_dump` writes their
//! definition and data like any other table; only the DEFAULT partitions
//! belong to the extension.

use pgrx::prelude::*;

use crate::errors::{invalid_parameter, SpiOk, SpiValue};

/// The most months ahead one call may create: ten years.
const MAX_MONTHS_AHEAD: i32 = 120;

/// The most past or future months with rows waiting in the DEFAULT
/// partition that one call turns into partitions (oldest first); the rest
/// wait for the next call. So one run creates at most
/// `months_ahead + 1 + MAX_WAITING_MONTHS_PER_RUN` partitions.
pub const MAX_WAITING_MONTHS_PER_RUN: i64 = 12;

/// The partitioned tables of a month, with the name of their partition key
/// and the columns that can be written (all but generated ones): sessions
/// first, since the other two reference them.
const MONTHLY_TABLES: [(&str, &str, &str); 3] = [
    (
        "crawl_sessions",
        "started_at",
        "session_id, session_uuid, user_id, started_at, finished_at, status, \
         product, search_query, parameters, issues_found, issues_crawled, issues_new, issues_updated, \
         comments_crawled, attachments_crawled, errors_count, crawler_version, hostname, metadata, \
         created_at, updated_at",
    ),
    (
        "session_issues",
        "session_started_at",
        "session_issue_id, session_id, session_started_at, user_id, issue_pk, action, crawled_at",
    ),
    (
        "session_errors",
        "session_started_at",
        "error_id, session_id, session_started_at, user_id, severity, error_type, error_message, \
         error_detail, issue_id, url, occurred_at, is_resolved",
    ),
];

/// Row level security and grants every partition carries, so that selecting
/// a partition directly shows no more than the parent table would.
/// `ims_user` gets no privilege on partitions: it goes through the parent.
fn secure_partition(qualified: &str) {
    for stmt in [
        format!("ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY"),
        format!("REVOKE ALL ON {qualified} FROM PUBLIC"),
        // As on every ims table (sql/security.sql): no TRIGGER, REFERENCES, TRUNCATE.
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {qualified} TO ims_admin"),
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

/// Secure every partition of crawl_sessions, session_issues and
/// session_errors that is not yet (the DEFAULT ones at install time, any
/// created by hand). Returns how many it secured.
pub fn secure_unsecured_partitions() -> i64 {
    let names: Vec<String> = Spi::connect(|c| {
        c.select(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) \
               FROM pg_catalog.pg_inherits i \
               JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid \
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
              WHERE i.inhparent IN ('ims.crawl_sessions'::pg_catalog.regclass, \
                                    'ims.session_issues'::pg_catalog.regclass, \
                                    'ims.session_errors'::pg_catalog.regclass) \
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

/// Give every monthly or DEFAULT partition that lacks it row level security
/// and the partition grants; returns how many it changed. ensure_partitions
/// does this too; this form creates nothing.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn secure_partitions() -> i64 {
    crate::db::require_writable("ims.secure_partitions");
    secure_unsecured_partitions()
}

/// Whether session_issues and session_errors are partitioned by month (0.5.0
/// on). Older versions' install scripts call ensure_partitions with this
/// library loaded; their links and errors are plain tables.
pub fn links_partitioned() -> bool {
    Spi::get_one::<bool>(
        "SELECT pg_catalog.count(*) = 2 FROM pg_catalog.pg_class \
          WHERE oid IN (pg_catalog.to_regclass('ims.session_issues'), pg_catalog.to_regclass('ims.session_errors')) \
            AND relkind = 'p'",
    )
    .value("checking the layout of session_issues")
}

fn in_create_extension() -> bool {
    // SAFETY: plain read of a backend global.
    unsafe { pg_sys::creating_extension }
}

/// Create the monthly partitions of `ims.crawl_sessions` (with those of
/// `ims.session_issues` and `ims.session_errors`) from the current month
/// (UTC) to `months_ahead` months ahead, plus one for every month that has
/// rows waiting in the DEFAULT partition (those rows are moved into it with
/// their links and errors, keeping every row that references them), and the
/// link and error partitions of any month that lacks them. Idempotent:
/// returns the crawl_sessions partitions it created. Also secures any
/// partition that lacks row level security.
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

    let tables = if links_partitioned() {
        &MONTHLY_TABLES[..]
    } else {
        &MONTHLY_TABLES[..1]
    };
    let wanted = missing_months(months_ahead, tables.len() > 1);
    let mut created = Vec::with_capacity(wanted.len());
    if !wanted.is_empty() {
        crate::operations::lock_session_tables();
    }
    for (month, start, end, waiting) in wanted {
        crate::limits::check_for_interrupts();
        if create_month(tables, &month, start, end, waiting) {
            created.push((format!("crawl_sessions_{month}"), start, end, waiting));
        }
    }
    TableIterator::new(created)
}

/// A month needing partitions: YYYY_MM, bounds, sessions waiting for it in
/// DEFAULT.
type Month = (String, TimestampWithTimeZone, TimestampWithTimeZone, i64);

/// The months that need partitions and lack one: this month and
/// `months_ahead` more, the oldest months with rows waiting in DEFAULT, and
/// months whose links or errors have no partition.
const MISSING_MONTHS: &str = include_str!("partitions/missing_months.sql");

fn missing_months(months_ahead: i32, with_links: bool) -> Vec<Month> {
    Spi::connect(|c| {
        c.select(
            MISSING_MONTHS,
            None,
            &[
                months_ahead.into(),
                MAX_WAITING_MONTHS_PER_RUN.into(),
                with_links.into(),
            ],
        )
        .spi_ok("planning partitions")
        .map(|row| {
            (
                row.get::<String>(1).value("partition month"),
                row.get::<TimestampWithTimeZone>(2).value("partition start"),
                row.get::<TimestampWithTimeZone>(3).value("partition end"),
                row.get::<i64>(4).value("rows waiting for a partition"),
            )
        })
        .collect()
    })
}

/// Create the missing partitions of one month; true when the crawl_sessions
/// one was among them.
fn create_month(
    tables: &[(&str, &str, &str)],
    month: &str,
    start: TimestampWithTimeZone,
    end: TimestampWithTimeZone,
    waiting: i64,
) -> bool {
    let qualified =
        |table: &str| format!("ims.{}", spi::quote_identifier(&format!("{table}_{month}")));
    let sessions = qualified("crawl_sessions");
    if waiting > 0 {
        // The rows must leave DEFAULT before a partition for their month can
        // exist, links and errors with their sessions. Foreign keys point at
        // them, so move them with referential actions off (replica role):
        // the same keys come back in the same transaction.
        Spi::run("SET LOCAL session_replication_role = replica").spi_ok("moving rows");
        for &(table, key, _) in tables {
            Spi::run_with_args(
                &format!(
                    "CREATE TEMP TABLE ims_moving_{table} ON COMMIT DROP AS \
                     WITH moved AS (DELETE FROM ims.{table}_default \
                                     WHERE {key} >= $1 AND {key} < $2 RETURNING *) \
                     SELECT * FROM moved"
                ),
                &[start.into(), end.into()],
            )
            .spi_ok("moving rows out of a DEFAULT partition");
        }
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
    let (lo, hi) = (bound(start), bound(end));
    let mut created_sessions = false;
    for &(table, _, _) in tables {
        let partition = qualified(table);
        let exists = Spi::get_one_with_args::<bool>(
            "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
            &[partition.as_str().into()],
        )
        .value("looking for a partition");
        if exists {
            continue;
        }
        Spi::run(&format!(
            "CREATE TABLE {partition} PARTITION OF ims.{table} FOR VALUES FROM ({lo}) TO ({hi})"
        ))
        .spi_ok("creating a partition");
        if table == "crawl_sessions" {
            created_sessions = true;
        } else {
            let fkey = spi::quote_identifier(&format!("{table}_{month}_session_fkey"));
            Spi::run(&format!(
                "ALTER TABLE {partition} ADD CONSTRAINT {fkey} FOREIGN KEY (session_id, session_started_at) \
                 REFERENCES {sessions} (session_id, started_at) ON DELETE CASCADE"
            ))
            .spi_ok("keying a partition to its month of sessions");
        }
        secure_partition(&partition);
        if in_create_extension() {
            // Keep dated partitions out of the extension even at install
            // time: pg_dump then dumps every partition the same way.
            Spi::run(&format!(
                "ALTER EXTENSION ims_crawler DROP TABLE {partition}"
            ))
            .spi_ok("releasing a partition from the extension");
        }
    }
    if waiting > 0 {
        for &(table, _, columns) in tables {
            Spi::run(&format!(
                "INSERT INTO ims.{table} ({columns}) SELECT {columns} FROM pg_temp.ims_moving_{table}"
            ))
            .spi_ok("moving rows into the new partition");
            Spi::run(&format!("DROP TABLE pg_temp.ims_moving_{table}")).spi_ok("moving rows");
        }
        Spi::run("SET LOCAL session_replication_role = origin").spi_ok("moving rows");
    }
    created_sessions
}
