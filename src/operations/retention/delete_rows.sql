-- Row-by-row removal of sessions older than $1 (optionally of user $2), with
-- their errors and links. $3, when not NULL, is where the months retention
-- has dropped whole end: older sessions remain only in the DEFAULT
-- partition. Returns (sessions, errors, links) deleted.
WITH old AS (SELECT session_id, started_at FROM ims.crawl_sessions
              WHERE started_at < $1 AND started_at >= coalesce($3, '-infinity'::timestamptz)
                AND ($2::bigint IS NULL OR user_id = $2)
             UNION ALL
             SELECT session_id, started_at FROM ims.crawl_sessions_default
              WHERE started_at < $3 AND ($2::bigint IS NULL OR user_id = $2)),
e AS (DELETE FROM ims.session_errors se USING old
       WHERE se.session_id = old.session_id AND se.session_started_at = old.started_at RETURNING 1),
l AS (DELETE FROM ims.session_issues si USING old
       WHERE si.session_id = old.session_id AND si.session_started_at = old.started_at RETURNING 1),
s AS (DELETE FROM ims.crawl_sessions cs USING old
       WHERE cs.session_id = old.session_id AND cs.started_at = old.started_at RETURNING 1)
SELECT (SELECT pg_catalog.count(*) FROM s), (SELECT pg_catalog.count(*) FROM e), (SELECT pg_catalog.count(*) FROM l);
