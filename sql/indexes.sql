-- ims_crawler: indexes. Convention: idx_<table>_<what> for plain indexes,
-- uq_<table>_<what> for unique ones the upsert functions conflict on.
-- Each comment names the query the index serves.

-- users
CREATE INDEX idx_users_active ON ims.users (username) WHERE is_active;              -- active user listings
CREATE INDEX idx_users_role ON ims.users (role);                                     -- role checks, admin listings
CREATE INDEX idx_users_preferences ON ims.users USING gin (preferences jsonb_path_ops); -- preferences @> filters

-- crawl_sessions (partitioned: each index is created on every partition)
CREATE INDEX idx_crawl_sessions_user_started ON ims.crawl_sessions (user_id, started_at DESC); -- RLS, dashboards, get_user_stats
CREATE INDEX idx_crawl_sessions_status_started ON ims.crawl_sessions (status, started_at);      -- daily aggregation by status
CREATE INDEX idx_crawl_sessions_running ON ims.crawl_sessions (started_at) WHERE status = 'running'; -- long-running session monitor
CREATE INDEX idx_crawl_sessions_product ON ims.crawl_sessions (product, started_at);            -- product breakdowns
CREATE INDEX idx_crawl_sessions_parameters ON ims.crawl_sessions USING gin (parameters jsonb_path_ops); -- parameters @> filters

-- issues
CREATE INDEX idx_issues_product_status ON ims.issues (product, status);              -- search filters, product statistics
CREATE INDEX idx_issues_status ON ims.issues (status);                               -- status: filter
CREATE INDEX idx_issues_priority ON ims.issues (priority);                           -- priority: filter
CREATE INDEX idx_issues_assignee ON ims.issues (assignee);                           -- "my issues" listings
CREATE INDEX idx_issues_reporter ON ims.issues (reporter);                           -- reporter listings
CREATE INDEX idx_issues_source_created_at ON ims.issues (source_created_at);         -- weekly trends
CREATE INDEX idx_issues_source_updated_at ON ims.issues (source_updated_at DESC);    -- recently changed issues
CREATE INDEX idx_issues_resolved_at ON ims.issues (resolved_at) WHERE resolved_at IS NOT NULL; -- weekly resolved trends
CREATE INDEX idx_issues_open ON ims.issues (product, source_updated_at DESC) WHERE resolved_at IS NULL; -- open issues per product
CREATE INDEX idx_issues_raw_data ON ims.issues USING gin (raw_data jsonb_path_ops);  -- raw_data @> filters

-- session_issues
CREATE INDEX idx_session_issues_issue_pk ON ims.session_issues (issue_pk);           -- FK, issue -> sessions that saw it
CREATE INDEX idx_session_issues_session ON ims.session_issues (session_id, session_started_at); -- session detail, finish_session
CREATE INDEX idx_session_issues_user_crawled ON ims.session_issues (user_id, crawled_at); -- RLS, daily/monthly aggregation

-- issue_comments: re-crawls match comments by source id, else by content hash
CREATE UNIQUE INDEX uq_issue_comments_comment_id ON ims.issue_comments (issue_pk, comment_id) WHERE comment_id IS NOT NULL;
CREATE UNIQUE INDEX uq_issue_comments_content_hash ON ims.issue_comments (issue_pk, content_hash) WHERE comment_id IS NULL;
CREATE INDEX idx_issue_comments_issue ON ims.issue_comments (issue_pk, comment_pk); -- FK, an issue's comments in stored order (search vectors)

-- issue_history
CREATE INDEX idx_issue_history_issue_changed ON ims.issue_history (issue_pk, changed_at DESC); -- FK, history of an issue
CREATE INDEX idx_issue_history_session ON ims.issue_history (session_id) WHERE session_id IS NOT NULL; -- changes a session found
CREATE INDEX idx_issue_history_field_changed ON ims.issue_history (field_name, changed_at); -- e.g. status changes per week

-- attachments: re-crawls match attachments by checksum, else by file name
CREATE UNIQUE INDEX uq_attachments_checksum ON ims.attachments (issue_pk, checksum) WHERE checksum IS NOT NULL;
CREATE UNIQUE INDEX uq_attachments_file_name ON ims.attachments (issue_pk, file_name) WHERE checksum IS NULL;
CREATE INDEX idx_attachments_issue ON ims.attachments (issue_pk, attachment_id);    -- FK, an issue's attachments in stored order (search vectors)
CREATE INDEX idx_attachments_session ON ims.attachments (session_id, session_started_at) WHERE session_id IS NOT NULL; -- what a session found
CREATE INDEX idx_attachments_mime_type ON ims.attachments (mime_type);               -- attachment type statistics
CREATE INDEX idx_attachments_with_text ON ims.attachments (issue_pk) WHERE extracted_text IS NOT NULL; -- text for search indexing

-- search_queries
CREATE INDEX idx_search_queries_user_created ON ims.search_queries (user_id, created_at DESC); -- RLS, history, aggregation
CREATE INDEX idx_search_queries_session ON ims.search_queries (session_id, session_started_at) WHERE session_id IS NOT NULL; -- a session's searches
CREATE INDEX idx_search_queries_parsed ON ims.search_queries USING gin (parsed_query jsonb_path_ops); -- parsed_query @> filters
CREATE INDEX idx_search_queries_low_confidence ON ims.search_queries (created_at) WHERE confidence < 0.5; -- parser quality review

-- session_errors
CREATE INDEX idx_session_errors_session ON ims.session_errors (session_id, session_started_at); -- session detail, finish_session
CREATE INDEX idx_session_errors_user_occurred ON ims.session_errors (user_id, occurred_at DESC); -- RLS, aggregation
CREATE INDEX idx_session_errors_severity_occurred ON ims.session_errors (severity, occurred_at DESC); -- recent errors by severity
CREATE INDEX idx_session_errors_unresolved ON ims.session_errors (occurred_at DESC) WHERE NOT is_resolved; -- open error queue
CREATE INDEX idx_session_errors_detail ON ims.session_errors USING gin (error_detail jsonb_path_ops); -- error_detail @> filters

-- analytics
CREATE INDEX idx_analytics_daily_stat_date ON ims.analytics_daily (stat_date);       -- per-day reports across users
CREATE INDEX idx_analytics_monthly_period ON ims.analytics_monthly (year, month);     -- per-month reports across users

-- audit_log: append-only, so a BRIN index on time is tiny and enough
CREATE INDEX idx_audit_log_user_logged ON ims.audit_log (user_id, logged_at DESC);   -- RLS, a user's audit trail
CREATE INDEX idx_audit_log_table_record ON ims.audit_log (table_name, record_id);    -- history of one row
CREATE INDEX idx_audit_log_maintenance ON ims.audit_log (table_name, logged_at DESC) WHERE action = 'MAINTENANCE'; -- last run of each task
CREATE INDEX idx_audit_log_logged_at ON ims.audit_log USING brin (logged_at);        -- time-range scans, retention


-- Daily aggregation selects links and errors by session start time.
CREATE INDEX idx_session_issues_session_started ON ims.session_issues (session_started_at);
CREATE INDEX idx_session_errors_session_started ON ims.session_errors (session_started_at);
