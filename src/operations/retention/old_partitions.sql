-- Months whose crawl_sessions partition ends on or before the cutoff $1,
-- oldest first: where each ends, and for crawl_sessions, session_issues and session_errors the
-- month's qualified partition name (NULL where it has none) and its row
-- count from table statistics (-1: never analyzed).
WITH months AS (
         SELECT pg_catalog.substr(c.relname, 16) AS month,
                pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')::timestamp AS m
           FROM pg_catalog.pg_inherits i
           JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'ims.crawl_sessions'::pg_catalog.regclass
            AND c.relname ~ '^crawl_sessions_[0-9]{4}_[0-9]{2}$'
         OFFSET 0),
     parts AS (
         SELECT pg_catalog.timezone('UTC', m.m) AS lo,
                pg_catalog.timezone('UTC', m.m + interval '1 month') AS hi, t.ord,
                pg_catalog.format('ims.%I', t.name || '_' || m.month) AS name
           FROM months m,
                (VALUES (1, 'crawl_sessions'), (2, 'session_issues'), (3, 'session_errors')) AS t(ord, name))
SELECT p.hi,
       pg_catalog.array_agg(CASE WHEN c.oid IS NOT NULL THEN p.name END ORDER BY p.ord),
       pg_catalog.array_agg(coalesce(c.reltuples::bigint, 0) ORDER BY p.ord)
  FROM parts p
  LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(p.name)
 WHERE p.hi <= $1
 GROUP BY p.lo, p.hi
 ORDER BY p.lo;
