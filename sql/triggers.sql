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
-- On issues, written a thousand rows per upsert, a row already stamped now()
-- is left alone without calling the function (the upsert stamps its rows).
CREATE TRIGGER trg_issues_updated_at BEFORE UPDATE ON ims.issues
    FOR EACH ROW WHEN (NEW.updated_at IS DISTINCT FROM pg_catalog.now()) EXECUTE FUNCTION ims.set_updated_at();
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
--
-- session_issues and session_errors are partitioned by the session's start:
-- a row inserted without it is first routed to their DEFAULT partition, and
-- PostgreSQL does not let a BEFORE trigger move a row to another partition.
-- Such a row is inserted again through the parent with its start filled in
-- (so it lands in its month) and the first insert is skipped: it is stored,
-- but INSERT ... RETURNING does not return it, and ON CONFLICT does not
-- apply to the second insert. Give session_started_at (as the ims functions
-- do) for either.
CREATE FUNCTION ims.fill_session_reference() RETURNS trigger
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

CREATE TRIGGER trg_session_issues_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_issues
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_session_errors_session BEFORE INSERT OR UPDATE OF session_id ON ims.session_errors
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_attachments_session BEFORE INSERT OR UPDATE OF session_id ON ims.attachments
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();
CREATE TRIGGER trg_search_queries_session BEFORE INSERT OR UPDATE OF session_id ON ims.search_queries
    FOR EACH ROW EXECUTE FUNCTION ims.fill_session_reference();

-- A session's key is the extension's to give. session_id comes from the
-- shared sequence (a partitioned table cannot have a unique key without its
-- partition key, so this trigger keeps ids unique across months): a login
-- that is not an ims administrator cannot choose one, and nobody can change
-- one (an id moved to another user's session would carry rows into that
-- user's dashboard and out of the audit trail), nor its start (which places
-- the session, its links and errors in a month's partitions). An administrator may insert
-- an explicit id that no session has yet; the sequence then moves past it.
-- SECURITY DEFINER so that the uniqueness check sees every user's
-- sessions. Restores and partition moves run with
-- session_replication_role = replica, where this does not fire.
CREATE FUNCTION ims.guard_session_keys() RETURNS trigger
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

CREATE TRIGGER trg_crawl_sessions_keys BEFORE INSERT OR UPDATE OF session_id, session_uuid, started_at ON ims.crawl_sessions
    FOR EACH ROW EXECUTE FUNCTION ims.guard_session_keys();
