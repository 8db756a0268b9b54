-- ims_crawler: views and materialized views.
-- Views run with the caller's rights (security_invoker), so row level
-- security on the tables beneath them still applies.

CREATE VIEW ims.v_user_dashboard WITH (security_invoker = true) AS
SELECT u.user_id,
       u.username,
       u.role,
       u.is_active,
       coalesce(s.total_sessions, 0)      AS total_sessions,
       coalesce(s.completed_sessions, 0)  AS completed_sessions,
       coalesce(s.failed_sessions, 0)     AS failed_sessions,
       coalesce(s.running_sessions, 0)    AS running_sessions,
       coalesce(l.issues_crawled, 0)      AS total_issues_crawled,
       coalesce(l.unique_issues, 0)       AS unique_issues,
       s.avg_duration_seconds,
       s.last_session_at,
       coalesce(q.total_searches, 0)      AS total_searches,
       coalesce(e.errors_last_7_days, 0)  AS errors_last_7_days
  FROM ims.users u
  LEFT JOIN LATERAL (
        SELECT count(*)                                      AS total_sessions,
               count(*) FILTER (WHERE cs.status = 'completed') AS completed_sessions,
               count(*) FILTER (WHERE cs.status = 'failed')    AS failed_sessions,
               count(*) FILTER (WHERE cs.status = 'running')   AS running_sessions,
               round(avg(cs.duration_seconds), 1)            AS avg_duration_seconds,
               max(cs.started_at)                            AS last_session_at
          FROM ims.crawl_sessions cs
         WHERE cs.user_id = u.user_id) s ON true
  LEFT JOIN LATERAL (
        SELECT count(*) AS issues_crawled, count(DISTINCT si.issue_pk) AS unique_issues
          FROM ims.session_issues si
         WHERE si.user_id = u.user_id) l ON true
  LEFT JOIN LATERAL (
        SELECT count(*) AS total_searches
          FROM ims.search_queries sq
         WHERE sq.user_id = u.user_id) q ON true
  LEFT JOIN LATERAL (
        SELECT count(*) AS errors_last_7_days
          FROM ims.session_errors se
         WHERE se.user_id = u.user_id
           AND se.occurred_at >= pg_catalog.now() - interval '7 days') e ON true;

CREATE VIEW ims.v_session_detail WITH (security_invoker = true) AS
SELECT cs.session_id,
       cs.session_uuid,
       cs.user_id,
       u.username,
       cs.status,
       cs.product,
       cs.search_query,
       cs.started_at,
       cs.finished_at,
       cs.duration_seconds,
       cs.issues_found,
       cs.issues_crawled,
       cs.issues_new,
       cs.issues_updated,
       cs.errors_count,
       (SELECT count(*) FROM ims.session_issues si
         WHERE si.session_id = cs.session_id AND si.session_started_at = cs.started_at) AS linked_issues,
       (SELECT count(*) FROM ims.session_errors se
         WHERE se.session_id = cs.session_id AND se.session_started_at = cs.started_at) AS logged_errors
  FROM ims.crawl_sessions cs
  JOIN ims.users u ON u.user_id = cs.user_id;

CREATE VIEW ims.v_issue_search WITH (security_invoker = true) AS
SELECT i.issue_pk,
       i.issue_id,
       i.title,
       i.product,
       i.module,
       i.status,
       i.priority,
       i.severity,
       i.assignee,
       i.source_updated_at,
       i.resolved_at,
       i.crawl_count,
       i.last_crawled_at,
       (SELECT count(*) FROM ims.issue_comments c WHERE c.issue_pk = i.issue_pk) AS comment_count,
       (SELECT count(*) FROM ims.attachments a WHERE a.issue_pk = i.issue_pk)    AS attachment_count,
       (SELECT max(h.changed_at) FROM ims.issue_history h WHERE h.issue_pk = i.issue_pk) AS last_changed_at
  FROM ims.issues i;

CREATE VIEW ims.v_product_statistics WITH (security_invoker = true) AS
SELECT coalesce(i.product, '(none)')                          AS product,
       count(*)                                               AS total_issues,
       count(*) FILTER (WHERE i.resolved_at IS NULL)          AS open_issues,
       count(*) FILTER (WHERE i.resolved_at IS NOT NULL)      AS resolved_issues,
       round(avg(pg_catalog.date_part('epoch', i.resolved_at - i.source_created_at) / 3600.0)
             FILTER (WHERE i.resolved_at IS NOT NULL)::numeric, 1) AS avg_resolution_hours,
       max(i.last_crawled_at)                                 AS last_crawled_at
  FROM ims.issues i
 GROUP BY coalesce(i.product, '(none)');

CREATE VIEW ims.v_recent_errors WITH (security_invoker = true) AS
SELECT se.error_id,
       se.occurred_at,
       se.severity,
       se.error_type,
       se.error_message,
       se.issue_id,
       se.session_id,
       se.user_id,
       u.username,
       se.is_resolved
  FROM ims.session_errors se
  JOIN ims.users u ON u.user_id = se.user_id
 WHERE se.occurred_at >= pg_catalog.now() - interval '7 days';

-- Materialized views: shared corpus statistics only (no per-user rows), each
-- with a unique index so REFRESH ... CONCURRENTLY works.
CREATE MATERIALIZED VIEW ims.mv_weekly_issue_trends AS
WITH weeks AS (
    SELECT pg_catalog.date_trunc('week', coalesce(i.source_created_at, i.first_crawled_at))::date AS week_start,
           coalesce(i.product, '(none)') AS product,
           1 AS created, 0 AS resolved
      FROM ims.issues i
    UNION ALL
    SELECT pg_catalog.date_trunc('week', i.resolved_at)::date, coalesce(i.product, '(none)'), 0, 1
      FROM ims.issues i
     WHERE i.resolved_at IS NOT NULL
)
SELECT week_start, product,
       sum(created)::bigint AS issues_created,
       sum(resolved)::bigint AS issues_resolved
  FROM weeks
 GROUP BY week_start, product;
CREATE UNIQUE INDEX uq_mv_weekly_issue_trends ON ims.mv_weekly_issue_trends (week_start, product);

CREATE MATERIALIZED VIEW ims.mv_product_stats AS
WITH by_status AS (
    SELECT coalesce(i.product, '(none)') AS product,
           pg_catalog.jsonb_object_agg(coalesce(i.status, '(none)'), i.n) AS status_breakdown
      FROM (SELECT product, status, count(*) AS n FROM ims.issues GROUP BY product, status) i
     GROUP BY coalesce(i.product, '(none)')
), comments AS (
    SELECT coalesce(i.product, '(none)') AS product, count(*) AS total_comments
      FROM ims.issue_comments c
      JOIN ims.issues i ON i.issue_pk = c.issue_pk
     GROUP BY coalesce(i.product, '(none)')
)
SELECT p.product,
       p.total_issues,
       p.open_issues,
       p.modules,
       coalesce(c.total_comments, 0) AS total_comments,
       s.status_breakdown,
       p.last_crawled_at
  FROM (SELECT coalesce(i.product, '(none)')                 AS product,
               count(*)                                      AS total_issues,
               count(*) FILTER (WHERE i.resolved_at IS NULL) AS open_issues,
               count(DISTINCT i.module)                      AS modules,
               max(i.last_crawled_at)                        AS last_crawled_at
          FROM ims.issues i
         GROUP BY coalesce(i.product, '(none)')) p
  JOIN by_status s ON s.product = p.product
  LEFT JOIN comments c ON c.product = p.product;
CREATE UNIQUE INDEX uq_mv_product_stats ON ims.mv_product_stats (product);
