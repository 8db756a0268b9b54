//! Analytics: daily and monthly per-user aggregates, and one user's totals.
//!
//! Activity is attributed to the day (in the server's TimeZone) its session
//! started; searches to the day they were made. Each aggregation is one
//! set-based statement that also removes rows for users with no activity
//! left in the period, so running it again gives exactly the same rows.

use pgrx::datum::Date;
use pgrx::prelude::*;

use crate::errors::{invalid_parameter, null_argument, SpiOk};

/// Per-user activity in [$1, $2): sessions, links, errors, searches.
const ACTIVITY: &str = "\
s AS (SELECT cs.user_id,
             pg_catalog.count(*) AS total,
             pg_catalog.count(*) FILTER (WHERE cs.status = 'completed') AS completed,
             pg_catalog.count(*) FILTER (WHERE cs.status = 'failed') AS failed,
             pg_catalog.count(*) FILTER (WHERE cs.status = 'cancelled') AS cancelled,
             pg_catalog.round(pg_catalog.avg(cs.duration_seconds), 3) AS avg_duration
        FROM ims.crawl_sessions cs
       WHERE cs.started_at >= $1 AND cs.started_at < $2
       GROUP BY cs.user_id),
prod AS (SELECT p.user_id, pg_catalog.jsonb_object_agg(p.product, p.n) AS breakdown
           FROM (SELECT cs.user_id, coalesce(cs.product, '(none)') AS product, pg_catalog.count(*) AS n
                   FROM ims.crawl_sessions cs
                  WHERE cs.started_at >= $1 AND cs.started_at < $2
                  GROUP BY 1, 2) p
          GROUP BY p.user_id),
li AS (SELECT si.user_id, pg_catalog.count(*) AS crawled, pg_catalog.count(DISTINCT si.issue_pk) AS uniq
         FROM ims.session_issues si
        WHERE si.session_started_at >= $1 AND si.session_started_at < $2
        GROUP BY si.user_id),
er AS (SELECT e.user_id, pg_catalog.sum(e.n) AS total, pg_catalog.jsonb_object_agg(e.severity, e.n) AS by_severity
         FROM (SELECT se.user_id, se.severity, pg_catalog.count(*) AS n
                 FROM ims.session_errors se
                WHERE se.session_started_at >= $1 AND se.session_started_at < $2
                GROUP BY 1, 2) e
        GROUP BY e.user_id),
q AS (SELECT sq.user_id, pg_catalog.count(*) AS n, pg_catalog.avg(sq.confidence) AS avg_confidence
        FROM ims.search_queries sq
       WHERE sq.created_at >= $1 AND sq.created_at < $2
       GROUP BY sq.user_id),
active AS (SELECT user_id FROM s UNION SELECT user_id FROM q)";

fn daily_sql() -> String {
    format!(
        "WITH {ACTIVITY},
del AS (DELETE FROM ims.analytics_daily d
         WHERE d.stat_date = $3 AND d.user_id NOT IN (SELECT user_id FROM active)),
ins AS (
  INSERT INTO ims.analytics_daily AS d
         (user_id, stat_date, total_sessions, completed_sessions, failed_sessions, cancelled_sessions,
          total_issues_crawled, unique_issues, total_errors, errors_by_severity, total_searches,
          avg_duration_seconds, product_breakdown, computed_at)
  SELECT a.user_id, $3, coalesce(s.total, 0), coalesce(s.completed, 0), coalesce(s.failed, 0),
         coalesce(s.cancelled, 0), coalesce(li.crawled, 0), coalesce(li.uniq, 0), coalesce(er.total, 0),
         coalesce(er.by_severity, '{{}}'), coalesce(q.n, 0), s.avg_duration,
         coalesce(prod.breakdown, '{{}}'), pg_catalog.now()
    FROM active a
    LEFT JOIN s USING (user_id) LEFT JOIN prod USING (user_id) LEFT JOIN li USING (user_id)
    LEFT JOIN er USING (user_id) LEFT JOIN q USING (user_id)
  ON CONFLICT (user_id, stat_date) DO UPDATE
     SET total_sessions = excluded.total_sessions, completed_sessions = excluded.completed_sessions,
         failed_sessions = excluded.failed_sessions, cancelled_sessions = excluded.cancelled_sessions,
         total_issues_crawled = excluded.total_issues_crawled, unique_issues = excluded.unique_issues,
         total_errors = excluded.total_errors, errors_by_severity = excluded.errors_by_severity,
         total_searches = excluded.total_searches, avg_duration_seconds = excluded.avg_duration_seconds,
         product_breakdown = excluded.product_breakdown, computed_at = excluded.computed_at
  RETURNING 1)
SELECT pg_catalog.count(*)::int4 FROM ins"
    )
}

