-- ims_crawler 0.4.0 -> 0.5.0: retention that stays instant as data grows.
-- session_issues and session_errors become partitioned by the session's
-- month like crawl_sessions, each month's partitions keyed to that month's
-- sessions only; attachments and search_queries name their session without
-- a foreign key (a trigger checks it when written; once the session is
-- removed the id matches none, as in issue_history). ims.delete_old_sessions(NULL, days) then drops a whole month
-- as three tables, with nothing to scan or check. Every row is kept: links
-- and errors are copied into the new tables, ids and sequences unchanged.

-- 1. The old tables step aside, with their indexes and sequences renamed
--    (the new ones take the names); the views that read them are recreated
--    below as sql/views.sql and sql/operations.sql define them.
DO $rename$
DECLARE
    t text;
    n name;
BEGIN
    FOREACH t IN ARRAY ARRAY['session_issues', 'session_errors'] LOOP
        -- Constraint names are chosen unique in the schema: free them all
        -- (renaming a key renames its index too), then the other indexes.
        FOR n IN SELECT c.conname FROM pg_catalog.pg_constraint c
                  WHERE c.conrelid = pg_catalog.format('ims.%I', t)::pg_catalog.regclass LOOP
            EXECUTE pg_catalog.format('ALTER TABLE ims.%I RENAME CONSTRAINT %I TO %I', t, n, n || '_v04');
        END LOOP;
        FOR n IN SELECT c.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class c ON c.oid = x.indexrelid
                  WHERE x.indrelid = pg_catalog.format('ims.%I', t)::pg_catalog.regclass
                    AND c.relname !~ '_v04$' LOOP
            EXECUTE pg_catalog.format('ALTER INDEX ims.%I RENAME TO %I', n, n || '_v04');
        END LOOP;
        EXECUTE pg_catalog.format('ALTER TABLE ims.%I RENAME TO %I', t, t || '_v04');
    END LOOP;
END
$rename$;
ALTER SEQUENCE ims.session_issues_session_issue_id_seq RENAME TO session_issues_v04_seq;
ALTER SEQUENCE ims.session_errors_error_id_seq RENAME TO session_errors_v04_seq;

-- 2. The new tables (as sql/schema.sql creates them).
CREATE SEQUENCE ims.session_issues_session_issue_id_seq AS bigint;

CREATE TABLE ims.session_issues (
    session_issue_id    bigint NOT NULL DEFAULT pg_catalog.nextval('ims.session_issues_session_issue_id_seq'::pg_catalog.regclass),
    session_id          bigint NOT NULL,
    session_started_at  timestamptz NOT NULL,
    user_id             bigint NOT NULL REFERENCES ims.users (user_id) ON DELETE CASCADE,
    issue_pk            bigint NOT NULL REFERENCES ims.issues (issue_pk) ON DELETE CASCADE,
    action              text NOT NULL DEFAULT 'unchanged',
    crawled_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT session_issues_pkey PRIMARY KEY (session_issue_id, session_started_at),
    CONSTRAINT session_issues_session_issue_key UNIQUE (session_id, issue_pk, session_started_at),
    CONSTRAINT session_issues_action_check CHECK (action IN ('inserted', 'updated', 'unchanged'))
) PARTITION BY RANGE (session_started_at);

ALTER SEQUENCE ims.session_issues_session_issue_id_seq OWNED BY ims.session_issues.session_issue_id;

-- The links of sessions in crawl_sessions_default; each monthly partition
-- carries the same foreign key to its month of crawl_sessions.
CREATE TABLE ims.session_issues_default PARTITION OF ims.session_issues DEFAULT;
ALTER TABLE ims.session_issues_default ADD CONSTRAINT session_issues_default_session_fkey
    FOREIGN KEY (session_id, session_started_at)
    REFERENCES ims.crawl_sessions_default (session_id, started_at) ON DELETE CASCADE;

CREATE SEQUENCE ims.session_errors_error_id_seq AS bigint;

