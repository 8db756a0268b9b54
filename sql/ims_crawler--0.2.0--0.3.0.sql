-- ims_crawler 0.2.0 -> 0.3.0: identity that cannot outlive its request,
-- trust per database, session keys the extension assigns, bounded
-- partition work, partition changes that cannot deadlock with crawlers,
-- no table-level UPDATE/DELETE for ims_user. Written by
-- hand; tests/integration/upgrade.sh checks the result against a fresh
-- 0.3.0 install, with data.
\echo Use "ALTER EXTENSION ims_crawler UPDATE TO '0.3.0'" to load this file. \quit

-- Sessions whose start time could not be partitioned stop the upgrade
-- (0.3.0 rejects them): say which, and how to fix them.
DO $check$
DECLARE
    bad text;
BEGIN
    SELECT pg_catalog.string_agg(s.session_id::text, ', ') INTO bad
      FROM (SELECT session_id FROM ims.crawl_sessions
             WHERE NOT (started_at >= '2000-01-01 00:00:00+00'::timestamptz
                        AND started_at < '2100-01-01 00:00:00+00'::timestamptz)
                OR finished_at >= '2100-01-01 00:00:00+00'::timestamptz
             ORDER BY session_id LIMIT 20) s;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'crawl sessions % start or finish outside 2000-01-01 .. 2100-01-01', bad
            USING ERRCODE = 'check_violation',
                  HINT = 'Fix or delete them (SELECT * FROM ims.crawl_sessions WHERE NOT (started_at >= ''2000-01-01'' '
                         'AND started_at < ''2100-01-01'') OR finished_at >= ''2100-01-01''), then ALTER EXTENSION ims_crawler UPDATE again.';
    END IF;
END
$check$;

-- Application logins: a users row of role 'app' is how a database trusts one.
ALTER TABLE ims.users DROP CONSTRAINT users_role_check;
ALTER TABLE ims.users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'user', 'readonly', 'app'));
COMMENT ON COLUMN ims.users.role IS 'admin, user, readonly, or app (a pooled application login, db_role, that this database trusts to assert identities with ims.set_current_user): the ims role of this row (database privileges come from the ims_* group roles).';

-- Deleting a user with sessions fails with 23503 on every PostgreSQL
-- version (18 reports a RESTRICT foreign key as 23001).
ALTER TABLE ims.crawl_sessions DROP CONSTRAINT crawl_sessions_user_id_fkey;
ALTER TABLE ims.crawl_sessions ADD CONSTRAINT crawl_sessions_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES ims.users (user_id);

-- Session start and finish times within a sane, finite range.
ALTER TABLE ims.crawl_sessions ADD CONSTRAINT crawl_sessions_started_at_check
    CHECK (started_at >= '2000-01-01 00:00:00+00'::timestamptz AND started_at < '2100-01-01 00:00:00+00'::timestamptz);
ALTER TABLE ims.crawl_sessions DROP CONSTRAINT crawl_sessions_finished_check;
ALTER TABLE ims.crawl_sessions ADD CONSTRAINT crawl_sessions_finished_check
    CHECK (finished_at IS NULL OR (finished_at >= started_at AND finished_at < '2100-01-01 00:00:00+00'::timestamptz));

