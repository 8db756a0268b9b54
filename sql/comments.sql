-- ims_crawler: documentation in the catalog (\d+ and \df+ in psql show it).

COMMENT ON TABLE ims.users IS 'People and programs that crawl and search; db_role maps a personal login to its row.';
COMMENT ON COLUMN ims.users.role IS 'admin, user, readonly, or app (a pooled application login, db_role, that this database trusts to assert identities with ims.set_current_user): the ims role of this row (database privileges come from the ims_* group roles).';
COMMENT ON COLUMN ims.users.db_role IS 'The login role (session_user) that acts as this user; NULL for users who only act through a trusted application login.';
COMMENT ON COLUMN ims.users.preferences IS 'Free-form user settings (JSON object).';

COMMENT ON TABLE ims.crawl_sessions IS 'One crawl run. Range-partitioned by month (UTC) on started_at; the key is (session_id, started_at).';
COMMENT ON TABLE ims.crawl_sessions_default IS 'Rows whose month has no partition yet; ims.ensure_partitions() moves them out.';
COMMENT ON COLUMN ims.crawl_sessions.session_id IS 'Unique across all partitions (one shared sequence); referencing tables also store started_at.';
COMMENT ON COLUMN ims.crawl_sessions.status IS 'running, completed, failed or cancelled.';
COMMENT ON COLUMN ims.crawl_sessions.parameters IS 'What the crawler was asked to do (JSON object).';
COMMENT ON COLUMN ims.crawl_sessions.issues_found IS 'How many issues the crawler''s search reported.';
COMMENT ON COLUMN ims.crawl_sessions.issues_crawled IS 'Issues linked to the session, counted by ims.finish_session().';
COMMENT ON COLUMN ims.crawl_sessions.duration_seconds IS 'finished_at - started_at in seconds (generated).';

COMMENT ON TABLE ims.issues IS 'The shared issue corpus: one row per IMS issue, written through ims.upsert_issue(s).';
COMMENT ON COLUMN ims.issues.issue_id IS 'The issue''s id in the IMS, e.g. IMS-12345.';
COMMENT ON COLUMN ims.issues.source_created_at IS 'When the issue was created in the IMS (JSON key created_at).';
COMMENT ON COLUMN ims.issues.source_updated_at IS 'When the issue was last updated in the IMS (JSON key updated_at).';
COMMENT ON COLUMN ims.issues.raw_data IS 'Keys of the crawled JSON that have no column of their own.';
COMMENT ON COLUMN ims.issues.crawl_count IS 'How many times the issue was crawled (every upsert counts).';
COMMENT ON COLUMN ims.issues.content_hash IS 'Reserved for a digest of the issue''s content.';

COMMENT ON TABLE ims.session_issues IS 'Which session crawled which issue, and what that crawl did to it. Partitioned by the session''s month, like crawl_sessions.';
COMMENT ON TABLE ims.session_issues_default IS 'Links of sessions in crawl_sessions_default; ims.ensure_partitions() moves them with their sessions.';
COMMENT ON COLUMN ims.session_issues.action IS 'inserted, updated or unchanged (the strongest over the session).';
COMMENT ON COLUMN ims.session_issues.user_id IS 'The session''s owner, copied from the session for row level security.';

COMMENT ON TABLE ims.issue_comments IS 'Comments of issues; matched on re-crawl by comment_id, else by content_hash.';
COMMENT ON COLUMN ims.issue_comments.comment_id IS 'The comment''s id in the IMS, when it has one.';
COMMENT ON COLUMN ims.issue_comments.content_hash IS 'SHA-256 of author and content.';

COMMENT ON TABLE ims.issue_history IS 'One row per changed field per update of an issue (comments/attachments summarise what was added or edited).';
COMMENT ON COLUMN ims.issue_history.session_id IS 'The session whose crawl saw the change (no foreign key: history outlives retention).';

COMMENT ON TABLE ims.attachments IS 'Files attached to issues, with the text extracted from them; matched by checksum, else file name.';
COMMENT ON COLUMN ims.attachments.extracted_text IS 'Text extracted from the file, searched by ims.search_issues.';

COMMENT ON TABLE ims.search_queries IS 'Searches users ran, with how the query was parsed.';
COMMENT ON COLUMN ims.search_queries.parse_method IS 'rule, llm, hybrid, keyword, manual or fallback.';
COMMENT ON COLUMN ims.search_queries.confidence IS 'The parser''s confidence, 0 to 1.';

COMMENT ON TABLE ims.session_errors IS 'Errors met during crawl sessions. Partitioned by the session''s month, like crawl_sessions.';
COMMENT ON TABLE ims.session_errors_default IS 'Errors of sessions in crawl_sessions_default; ims.ensure_partitions() moves them with their sessions.';
COMMENT ON COLUMN ims.session_errors.severity IS 'debug, info, warning, error or critical.';

COMMENT ON TABLE ims.analytics_daily IS 'Per-user daily totals, written by ims.aggregate_daily_stats().';
COMMENT ON COLUMN ims.analytics_daily.errors_by_severity IS 'Error counts by severity, e.g. {"error": 3, "critical": 1}.';
COMMENT ON COLUMN ims.analytics_daily.product_breakdown IS 'Sessions per product, e.g. {"OpenFrame": 5}.';

