-- Dated partitions of crawl_sessions whose whole month ends on or before the
-- cutoff $1: qualified name, start, end.
SELECT pg_catalog.format('ims.%I', p.relname), p.lo, p.hi
  FROM (SELECT c.relname,
               pg_catalog.timezone('UTC', pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')::timestamp) AS lo,
               pg_catalog.timezone('UTC', pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYY_MM')
                                          + interval '1 month') AS hi
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'ims.crawl_sessions'::pg_catalog.regclass
           AND c.relname ~ '^crawl_sessions_[0-9]{4}_[0-9]{2}$'
        OFFSET 0) p
 WHERE p.hi <= $1
 ORDER BY p.lo;