CREATE TABLE ims.session_errors (
    error_id            bigint NOT NULL DEFAULT pg_catalog.nextval('ims.session_errors_error_id_seq'::pg_catalog.regclass),
    session_id          bigint NOT NULL,
    session_started_at  timestamptz NOT NULL,
    user_id             bigint NOT NULL REFERENCES ims.users (user_id) ON DELETE CASCADE,
    severity            text NOT NULL DEFAULT 'error',
    error_type          text NOT NULL,
    error_message       text NOT NULL,
    error_detail        jsonb NOT NULL DEFAULT '{}'::jsonb,
    issue_id            text,
    url                 text,
    occurred_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    is_resolved         boolean NOT NULL DEFAULT false,
    CONSTRAINT session_errors_pkey PRIMARY KEY (error_id, session_started_at),
    CONSTRAINT session_errors_severity_check CHECK (severity IN ('debug', 'info', 'warning', 'error', 'critical')),
    CONSTRAINT session_errors_error_type_check CHECK (pg_catalog.length(error_type) BETWEEN 1 AND 100),
    CONSTRAINT session_errors_error_detail_check CHECK (pg_catalog.jsonb_typeof(error_detail) = 'object')
) PARTITION BY RANGE (session_started_at);

ALTER SEQUENCE ims.session_errors_error_id_seq OWNED BY ims.session_errors.error_id;

CREATE TABLE ims.session_errors_default PARTITION OF ims.session_errors DEFAULT;
ALTER TABLE ims.session_errors_default ADD CONSTRAINT session_errors_default_session_fkey
    FOREIGN KEY (session_id, session_started_at)
    REFERENCES ims.crawl_sessions_default (session_id, started_at) ON DELETE CASCADE;

CREATE INDEX idx_session_issues_issue_pk ON ims.session_issues (issue_pk);           -- FK, issue -> sessions that saw it
CREATE INDEX idx_session_issues_session ON ims.session_issues (session_id, session_started_at); -- session detail, finish_session
CREATE INDEX idx_session_issues_user_crawled ON ims.session_issues (user_id, crawled_at); -- RLS, daily/monthly aggregation
CREATE INDEX idx_session_errors_session ON ims.session_errors (session_id, session_started_at); -- session detail, finish_session
CREATE INDEX idx_session_errors_user_occurred ON ims.session_errors (user_id, occurred_at DESC); -- RLS, aggregation
CREATE INDEX idx_session_errors_severity_occurred ON ims.session_errors (severity, occurred_at DESC); -- recent errors by severity
CREATE INDEX idx_session_errors_unresolved ON ims.session_errors (occurred_at DESC) WHERE NOT is_resolved; -- open error queue
CREATE INDEX idx_session_errors_detail ON ims.session_errors USING gin (error_detail jsonb_path_ops); -- error_detail @> filters
CREATE INDEX idx_session_issues_session_started ON ims.session_issues (session_started_at);
CREATE INDEX idx_session_errors_session_started ON ims.session_errors (session_started_at);

CREATE TRIGGER trg_session_issues_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_issues
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_session_errors_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_errors
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();

DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['session_issues', 'session_errors'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE ims.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE ims.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY admin_all ON ims.%I TO ims_admin USING (true) WITH CHECK (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY readonly_select ON ims.%I FOR SELECT TO ims_readonly USING (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY user_own ON ims.%I TO ims_user '
            'USING (user_id = (SELECT ims.current_user_id())) '
            'WITH CHECK (user_id = (SELECT ims.current_user_id()))', t);
    END LOOP;
END
$rls$;
GRANT ALL ON ims.session_issues, ims.session_errors, ims.session_issues_default, ims.session_errors_default TO ims_admin;
GRANT ALL ON SEQUENCE ims.session_issues_session_issue_id_seq, ims.session_errors_error_id_seq TO ims_admin;
GRANT SELECT ON ims.session_issues, ims.session_errors, ims.session_issues_default, ims.session_errors_default TO ims_readonly;
GRANT SELECT, INSERT ON ims.session_issues, ims.session_errors TO ims_user;
GRANT UPDATE (action) ON ims.session_issues TO ims_user;
GRANT UPDATE (severity, error_detail, url, is_resolved) ON ims.session_errors TO ims_user;
GRANT USAGE ON SEQUENCE ims.session_issues_session_issue_id_seq, ims.session_errors_error_id_seq TO ims_user;

COMMENT ON TABLE ims.session_issues IS 'Which session crawled which issue, and what that crawl did to it. Partitioned by the session''s month, like crawl_sessions.';
COMMENT ON TABLE ims.session_issues_default IS 'Links of sessions in crawl_sessions_default; ims.ensure_partitions() moves them with their sessions.';
COMMENT ON COLUMN ims.session_issues.action IS 'inserted, updated or unchanged (the strongest over the session).';
COMMENT ON COLUMN ims.session_issues.user_id IS 'The session''s owner, copied from the session for row level security.';
COMMENT ON TABLE ims.session_errors IS 'Errors met during crawl sessions. Partitioned by the session''s month, like crawl_sessions.';
COMMENT ON TABLE ims.session_errors_default IS 'Errors of sessions in crawl_sessions_default; ims.ensure_partitions() moves them with their sessions.';
COMMENT ON COLUMN ims.session_errors.severity IS 'debug, info, warning, error or critical.';

SELECT pg_catalog.pg_extension_config_dump('ims.session_issues_default', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_errors_default', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_issues_session_issue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_errors_error_id_seq', '');

-- 3. Functions and triggers of the new layout.
CREATE OR REPLACE FUNCTION ims.fill_session_reference() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_started timestamptz;
    found_user    bigint;
    per_user      boolean := pg_catalog.pg_partition_root(TG_RELID)
                               IN ('ims.session_issues'::pg_catalog.regclass, 'ims.session_errors'::pg_catalog.regclass);
    parent        regclass;
BEGIN
    IF NEW.session_id IS NULL THEN
        NEW.session_started_at := NULL;
        RETURN NEW;
    END IF;
    -- A restore brings the references already filled (and in any order).
    IF pg_catalog.current_setting('row_security') = 'off' AND ims.restoring() THEN
        RETURN NEW;
    END IF;
    SELECT s.started_at, s.user_id INTO found_started, found_user
      FROM ims.crawl_sessions s
     WHERE s.session_id = NEW.session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'crawl session % does not exist', NEW.session_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Start a session with ims.start_session() and pass the session_id it returns.';
    END IF;
    IF per_user AND TG_OP = 'INSERT' AND NEW.session_started_at IS DISTINCT FROM found_started THEN
        parent := pg_catalog.pg_partition_root(TG_RELID);
        IF parent IS DISTINCT FROM TG_RELID THEN
            NEW.session_started_at := found_started;
            NEW.user_id := found_user;
            EXECUTE pg_catalog.format(
                'INSERT INTO %s SELECT * FROM pg_catalog.jsonb_populate_record(NULL::%s, $1)', parent, parent)
              USING pg_catalog.to_jsonb(NEW);
            RETURN NULL;
        END IF;
    END IF;
    NEW.session_started_at := found_started;
    IF per_user THEN
        NEW.user_id := found_user;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION ims.guard_session_keys() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    drawn bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.session_uuid IS DISTINCT FROM OLD.session_uuid
           OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
            RAISE EXCEPTION 'the session_id, session_uuid and started_at of crawl session % cannot change', OLD.session_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Session keys are assigned by ims_crawler; start a new session instead.';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT pg_catalog.pg_has_role(session_user, 'ims_admin', 'MEMBER') THEN
        -- The column default has just drawn NEW.session_id from the sequence
        -- in this backend; any other value was chosen by the caller.
        BEGIN
            drawn := pg_catalog.currval('ims.crawl_sessions_session_id_seq'::pg_catalog.regclass);
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            drawn := NULL;
        END;
        IF NEW.session_id IS DISTINCT FROM drawn THEN
            RAISE EXCEPTION 'session_id is assigned by ims_crawler and cannot be given (got %)', NEW.session_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Leave session_id out of the INSERT (or call ims.start_session()) and use the id it returns.';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM ims.crawl_sessions s WHERE s.session_id = NEW.session_id) THEN
        RAISE EXCEPTION 'crawl session % already exists', NEW.session_id
            USING ERRCODE = 'unique_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM ims.crawl_sessions s WHERE s.session_uuid = NEW.session_uuid) THEN
        RAISE EXCEPTION 'a crawl session with session_uuid % already exists', NEW.session_uuid
            USING ERRCODE = 'unique_violation';
    END IF;
    IF NEW.session_id > (SELECT s.last_value FROM ims.crawl_sessions_session_id_seq s) THEN
        PERFORM pg_catalog.setval('ims.crawl_sessions_session_id_seq'::pg_catalog.regclass, NEW.session_id);
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER trg_crawl_sessions_keys ON ims.crawl_sessions;
CREATE TRIGGER trg_crawl_sessions_keys BEFORE INSERT OR UPDATE OF session_id, session_uuid, started_at ON ims.crawl_sessions
    FOR EACH ROW EXECUTE FUNCTION ims.guard_session_keys();

-- Attachments and searches keep the id of the session that found them, as
-- issue_history does: no foreign key, so a month of sessions is dropped
-- without a scan or rewrite of either table.
ALTER TABLE ims.attachments DROP CONSTRAINT attachments_session_fkey;
ALTER TABLE ims.search_queries DROP CONSTRAINT search_queries_session_fkey;
DROP INDEX ims.idx_attachments_session_started, ims.idx_search_queries_session_started;

CREATE OR REPLACE FUNCTION ims.lock_session_tables(timeout_ms integer) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    previous text := pg_catalog.current_setting('lock_timeout');
BEGIN
    PERFORM pg_catalog.set_config('lock_timeout', timeout_ms || 'ms', true);
    LOCK TABLE ims.users, ims.issues, ims.crawl_sessions, ims.session_issues, ims.session_errors
          IN ACCESS EXCLUSIVE MODE;
    PERFORM pg_catalog.set_config('lock_timeout', previous, true);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$;

CREATE FUNCTION ims."delete_old_sessions"(
	"user_id" bigint, /* Option < i64 > */
	"older_than_days" INT, /* Option < i32 > */
	"exact_counts" bool /* Option < bool > */
) RETURNS TABLE (
	"deleted_sessions" bigint,  /* i64 */
	"deleted_errors" bigint,  /* i64 */
	"deleted_links" bigint  /* i64 */
)
VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'delete_old_sessions_counted_wrapper';
REVOKE ALL ON FUNCTION ims.delete_old_sessions(bigint, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.delete_old_sessions(bigint, integer, boolean) TO ims_admin, ims_user;

COMMENT ON FUNCTION ims.fill_session_reference() IS 'Trigger: fills session_started_at (and the owner) from session_id; a link or error given without session_started_at is re-inserted into its month''s partition.';
COMMENT ON FUNCTION ims.guard_session_keys() IS 'Trigger: session_id comes from the sequence (administrators may give a free one), is unique across partitions, and session keys and start times never change.';
COMMENT ON FUNCTION ims.ensure_partitions(integer) IS 'Create missing monthly partitions of crawl_sessions, session_issues and session_errors up to N months ahead (and for months waiting in DEFAULT); returns the crawl_sessions partitions it created.';
COMMENT ON FUNCTION ims.delete_old_sessions(bigint, integer) IS 'Delete sessions older than N days with their errors and links (user_id NULL: all users, dropping whole monthly partitions, whose rows are counted from table statistics).';
COMMENT ON FUNCTION ims.delete_old_sessions(bigint, integer, boolean) IS 'ims.delete_old_sessions(user_id, older_than_days), counting the rows of dropped months exactly when exact_counts is true.';

-- The audit of issues inlines this (STABLE, no SET clause, names qualified):
-- a function call per audited row cost more than the rest of the audit.
CREATE OR REPLACE FUNCTION ims.issue_audit_values(i ims.issues) RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'issue_pk', i.issue_pk, 'issue_id', i.issue_id, 'title', i.title,
        'description_md5', pg_catalog.md5(i.description), 'product', i.product, 'module', i.module,
        'status', i.status, 'priority', i.priority, 'severity', i.severity, 'reporter', i.reporter,
        'assignee', i.assignee, 'source_created_at', i.source_created_at,
        'source_updated_at', i.source_updated_at, 'resolved_at', i.resolved_at, 'url', i.url,
        'raw_data', i.raw_data)
$$;
-- (and the audit builds each row's values once).
CREATE OR REPLACE FUNCTION ims.audit_issues() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
-- Transition tables have no statistics: pair old and new rows by hashing.
SET enable_nestloop = off
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint;
BEGIN
    IF ims.restoring() THEN
        RETURN NULL;
    END IF;
    actor := ims.current_user_id();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, new_values)
        SELECT actor, session_user, 'INSERT', 'issues', n.issue_id, ims.issue_audit_values(n) FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values)
        SELECT actor, session_user, 'DELETE', 'issues', o.issue_id, ims.issue_audit_values(o) FROM old_rows o;
    ELSE
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values, new_values)
        SELECT actor, session_user, 'UPDATE', 'issues', c.issue_id,
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.o) k WHERE k.value IS DISTINCT FROM c.n -> k.key),
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.n) k WHERE k.value IS DISTINCT FROM c.o -> k.key)
          FROM (SELECT n.issue_id, ims.issue_audit_values(o) AS o, ims.issue_audit_values(n) AS n
                  FROM old_rows o JOIN new_rows n ON n.issue_pk = o.issue_pk
                 WHERE (o.issue_id, o.title, o.description, o.product, o.module, o.status, o.priority, o.severity,
                        o.reporter, o.assignee, o.source_created_at, o.source_updated_at, o.resolved_at, o.url, o.raw_data)
                       IS DISTINCT FROM
                       (n.issue_id, n.title, n.description, n.product, n.module, n.status, n.priority, n.severity,
                        n.reporter, n.assignee, n.source_created_at, n.source_updated_at, n.resolved_at, n.url, n.raw_data)
                OFFSET 0) c;  -- each row's values built once, not once per key compared
    END IF;
    RETURN NULL;