fn monthly_sql() -> String {
    format!(
        "WITH {ACTIVITY},
kw AS (SELECT t.user_id,
              pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('keyword', t.word, 'count', t.n)
                                   ORDER BY t.n DESC, t.word) AS trends
         FROM (SELECT w.user_id, w.word, w.n,
                      pg_catalog.row_number() OVER (PARTITION BY w.user_id ORDER BY w.n DESC, w.word) AS r
                 FROM (SELECT sq.user_id, x.word, pg_catalog.count(*) AS n
                         FROM ims.search_queries sq
                        CROSS JOIN LATERAL pg_catalog.regexp_split_to_table(
                                pg_catalog.lower(sq.original_query), '[^[:alnum:]_-]+') AS x(word)
                        WHERE sq.created_at >= $1 AND sq.created_at < $2 AND pg_catalog.length(x.word) >= 2
                        GROUP BY 1, 2) w) t
        WHERE t.r <= 20
        GROUP BY t.user_id),
del AS (DELETE FROM ims.analytics_monthly m
         WHERE m.year = $3 AND m.month = $4 AND m.user_id NOT IN (SELECT user_id FROM active)),
ins AS (
  INSERT INTO ims.analytics_monthly AS m
         (user_id, year, month, total_sessions, completed_sessions, failed_sessions, total_issues_crawled,
          unique_issues, total_errors, total_searches, avg_duration_seconds, keyword_trends,
          product_distribution, quality_metrics, computed_at)
  SELECT a.user_id, $3, $4, coalesce(s.total, 0), coalesce(s.completed, 0), coalesce(s.failed, 0),
         coalesce(li.crawled, 0), coalesce(li.uniq, 0), coalesce(er.total, 0), coalesce(q.n, 0),
         s.avg_duration, coalesce(kw.trends, '[]'), coalesce(prod.breakdown, '{{}}'),
         pg_catalog.jsonb_build_object(
             'success_rate', pg_catalog.round(s.completed::numeric / NULLIF(s.total, 0), 4),
             'failure_rate', pg_catalog.round(s.failed::numeric / NULLIF(s.total, 0), 4),
             'errors_per_session', pg_catalog.round(coalesce(er.total, 0)::numeric / NULLIF(s.total, 0), 4),
             'issues_per_session', pg_catalog.round(coalesce(li.crawled, 0)::numeric / NULLIF(s.total, 0), 4),
             'avg_parse_confidence', pg_catalog.round(q.avg_confidence, 4)),
         pg_catalog.now()
    FROM active a
    LEFT JOIN s USING (user_id) LEFT JOIN prod USING (user_id) LEFT JOIN li USING (user_id)
    LEFT JOIN er USING (user_id) LEFT JOIN q USING (user_id) LEFT JOIN kw USING (user_id)
  ON CONFLICT (user_id, year, month) DO UPDATE
     SET total_sessions = excluded.total_sessions, completed_sessions = excluded.completed_sessions,
         failed_sessions = excluded.failed_sessions, total_issues_crawled = excluded.total_issues_crawled,
         unique_issues = excluded.unique_issues, total_errors = excluded.total_errors,
         total_searches = excluded.total_searches, avg_duration_seconds = excluded.avg_duration_seconds,
         keyword_trends = excluded.keyword_trends, product_distribution = excluded.product_distribution,
         quality_metrics = excluded.quality_metrics, computed_at = excluded.computed_at
  RETURNING 1)
SELECT pg_catalog.count(*)::int4 FROM ins"
    )
}

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
    let n = Spi::get_one_with_args::<i32>(&daily_sql(), &[lo.into(), hi.into(), stat_date.into()])
        .spi_ok("aggregating daily statistics")
        .unwrap_or(0);
    crate::maintenance::record_run(
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
    let n = Spi::get_one_with_args::<i32>(
        &monthly_sql(),
        &[lo.into(), hi.into(), year.into(), month.into()],
    )
    .spi_ok("aggregating monthly statistics")
    .unwrap_or(0);
    crate::maintenance::record_run(
        "aggregate_monthly_stats",
        Some(pgrx::JsonB(
            serde_json::json!({"year": year, "month": month, "rows": n}),
        )),
    );
    n
}

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
            .select(
                "SELECT u.user_id, u.username,
                        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
                        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'completed'),
                        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'failed'),
                        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'running'),
                        (SELECT pg_catalog.count(*) FROM ims.session_issues si WHERE si.user_id = u.user_id),
                        (SELECT pg_catalog.count(DISTINCT si.issue_pk) FROM ims.session_issues si WHERE si.user_id = u.user_id),
                        (SELECT pg_catalog.count(*) FROM ims.session_errors se WHERE se.user_id = u.user_id),
                        (SELECT pg_catalog.count(*) FROM ims.search_queries q WHERE q.user_id = u.user_id),
                        (SELECT pg_catalog.round(pg_catalog.avg(s.duration_seconds), 3)::float8 FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
                        (SELECT pg_catalog.min(s.started_at) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
                        (SELECT pg_catalog.max(s.started_at) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id)
                   FROM ims.users u WHERE u.user_id = $1",
                Some(1),
                &[user_id.into()],
            )
            .spi_ok("reading user statistics");
        if t.is_empty() {
            invalid_parameter(format!("ims user {user_id} does not exist"));
        }
        let r = t.first();
        let n = |i: usize| {
            r.get::<i64>(i)
                .spi_ok("reading user statistics")
                .unwrap_or(0)
        };
        (
            n(1),
            r.get::<String>(2)
                .spi_ok("reading user statistics")
                .unwrap_or_default(),
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
