-- Row-by-row removal of sessions that started before $1 (of user $2, or of
-- everyone when NULL), with their links and errors. $3, when not NULL, is
-- where the months retention drops whole end: before it, sessions remain
-- only in the DEFAULT partitions. Links and errors carry their session's
-- start and owner, so each table is deleted from by the same predicate, on
-- its own indexes and partitions (no join). Returns (sessions, errors,
-- links) deleted.
WITH e AS (DELETE FROM ims.session_errors
            WHERE session_started_at < $1 AND session_started_at >= coalesce($3, '-infinity'::timestamptz)
              AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1),
e0 AS (DELETE FROM ims.session_errors_default
        WHERE session_started_at < $3 AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1),
l AS (DELETE FROM ims.session_issues
       WHERE session_started_at < $1 AND session_started_at >= coalesce($3, '-infinity'::timestamptz)
         AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1),
l0 AS (DELETE FROM ims.session_issues_default
        WHERE session_started_at < $3 AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1),
s AS (DELETE FROM ims.crawl_sessions
       WHERE started_at < $1 AND started_at >= coalesce($3, '-infinity'::timestamptz)
         AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1),
s0 AS (DELETE FROM ims.crawl_sessions_default
        WHERE started_at < $3 AND ($2::bigint IS NULL OR user_id = $2) RETURNING 1)
SELECT (SELECT pg_catalog.count(*) FROM s) + (SELECT pg_catalog.count(*) FROM s0),
       (SELECT pg_catalog.count(*) FROM e) + (SELECT pg_catalog.count(*) FROM e0),
       (SELECT pg_catalog.count(*) FROM l) + (SELECT pg_catalog.count(*) FROM l0);
