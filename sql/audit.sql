-- ims_crawler: the audit trail. Statement-level triggers with transition
-- tables write one set-based INSERT per statement, however many rows it
-- touched. They run as the extension owner (callers cannot write audit_log
-- themselves) and record who acted: the login (db_role) and the ims user.
--
-- Arguments: the key column, then columns left out of the stored values
-- (bulky ones such as an issue's description, and bookkeeping columns whose
-- change alone is not worth a row, like crawl counters).

CREATE FUNCTION ims.audit_changes() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
-- Transition tables have no statistics: pair old and new rows by hashing.
SET enable_nestloop = off
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_col  text := TG_ARGV[0];
    skipped  text[] := TG_ARGV[1:];
    actor    bigint;
BEGIN
    -- A restore copies the audit trail itself; it is not new activity.
    IF ims.restoring() THEN
        RETURN NULL;
    END IF;
    actor := ims.current_user_id();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, new_values)
        SELECT actor, session_user, 'INSERT', TG_TABLE_NAME, to_jsonb(n) ->> key_col, to_jsonb(n) - skipped
          FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values)
        SELECT actor, session_user, 'DELETE', TG_TABLE_NAME, to_jsonb(o) ->> key_col, to_jsonb(o) - skipped
          FROM old_rows o;
    ELSE
        -- Only the columns that changed, and only rows where something
        -- other than the skipped columns changed. Each side is turned into
        -- jsonb once (MATERIALIZED), then rows pair up by key.
        WITH ov AS MATERIALIZED (
                 SELECT to_jsonb(o) ->> key_col AS record_id, to_jsonb(o) - skipped AS j FROM old_rows o),
             nv AS MATERIALIZED (
                 SELECT to_jsonb(n) ->> key_col AS record_id, to_jsonb(n) - skipped AS j FROM new_rows n)
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values, new_values)
        SELECT actor, session_user, 'UPDATE', TG_TABLE_NAME, ov.record_id,
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(ov.j) k WHERE k.value IS DISTINCT FROM nv.j -> k.key),
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(nv.j) k WHERE k.value IS DISTINCT FROM ov.j -> k.key)
          FROM ov JOIN nv ON nv.record_id = ov.record_id
         WHERE ov.j IS DISTINCT FROM nv.j;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ims.audit_changes() FROM PUBLIC;

CREATE TRIGGER trg_users_audit_insert AFTER INSERT ON ims.users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.audit_changes('user_id', 'updated_at');
CREATE TRIGGER trg_users_audit_update AFTER UPDATE ON ims.users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('user_id', 'updated_at');
CREATE TRIGGER trg_users_audit_delete AFTER DELETE ON ims.users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.audit_changes('user_id', 'updated_at');

CREATE TRIGGER trg_crawl_sessions_audit_insert AFTER INSERT ON ims.crawl_sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('session_id', 'updated_at', 'duration_seconds');
CREATE TRIGGER trg_crawl_sessions_audit_update AFTER UPDATE ON ims.crawl_sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('session_id', 'updated_at', 'duration_seconds');
CREATE TRIGGER trg_crawl_sessions_audit_delete AFTER DELETE ON ims.crawl_sessions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('session_id', 'updated_at', 'duration_seconds');

-- Issues change through crawls, in batches of thousands, and their
-- field-by-field history is in issue_history. Their audit compares named
-- columns (no whole-row jsonb, which would include the search vector) and
-- ignores a re-crawl that only moves the crawl counters or the vector.
-- Written to be inlined into the trigger's query (STABLE, no SET clause,
-- every name qualified): called once per row, a function call each time
-- cost more than the rest of the audit.
CREATE FUNCTION ims.issue_audit_values(i ims.issues) RETURNS jsonb
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
COMMENT ON FUNCTION ims.issue_audit_values(ims.issues) IS 'The audited values of an issue row (its description as an md5).';

CREATE FUNCTION ims.audit_issues() RETURNS trigger
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
REVOKE ALL ON FUNCTION ims.audit_issues(), ims.issue_audit_values(ims.issues) FROM PUBLIC;
COMMENT ON FUNCTION ims.audit_issues() IS 'Trigger: writes ims.audit_log rows for inserted, changed or deleted issues.';

CREATE TRIGGER trg_issues_audit_insert AFTER INSERT ON ims.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.audit_issues();
CREATE TRIGGER trg_issues_audit_update AFTER UPDATE ON ims.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.audit_issues();
CREATE TRIGGER trg_issues_audit_delete AFTER DELETE ON ims.issues
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ims.audit_issues();

COMMENT ON FUNCTION ims.audit_changes() IS 'Trigger: writes ims.audit_log rows for a statement''s inserted, updated or deleted rows.';