COMMENT ON TABLE ims.analytics_monthly IS 'Per-user monthly totals, keyword trends and quality metrics, written by ims.aggregate_monthly_stats().';
COMMENT ON COLUMN ims.analytics_monthly.keyword_trends IS 'The 20 most searched words: [{"keyword": ..., "count": ...}, ...].';
COMMENT ON COLUMN ims.analytics_monthly.quality_metrics IS 'success_rate, failure_rate, errors_per_session, issues_per_session, avg_parse_confidence.';

COMMENT ON TABLE ims.audit_log IS 'Who changed what: INSERT, UPDATE and DELETE on audited tables, with old and new values; MAINTENANCE rows record maintenance runs (table_name is the task).';
COMMENT ON COLUMN ims.audit_log.db_role IS 'The login role that made the change.';
COMMENT ON COLUMN ims.audit_log.user_id IS 'The ims user the change was made as (ims.current_user_id()).';


COMMENT ON VIEW ims.v_user_dashboard IS 'Per user: sessions by status, issues crawled, searches, recent errors (row level security applies).';
COMMENT ON VIEW ims.v_session_detail IS 'Sessions with their user and linked issue and error counts.';
COMMENT ON VIEW ims.v_issue_search IS 'Issues with comment and attachment counts and their last change.';
COMMENT ON VIEW ims.v_product_statistics IS 'Issues per product: open, resolved, average resolution time.';
COMMENT ON VIEW ims.v_recent_errors IS 'Errors of the last 7 days with their user.';
COMMENT ON MATERIALIZED VIEW ims.mv_weekly_issue_trends IS 'Issues created and resolved per week and product (refresh with ims.refresh_materialized_views()).';
COMMENT ON MATERIALIZED VIEW ims.mv_product_stats IS 'Per-product issue, module and comment counts and status breakdown (refresh with ims.refresh_materialized_views()).';

COMMENT ON FUNCTION ims.set_updated_at() IS 'Trigger: keeps updated_at current.';
COMMENT ON FUNCTION ims.fill_session_reference() IS 'Trigger: fills session_started_at (and the owner) from session_id; a link or error given without session_started_at is re-inserted into its month''s partition.';

COMMENT ON FUNCTION ims.current_user_id() IS 'The ims user the caller acts as: asserted by a trusted login with ims.set_current_user() (while that user is active), else the login''s own users row (db_role; application logins act as nobody), else NULL.';
COMMENT ON FUNCTION ims.set_current_user(bigint, text) IS 'For trusted logins (ims_admin, or ims_app members this database trusts with a users row of role app): act as this ims user until the transaction ends (scope transaction, the default) or, with scope session, until cleared (NULL), RESET ALL / DISCARD ALL, or disconnect. A failed call clears any identity first.';
COMMENT ON FUNCTION ims.guard_session_keys() IS 'Trigger: session_id comes from the sequence (administrators may give a free one), is unique across partitions, and session keys and start times never change.';
COMMENT ON FUNCTION ims.ensure_partitions(integer) IS 'Create missing monthly partitions of crawl_sessions, session_issues and session_errors up to N months ahead (and for months waiting in DEFAULT); returns the crawl_sessions partitions it created.';
COMMENT ON FUNCTION ims.secure_partitions() IS 'Give every crawl_sessions partition row level security and its grants; returns how many it changed.';
COMMENT ON FUNCTION ims.refresh_materialized_views() IS 'Refresh both materialized views, concurrently once populated.';
COMMENT ON FUNCTION ims.upsert_issue(jsonb, bigint) IS 'Insert or update one crawled issue with its comments and attachments; returns issue_pk, action (inserted/updated/unchanged) and changed_fields.';
COMMENT ON FUNCTION ims.upsert_issues(jsonb, bigint) IS 'Batch form of upsert_issue for a JSON array of issues; returns how many were inserted, updated and unchanged.';
COMMENT ON FUNCTION ims.start_session(text, text, jsonb, bigint) IS 'Start a crawl session for the caller; returns session_id, session_uuid, started_at.';
COMMENT ON FUNCTION ims.finish_session(bigint, text, integer) IS 'Finish a running session (completed, failed or cancelled) and count what it crawled and logged.';
COMMENT ON FUNCTION ims.log_error(bigint, text, text, text, jsonb, text) IS 'Log an error of a session; returns error_id.';
COMMENT ON FUNCTION ims.log_search(text, jsonb, text, double precision, integer, bigint, integer) IS 'Log a search the caller ran; returns query_id.';
COMMENT ON FUNCTION ims.aggregate_daily_stats(date) IS 'Fill analytics_daily for one day (default yesterday); idempotent; returns rows written.';
COMMENT ON FUNCTION ims.aggregate_monthly_stats(integer, integer) IS 'Fill analytics_monthly for one month; idempotent; returns rows written.';
COMMENT ON FUNCTION ims.get_user_stats(bigint) IS 'One user''s totals: sessions by status, issues crawled, unique issues, errors, searches, last session.';
COMMENT ON FUNCTION ims.delete_old_sessions(bigint, integer) IS 'Delete sessions older than N days with their errors and links (user_id NULL: all users, dropping whole monthly partitions, whose rows are counted from table statistics).';
COMMENT ON FUNCTION ims.delete_old_sessions(bigint, integer, boolean) IS 'ims.delete_old_sessions(user_id, older_than_days), counting the rows of dropped months exactly when exact_counts is true.';
