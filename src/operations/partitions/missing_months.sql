-- The months that need partitions: the current month (UTC) and $1 more,
-- up to $2 of the oldest months whose rows wait in the DEFAULT partition of
-- crawl_sessions, and every month whose crawl_sessions partition lacks its
-- session_issues or session_errors partition (when $3: those two are
-- partitioned); only those with a table missing, as YYYY_MM with their bounds and how many sessions wait for each.
-- Months are UTC wall-clock timestamps (the time-zone-aware
-- generate_series is PostgreSQL 16+ only).
WITH ahead AS (
         SELECT pg_catalog.date_trunc('month', pg_catalog.now() AT TIME ZONE 'UTC')
                  + pg_catalog.make_interval(months => k) AS m
           FROM pg_catalog.generate_series(0, $1) AS k),
     waiting AS (
         SELECT DISTINCT pg_catalog.date_trunc('month', d.started_at AT TIME ZONE 'UTC') AS m
           FROM ims.crawl_sessions_default d WHERE pg_catalog.isfinite(d.started_at)),
     existing AS (
         SELECT pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')::timestamp AS m
           FROM pg_catalog.pg_inherits i
           JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'ims.crawl_sessions'::pg_catalog.regclass
            AND c.relname ~ '^crawl_sessions_[0-9]{4}_[0-9]{2}$'),
     months AS (
         SELECT m FROM ahead
         UNION
         (SELECT w.m FROM waiting w WHERE w.m NOT IN (SELECT m FROM ahead) ORDER BY w.m LIMIT $2)
         UNION
         SELECT m FROM existing),
     bounds AS (
         SELECT pg_catalog.to_char(m, 'YYYY_MM') AS month,
                m AT TIME ZONE 'UTC' AS lo, (m + interval '1 month') AT TIME ZONE 'UTC' AS hi
           FROM months)
SELECT b.month, b.lo, b.hi,
       (SELECT pg_catalog.count(*) FROM ims.crawl_sessions_default d
         WHERE d.started_at >= b.lo AND d.started_at < b.hi) AS waiting
  FROM bounds b
 WHERE pg_catalog.to_regclass('ims.crawl_sessions_' || b.month) IS NULL
    OR ($3 AND (pg_catalog.to_regclass('ims.session_issues_' || b.month) IS NULL
                OR pg_catalog.to_regclass('ims.session_errors_' || b.month) IS NULL))
 ORDER BY b.lo;
