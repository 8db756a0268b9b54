-- One day of the aggregation benchmark (included by functions.sql with
-- psql variables day, sessions, first_id): load it, time the function and
-- the baselines, prove the fair baseline computed the function's figures.
TRUNCATE bench.timings;
CALL bench.load_day(:'day', :sessions, :first_id);
SELECT count(*) AS partitions_created FROM ims.ensure_partitions(0);
ANALYZE;
CALL bench.time_aggregation(:'day', 5);
\echo '== aggregate_daily_stats: one day of' :sessions 'sessions, 2 links each, an error on every tenth (5 runs)'
SELECT name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms
  FROM bench.timings GROUP BY name ORDER BY name;
-- The fair baseline computed exactly the function's figures (both ways).
SELECT (SELECT count(*) FROM (
          SELECT user_id, total_sessions, completed_sessions, failed_sessions, cancelled_sessions, total_issues_crawled,
                 unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
            FROM ims.analytics_daily WHERE stat_date = :'day'
          EXCEPT
          SELECT user_id, total_sessions, completed_sessions, failed_sessions, cancelled_sessions, total_issues_crawled,
                 unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
            FROM bench.daily_baseline) d)
     + (SELECT count(*) FROM (
          SELECT user_id, total_sessions, completed_sessions, failed_sessions, cancelled_sessions, total_issues_crawled,
                 unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
            FROM bench.daily_baseline
          EXCEPT
          SELECT user_id, total_sessions, completed_sessions, failed_sessions, cancelled_sessions, total_issues_crawled,
                 unique_issues, total_errors, errors_by_severity, total_searches, avg_duration_seconds, product_breakdown
            FROM ims.analytics_daily WHERE stat_date = :'day') d) AS rows_differing_from_baseline,
       (SELECT count(*) FROM bench.daily_baseline) AS baseline_rows;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings WHERE name = 'aggregate_daily_stats')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench.timings
               WHERE name = 'hand-written INSERT ... SELECT (fair baseline)')::numeric, 2)
         AS aggregate_vs_fair_baseline;

