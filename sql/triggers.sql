-- ims_crawler: triggers that keep derived columns right whatever writes the row.

-- updated_at follows every UPDATE that changes the row.
CREATE FUNCTION ims.set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := pg_catalog.now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_users_updated_at BEFORE UPDATE ON ims.users
    FOR EACH ROW EXECUTE FUNCTION ims.set_updated_at();
CREATE TRIGGER trg_crawl_sessions_updated_at BEFORE UPDATE ON ims.crawl_sessions
    FOR EACH ROW EXECUTE FUNCTION ims.set_updated_at();
CREATE TRIGGER trg_issues_updated_at BEFORE UPDATE ON ims.issues
    FOR EACH ROW EXECUTE FUNCTION ims.set_updated_at();
CREATE TRIGGER trg_issue_comments_updated_at BEFORE UPDATE ON ims.issue_comments
    FOR EACH ROW EXECUTE FUNCTION ims.set_updated_at();
CREATE TRIGGER trg_attachments_updated_at BEFORE UPDATE ON ims.attachments
    FOR EACH ROW EXECUTE FUNCTION ims.set_updated_at();

-- Rows that point at a session carry the session's start time (the other
-- half of its key) and, where the table is per-user, its owner. Callers give
-- only session_id; this fills the rest from the session, so the composite
-- foreign key always points at the right partition and row level security
-- can filter on user_id without a join. Runs as the caller: a session the
-- caller cannot see is reported as missing.
CREATE FUNCTION ims.fill_session_reference() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_started timestamptz;
    found_user    bigint;
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
    NEW.session_started_at := found_started;
    IF TG_TABLE_NAME IN ('session_issues', 'session_errors') THEN
        NEW.user_id := found_user;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_session_issues_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_issues
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_session_errors_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_errors
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_attachments_session BEFORE INSERT OR UPDATE OF session_id ON ims.attachments
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_search_queries_session BEFORE INSERT OR UPDATE OF session_id ON ims.search_queries
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
