//! Analytics: daily and monthly per-user aggregates, and one user's totals.
//!
//! Activity is attributed to the day (in the server's TimeZone) its session
//! started; searches to the day they were made. Each aggregation is one
//! set-based statement that also removes rows for users with no activity
//! left in the period, so running it again gives exactly the same rows.

use pgrx::datum::Date;
use pgrx::prelude::*;

use crate::errors::{invalid_parameter, null_argument, SpiOk, SpiValue};

/// The daily and monthly aggregations: activity.sql's CTEs, then each
/// period's delete and upsert.
const DAILY: &str = concat!(
    "WITH ",
    include_str!("stats/activity.sql"),
    ",\n",
    include_str!("stats/daily.sql")
);
const MONTHLY: &str = concat!(
    "WITH ",
    include_str!("stats/activity.sql"),
    ",\n",
    include_str!("stats/monthly.sql")
);

/// Fill `ims.analytics_daily` for `stat_date` (default: yesterday), one row
/// per user with activity that day. Returns the number of rows written.
#[pg_extern(volatile, parallel_unsafe)]
pub fn aggregate_daily_stats(stat_date: default!(Option<Date>, "(CURRENT_DATE - 1)")) -> i32 {
    crate::db::require_writable("ims.aggregate_daily_stats");
    let Some(stat_date) = stat_date else {
        null_argument("stat_date")
    };
    if !stat_date.is_finite() {
        invalid_parameter(format!("stat_date must be a finite date, got {stat_date}"));
    }
    let (lo, hi) = Spi::get_two_with_args::<TimestampWithTimeZone, TimestampWithTimeZone>(
        "SELECT $1::timestamptz, ($1 + 1)::timestamptz",
        &[stat_date.into()],
    )
    .spi_ok("computing the day's bounds");
    let n = Spi::get_one_with_args::<i32>(DAILY, &[lo.into(), hi.into(), stat_date.into()])
        .value("aggregating daily statistics");
    crate::operations::record_run(
        "aggregate_daily_stats",
        Some(pgrx::JsonB(
            serde_json::json!({"stat_date": stat_date.to_string(), "rows": n}),
        )),
    );
    n
}

/// Fill `ims.analytics_monthly` for one month: per user totals, product
/// distribution, the 20 most searched keywords and quality metrics.
/// Returns the number of rows written.
#[pg_extern(volatile, parallel_unsafe)]
pub fn aggregate_monthly_stats(year: Option<i32>, month: Option<i32>) -> i32 {
    crate::db::require_writable("ims.aggregate_monthly_stats");
    let Some(year) = year else {
        null_argument("year")
    };
    let Some(month) = month else {
        null_argument("month")
    };
    if !(2000..=2999).contains(&year) {
        invalid_parameter(format!("year must be between 2000 and 2999, got {year}"));
    }
    if !(1..=12).contains(&month) {
        invalid_parameter(format!("month must be between 1 and 12, got {month}"));
    }
    let (lo, hi) = Spi::get_two_with_args::<TimestampWithTimeZone, TimestampWithTimeZone>(
        "SELECT pg_catalog.make_date($1, $2, 1)::timestamptz, \
                (pg_catalog.make_date($1, $2, 1) + interval '1 month')::timestamptz",
        &[year.into(), month.into()],
    )
    .spi_ok("computing the month's bounds");
    let n =
        Spi::get_one_with_args::<i32>(MONTHLY, &[lo.into(), hi.into(), year.into(), month.into()])
            .value("aggregating monthly statistics");
    crate::operations::record_run(
        "aggregate_monthly_stats",
        Some(pgrx::JsonB(
            serde_json::json!({"year": year, "month": month, "rows": n}),
        )),
    );
    n
}

const USER_STATS: &str = include_str!("stats/user_stats.sql");

/// One user's totals over all time. An id the caller cannot see (unknown,
/// or another user's under row level security) is an error.
#[pg_extern(stable, parallel_safe)]
pub fn get_user_stats(
    user_id: Option<i64>,
) -> TableIterator<
    'static,
    (
        name!(user_id, i64),
        name!(username, String),
        name!(total_sessions, i64),
        name!(completed_sessions, i64),
        name!(failed_sessions, i64),
        name!(running_sessions, i64),
        name!(total_issues_crawled, i64),
        name!(unique_issues, i64),
        name!(total_errors, i64),
        name!(total_searches, i64),
        name!(avg_duration_seconds, Option<f64>),
        name!(first_session_at, Option<TimestampWithTimeZone>),
        name!(last_session_at, Option<TimestampWithTimeZone>),
    ),
> {
    let Some(user_id) = user_id else {
        null_argument("user_id")
    };
    let row = Spi::connect(|c| {
        let t = c
            .select(USER_STATS, Some(1), &[user_id.into()])
            .spi_ok("reading user statistics");
        if t.is_empty() {
            crate::errors::does_not_exist(format!("ims user {user_id} does not exist"), None);
        }
        let r = t.first();
        let n = |i: usize| r.get::<i64>(i).value("a count of user statistics");
        (
            n(1),
            r.get::<String>(2).value("username"),
            n(3),
            n(4),
            n(5),
            n(6),
            n(7),
            n(8),
            n(9),
            n(10),
            r.get::<f64>(11).spi_ok("reading user statistics"),
            r.get::<TimestampWithTimeZone>(12)
                .spi_ok("reading user statistics"),
            r.get::<TimestampWithTimeZone>(13)
                .spi_ok("reading user statistics"),
        )
    });
    TableIterator::once(row)
}