-- A session's key is the extension's to give. session_id comes from the
-- shared sequence (a partitioned table cannot have a unique key without its
-- partition key, so this trigger keeps ids unique across months): a login
-- that is not an ims administrator cannot choose one, and nobody can change
-- one (an id moved to another user's session would carry rows into that
-- user's dashboard and out of the audit trail). An administrator may insert
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
        IF NEW.session_id IS DISTINCT FROM OLD.session_id OR NEW.session_uuid IS DISTINCT FROM OLD.session_uuid THEN
            RAISE EXCEPTION 'the session_id and session_uuid of crawl session % cannot change', OLD.session_id
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

CREATE TRIGGER trg_crawl_sessions_keys BEFORE INSERT OR UPDATE OF session_id, session_uuid ON ims.crawl_sessions
    FOR EACH ROW EXECUTE FUNCTION ims.guard_session_keys();
REVOKE ALL ON FUNCTION ims.guard_session_keys() FROM PUBLIC;
COMMENT ON FUNCTION ims.guard_session_keys() IS 'Trigger: session_id comes from the sequence (administrators may give a free one), is unique across partitions, and session keys never change.';

-- Identity: transaction-scoped by default; parallel workers never evaluate it.
ALTER FUNCTION ims.current_user_id() PARALLEL RESTRICTED;
COMMENT ON FUNCTION ims.current_user_id() IS 'The ims user the caller acts as: asserted by a trusted login with ims.set_current_user() (while that user is active), else the login''s own users row (db_role; application logins act as nobody), else NULL.';
DROP FUNCTION ims.set_current_user(bigint);
CREATE FUNCTION ims."set_current_user"(
	"user_id" bigint, /* Option < i64 > */
	"scope" TEXT DEFAULT 'transaction' /* Option < & str > */
) RETURNS void
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_current_user_wrapper';
REVOKE ALL ON FUNCTION ims.set_current_user(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ims.set_current_user(bigint, text) TO ims_admin, ims_app;
COMMENT ON FUNCTION ims.set_current_user(bigint, text) IS 'For trusted logins (ims_admin, or ims_app members this database trusts with a users row of role app): act as this ims user until the transaction ends (scope transaction, the default) or, with scope session, until cleared (NULL), RESET ALL / DISCARD ALL, or disconnect. A failed call clears any identity first.';

-- Pools that asserted identities under 0.2.0 were trusted by their
-- membership of ims_app alone, in every database. Keep them working here:
-- every login that is a member of ims_app now is trusted in this database by
-- a users row (role 'app'), and a WARNING names it. Where that is not wanted:
--   UPDATE ims.users SET is_active = false WHERE role = 'app' AND db_role = '...';
DO $trust$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT a.rolname
          FROM pg_catalog.pg_roles a
         WHERE a.rolcanlogin AND NOT a.rolsuper
           AND pg_catalog.pg_has_role(a.oid, 'ims_app', 'MEMBER')
           AND NOT pg_catalog.pg_has_role(a.oid, 'ims_admin', 'MEMBER')
         ORDER BY a.rolname
    LOOP
        IF EXISTS (SELECT 1 FROM ims.users u WHERE u.db_role = r.rolname) THEN
            RAISE WARNING 'ims_crawler 0.3.0: login % is a member of ims_app but maps to an ims user here; it can no longer assert identities in this database', r.rolname
                USING HINT = 'To trust it as a pool: UPDATE ims.users SET role = ''app'' WHERE db_role = '
                             || pg_catalog.quote_literal(r.rolname) || ';';
        ELSIF EXISTS (SELECT 1 FROM ims.users u WHERE u.username = r.rolname) THEN
            RAISE WARNING 'ims_crawler 0.3.0: login % is a member of ims_app, but its name is taken as a username; it is not trusted in this database', r.rolname
                USING HINT = pg_catalog.format('To trust it: INSERT INTO ims.users (username, role, db_role) VALUES (%L, %L, %L);',
                                               'app_' || r.rolname, 'app', r.rolname);
        ELSE
            -- users inserted with explicit ids may have left the identity behind
            PERFORM pg_catalog.setval(pg_catalog.pg_get_serial_sequence('ims.users', 'user_id'),
                                      pg_catalog.max(u.user_id))
               FROM ims.users u
             HAVING pg_catalog.max(u.user_id) >= (SELECT s.last_value FROM ims.users_user_id_seq s);
            INSERT INTO ims.users (username, role, db_role) VALUES (r.rolname, 'app', r.rolname);
            RAISE WARNING 'ims_crawler 0.3.0: application login % (a member of ims_app) is now trusted in this database by an ims.users row with role app', r.rolname
                USING HINT = 'Pools keep asserting identities here. To stop trusting it: UPDATE ims.users SET is_active = false WHERE db_role = '
                             || pg_catalog.quote_literal(r.rolname) || ';';
        END IF;
    END LOOP;
END
$trust$;

-- ims_user: no table-level UPDATE or DELETE on shared tables (either would
-- let any user LOCK them); column-level UPDATE of what a user may change.
REVOKE UPDATE, DELETE ON ims.crawl_sessions, ims.session_issues, ims.session_errors, ims.search_queries FROM ims_user;
GRANT UPDATE (finished_at, status, product, search_query, parameters, issues_found, issues_crawled, issues_new,
              issues_updated, comments_crawled, attachments_crawled, errors_count, crawler_version, hostname,
              metadata, updated_at)
   ON ims.crawl_sessions TO ims_user;
GRANT UPDATE (action) ON ims.session_issues TO ims_user;
GRANT UPDATE (severity, error_detail, url, is_resolved) ON ims.session_errors TO ims_user;
GRANT UPDATE (parsed_query, parse_method, confidence, result_count, execution_time_ms) ON ims.search_queries TO ims_user;

-- 0.2.0 adopted a pre-existing schema ims. If a non-superuser owns it, that
-- owner controls what resolves in it: take it back, and name anything in it
-- that is not the extension's (such as an overload planted for a cron job).
DO $schema$
DECLARE
    owner_name text;
    strangers text;
BEGIN
    SELECT r.rolname INTO owner_name
      FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
     WHERE n.nspname = 'ims' AND NOT r.rolsuper;
    IF owner_name IS NOT NULL THEN
        EXECUTE pg_catalog.format('ALTER SCHEMA ims OWNER TO %I', current_user);
        RAISE WARNING 'ims_crawler 0.3.0: schema ims was owned by %, who is not a superuser; it now belongs to %', owner_name, current_user;
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('ims.%I(%s)', p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)), ', ')
      INTO strangers
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'ims'::pg_catalog.regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                          AND d.deptype = 'e');
    IF strangers IS NOT NULL THEN
        RAISE WARNING 'ims_crawler 0.3.0: schema ims holds functions that are not part of the extension: %', strangers
            USING HINT = 'Check who made them and drop them: calls meant for the extension may resolve to them.';
    END IF;
