-- Per-user activity in [$1, $2): sessions, links, errors, searches.
-- A fragment: the first CTEs of daily.sql and monthly.sql (see stats.rs).
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
active AS (SELECT user_id FROM s UNION SELECT user_id FROM q)
