-- The rest of the daily aggregation after activity.sql: $3 the day.
del AS (DELETE FROM ims.analytics_daily d
         WHERE d.stat_date = $3 AND d.user_id NOT IN (SELECT user_id FROM active)),
ins AS (
  INSERT INTO ims.analytics_daily AS d
         (user_id, stat_date, total_sessions, completed_sessions, failed_sessions, cancelled_sessions,
          total_issues_crawled, unique_issues, total_errors, errors_by_severity, total_searches,
          avg_duration_seconds, product_breakdown, computed_at)
  SELECT a.user_id, $3, coalesce(s.total, 0), coalesce(s.completed, 0), coalesce(s.failed, 0),
         coalesce(s.cancelled, 0), coalesce(li.crawled, 0), coalesce(li.uniq, 0), coalesce(er.total, 0),
         coalesce(er.by_severity, '{}'), coalesce(q.n, 0), s.avg_duration,
         coalesce(prod.breakdown, '{}'), pg_catalog.now()
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
SELECT pg_catalog.count(*)::int4 FROM ins;
