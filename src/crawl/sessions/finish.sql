-- Finish a running session: $1 session_id, $2 the final status, $3 what the
-- crawler's search reported (NULL keeps it). Counts come from the rows linked
-- to the session. No row: someone else finished it meanwhile.
WITH links AS (
         SELECT pg_catalog.count(*) AS crawled,
                pg_catalog.count(*) FILTER (WHERE action = 'inserted') AS new,
                pg_catalog.count(*) FILTER (WHERE action = 'updated') AS updated
           FROM ims.session_issues
          WHERE session_id = $1 AND session_started_at = (SELECT started_at FROM ims.crawl_sessions WHERE session_id = $1)),
     errs AS (SELECT pg_catalog.count(*) AS n FROM ims.session_errors
               WHERE session_id = $1 AND session_started_at = (SELECT started_at FROM ims.crawl_sessions WHERE session_id = $1))
UPDATE ims.crawl_sessions s
   SET status = $2,
       finished_at = GREATEST(pg_catalog.clock_timestamp(), s.started_at),
       issues_found = coalesce($3, s.issues_found),
       issues_crawled = links.crawled, issues_new = links.new,
       issues_updated = links.updated, errors_count = errs.n
  FROM links, errs
 WHERE s.session_id = $1 AND s.status = 'running'
RETURNING s.session_id, s.status, s.duration_seconds::float8, s.issues_crawled,
          s.issues_new, s.issues_updated, s.errors_count;