END
$schema$;

-- Cron job texts with typed arguments.
CREATE OR REPLACE FUNCTION ims.maintenance_jobs(retention_days integer DEFAULT 365)
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('ims_aggregate_daily', '0 2 * * *', 'SELECT ims.aggregate_daily_stats()'),
           ('ims_refresh_views', '0 3 * * *', 'SELECT ims.refresh_materialized_views()'),
           ('ims_refresh_search_index', '30 * * * *', 'SELECT ims.refresh_search_index()'),
           ('ims_aggregate_monthly', '30 3 1 * *',
            'SELECT ims.aggregate_monthly_stats(extract(year FROM now() - interval ''1 month'')::int, '
            || 'extract(month FROM now() - interval ''1 month'')::int)'),
           ('ims_ensure_partitions', '0 4 * * *', 'SELECT count(*) FROM ims.ensure_partitions(3)'),
           ('ims_retention', '0 5 * * 0',
            'SELECT * FROM ims.delete_old_sessions(NULL::bigint, ' || retention_days || ')')
$$;

-- Changing the monthly partitions (creating one, or detaching and dropping
-- an old one) takes ACCESS EXCLUSIVE locks on crawl_sessions, the tables
-- whose foreign keys point at it, and users. Taken one by one while crawlers
-- hold some of them, they deadlock with the crawlers. This takes them all
-- at once and gives up after timeout_ms (below deadlock_timeout), releasing
-- whatever it had: the caller retries, and a crawler never waits long for
-- it, never deadlocks with it. Returns whether it holds them all.
CREATE FUNCTION ims.lock_session_tables(timeout_ms integer) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    previous text := pg_catalog.current_setting('lock_timeout');
BEGIN
    PERFORM pg_catalog.set_config('lock_timeout', timeout_ms || 'ms', true);
    LOCK TABLE ims.users, ims.crawl_sessions, ims.session_issues, ims.session_errors, ims.attachments,
               ims.search_queries IN ACCESS EXCLUSIVE MODE;
    PERFORM pg_catalog.set_config('lock_timeout', previous, true);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$;
REVOKE ALL ON FUNCTION ims.lock_session_tables(integer) FROM PUBLIC;
COMMENT ON FUNCTION ims.lock_session_tables(integer) IS
    'Take the locks a partition change needs, all at once, or none within timeout_ms (ensure_partitions and retention retry).';

-- Jobs scheduled by 0.2.0's ims.schedule_maintenance() with pg_cron in this
-- database get the typed retention call too.
DO $cron$
BEGIN
    IF pg_catalog.to_regclass('cron.job') IS NOT NULL THEN
        UPDATE cron.job
           SET command = pg_catalog.replace(command, 'ims.delete_old_sessions(NULL, ', 'ims.delete_old_sessions(NULL::bigint, ')
         WHERE jobname = 'ims_retention' AND command LIKE '%ims.delete_old_sessions(NULL, %';
    END IF;
END
$cron$;
