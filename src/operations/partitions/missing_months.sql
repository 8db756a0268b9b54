-- The monthly partitions of crawl_sessions to create: the current month (UTC)
-- and $1 more, plus up to $2 of the oldest months whose rows wait in the
-- DEFAULT partition; only those that do not exist yet, with their bounds and
-- how many rows wait for each. Months are UTC wall-clock timestamps (the
-- time-zone-aware generate_series is PostgreSQL 16+ only).
WITH ahead AS (
         SELECT pg_catalog.date_trunc('month', pg_catalog.now() AT TIME ZONE 'UTC')
                  + pg_catalog.make_interval(months => k) AS m
           FROM pg_catalog.generate_series(0, $1) AS k),
     waiting AS (
         SELECT DISTINCT pg_catalog.date_trunc('month', d.started_at AT TIME ZONE 'UTC') AS m
           FROM ims.crawl_sessions_default d WHERE pg_catalog.isfinite(d.started_at)),
     months AS (
         SELECT m FROM ahead
         UNION
         (SELECT w.m FROM waiting w WHERE w.m NOT IN (SELECT m FROM ahead) ORDER BY w.m LIMIT $2)),
     bounds AS (
         SELECT pg_catalog.to_char(m, '"crawl_sessions_"YYYY_MM') AS name,
                m AT TIME ZONE 'UTC' AS lo, (m + interval '1 month') AT TIME ZONE 'UTC' AS hi
           FROM months)
SELECT b.name, b.lo, b.hi,
       (SELECT pg_catalog.count(*) FROM ims.crawl_sessions_default d
         WHERE d.started_at >= b.lo AND d.started_at < b.hi) AS waiting
  FROM bounds b
 WHERE pg_catalog.to_regclass('ims.' || b.name) IS NULL
 ORDER BY b.lo;
