-- One user's totals over all time ($1 user_id), as the caller may see them
-- (row level security applies: this runs with the caller's rights).
SELECT u.user_id, u.username,
        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'completed'),
        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'failed'),
        (SELECT pg_catalog.count(*) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id AND s.status = 'running'),
        (SELECT pg_catalog.count(*) FROM ims.session_issues si WHERE si.user_id = u.user_id),
        (SELECT pg_catalog.count(DISTINCT si.issue_pk) FROM ims.session_issues si WHERE si.user_id = u.user_id),
        (SELECT pg_catalog.count(*) FROM ims.session_errors se WHERE se.user_id = u.user_id),
        (SELECT pg_catalog.count(*) FROM ims.search_queries q WHERE q.user_id = u.user_id),
        (SELECT pg_catalog.round(pg_catalog.avg(s.duration_seconds), 3)::float8 FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
        (SELECT pg_catalog.min(s.started_at) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id),
        (SELECT pg_catalog.max(s.started_at) FROM ims.crawl_sessions s WHERE s.user_id = u.user_id)
  FROM ims.users u WHERE u.user_id = $1;
