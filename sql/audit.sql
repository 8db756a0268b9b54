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
        -- other than the skipped columns changed.
        INSERT INTO ims.audit_log (user_id, db_role, action, table_name, record_id, old_values, new_values)
        SELECT actor, session_user, 'UPDATE', TG_TABLE_NAME, c.record_id,
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.o) k WHERE k.value IS DISTINCT FROM c.n -> k.key),
               (SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(c.n) k WHERE k.value IS DISTINCT FROM c.o -> k.key)
          FROM (SELECT to_jsonb(o) ->> key_col AS record_id, to_jsonb(o) - skipped AS o, to_jsonb(n) - skipped AS n
                  FROM old_rows o
                  JOIN new_rows n ON to_jsonb(n) -> key_col = to_jsonb(o) -> key_col) c
         WHERE c.o IS DISTINCT FROM c.n;
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

-- Issues change through crawls; their field-by-field history is in
-- issue_history, so the audit keeps the row without its long text, and a
-- re-crawl that only moves the crawl counters is not audited.
CREATE TRIGGER trg_issues_audit_insert AFTER INSERT ON ims.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');
CREATE TRIGGER trg_issues_audit_update AFTER UPDATE ON ims.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');
CREATE TRIGGER trg_issues_audit_delete AFTER DELETE ON ims.issues
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ims.audit_changes('issue_id', 'description', 'raw_data', 'search_vector', 'crawl_count', 'last_crawled_at', 'updated_at');

COMMENT ON FUNCTION ims.audit_changes() IS 'Trigger: writes ims.audit_log rows for a statement''s inserted, updated or deleted rows.';