END
$$;

-- 4. Every month that has sessions gets its link and error partitions
--    (secured, outside the extension like the sessions' own), then the rows
--    move in: they were consistent under the old foreign keys, so they load
--    without re-checking each one (replica role: no trigger fires).
SELECT pg_catalog.count(*) FROM ims.ensure_partitions(0);
SET LOCAL session_replication_role = replica;
INSERT INTO ims.session_issues (session_issue_id, session_id, session_started_at, user_id, issue_pk, action, crawled_at)
SELECT session_issue_id, session_id, session_started_at, user_id, issue_pk, action, crawled_at
  FROM ims.session_issues_v04;
INSERT INTO ims.session_errors (error_id, session_id, session_started_at, user_id, severity, error_type, error_message,
                                error_detail, issue_id, url, occurred_at, is_resolved)
SELECT error_id, session_id, session_started_at, user_id, severity, error_type, error_message,
       error_detail, issue_id, url, occurred_at, is_resolved
  FROM ims.session_errors_v04;
SET LOCAL session_replication_role = origin;
SELECT pg_catalog.setval('ims.session_issues_session_issue_id_seq', s.last_value, s.is_called)
  FROM ims.session_issues_v04_seq s;
SELECT pg_catalog.setval('ims.session_errors_error_id_seq', s.last_value, s.is_called)
  FROM ims.session_errors_v04_seq s;

-- 5. The views read the new tables; the old ones go.
CREATE OR REPLACE VIEW ims.v_user_dashboard WITH (security_invoker = true) AS
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
CREATE OR REPLACE VIEW ims.v_session_detail WITH (security_invoker = true) AS
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
CREATE OR REPLACE VIEW ims.v_recent_errors WITH (security_invoker = true) AS
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
CREATE OR REPLACE VIEW ims.health WITH (security_invoker = true) AS
WITH runs AS (
    SELECT table_name AS task, max(logged_at) AS last_run
      FROM ims.audit_log WHERE action = 'MAINTENANCE' GROUP BY table_name
), checks AS (
    SELECT 'daily aggregation' AS check_name,
           coalesce('last day ' || (SELECT max(stat_date) FROM ims.analytics_daily)::text, 'never aggregated')
             || coalesce(', ran ' || (SELECT last_run FROM runs WHERE task = 'aggregate_daily_stats')::text, '') AS value,
           CASE WHEN (SELECT max(stat_date) FROM ims.analytics_daily) >= current_date - 2 THEN 'ok'
                WHEN NOT EXISTS (SELECT 1 FROM ims.crawl_sessions) THEN 'ok'
                ELSE 'warning' END AS status,
           'SELECT ims.aggregate_daily_stats() should run every night' AS advice
    UNION ALL
    SELECT 'monthly aggregation',
           coalesce('last month ' || (SELECT max(make_date(year, month, 1)) FROM ims.analytics_monthly)::text, 'never aggregated'),
           CASE WHEN (SELECT max(make_date(year, month, 1)) FROM ims.analytics_monthly)
                     >= (date_trunc('month', current_date) - interval '1 month')::date THEN 'ok'
                WHEN NOT EXISTS (SELECT 1 FROM ims.crawl_sessions) THEN 'ok'
                ELSE 'warning' END,
           'SELECT ims.aggregate_monthly_stats(year, month) should run after each month'
    UNION ALL
    SELECT 'refresh ' || mv.name,
           coalesce('refreshed ' || r.last_run::text || ' (' || date_trunc('second', now() - r.last_run)::text || ' ago)',
                    'never refreshed'),
           CASE WHEN r.last_run > now() - interval '2 days' THEN 'ok' ELSE 'warning' END,
           'SELECT ims.refresh_materialized_views() should run daily'
      FROM (VALUES ('ims.mv_weekly_issue_trends'), ('ims.mv_product_stats'), ('ims.mv_search_postings')) AS mv(name)
      LEFT JOIN runs r ON r.task = 'refresh ' || mv.name
    UNION ALL
    SELECT 'issues waiting for the search index',
           s.pending::text,
           CASE WHEN s.pending <= 2000
                THEN 'ok' ELSE 'warning' END,
           'SELECT ims.refresh_search_index() rebuilds the search index (hourly with schedule_maintenance); searches score waiting issues one by one'
      FROM (SELECT ims.search_index_pending() AS pending) s
    UNION ALL
    SELECT 'monthly partitions ahead',
           count(*)::text,
           CASE WHEN count(*) >= 2 THEN 'ok' WHEN count(*) = 1 THEN 'warning' ELSE 'critical' END,
           'SELECT * FROM ims.ensure_partitions(3) creates the coming months'
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'ims.crawl_sessions'::regclass
       AND c.relname ~ '^crawl_sessions_\d{4}_\d{2}$'
       AND c.relname > 'crawl_sessions_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')
    UNION ALL
    SELECT 'rows in the DEFAULT partition',
           (SELECT count(*) FROM ims.crawl_sessions_default)::text,
           CASE WHEN (SELECT count(*) FROM ims.crawl_sessions_default) = 0 THEN 'ok' ELSE 'warning' END,
           'SELECT * FROM ims.ensure_partitions() moves them into monthly partitions'
    UNION ALL
    SELECT 'sessions running over 6 hours',
           count(*)::text,
           CASE WHEN count(*) = 0 THEN 'ok' ELSE 'warning' END,
           'finish or cancel them: SELECT * FROM ims.finish_session(id, ''cancelled'')'
      FROM ims.crawl_sessions WHERE status = 'running' AND started_at < now() - interval '6 hours'
    UNION ALL
    SELECT 'errors in the last 24 hours: ' || s.severity,
           count(e.error_id)::text,
           CASE WHEN s.severity = 'critical' AND count(e.error_id) > 0 THEN 'warning' ELSE 'ok' END,
           'SELECT * FROM ims.v_recent_errors'
      FROM (VALUES ('debug'), ('info'), ('warning'), ('error'), ('critical')) AS s(severity)
      LEFT JOIN ims.session_errors e ON e.severity = s.severity AND e.occurred_at > now() - interval '24 hours'
     GROUP BY s.severity
)
SELECT check_name, value, status, advice
  FROM checks
 ORDER BY CASE status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, check_name;
DROP TABLE ims.session_issues_v04, ims.session_errors_v04;
ANALYZE ims.session_issues, ims.session_errors;
