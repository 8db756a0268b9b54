-- The rest of the monthly aggregation after activity.sql: $3 year, $4 month.
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
         s.avg_duration, coalesce(kw.trends, '[]'), coalesce(prod.breakdown, '{}'),
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
SELECT pg_catalog.count(*)::int4 FROM ins;
