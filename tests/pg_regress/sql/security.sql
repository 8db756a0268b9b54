-- Roles, row level security, identity and the audit log, with real login
-- roles. SET SESSION AUTHORIZATION makes both session_user and current_user
-- the login, exactly as connecting as it would.
-- The audit log counted below holds this test's rows only.
DELETE FROM ims.audit_log;
SET TimeZone = 'UTC';
CREATE ROLE regress_alice LOGIN IN ROLE ims_user;
CREATE ROLE regress_bob LOGIN IN ROLE ims_user;
CREATE ROLE regress_carol LOGIN IN ROLE ims_readonly;
CREATE ROLE regress_admin LOGIN IN ROLE ims_admin;
CREATE ROLE regress_pool LOGIN IN ROLE ims_app;
CREATE ROLE regress_nobody LOGIN;
GRANT USAGE ON SCHEMA regress TO PUBLIC;
GRANT EXECUTE ON FUNCTION regress.error_of(text) TO PUBLIC;

INSERT INTO ims.users (user_id, username, role, db_role) VALUES
  (70, 'alice', 'user', 'regress_alice'), (71, 'bob', 'user', 'regress_bob'),
  (72, 'carol', 'readonly', 'regress_carol'), (73, 'root', 'admin', 'regress_admin'),
  (74, 'dave', 'user', NULL);
-- Two sessions each for alice and bob (this month), with links, errors, searches, analytics.
INSERT INTO ims.crawl_sessions (session_id, user_id, started_at) VALUES
  (7001, 70, date_trunc('month', now()) + interval '1 hour'), (7002, 70, date_trunc('month', now()) + interval '2 hours'),
  (7101, 71, date_trunc('month', now()) + interval '1 hour'), (7102, 71, date_trunc('month', now()) + interval '3 hours');
SELECT count(*) FROM ims.upsert_issues('[{"issue_id": "SEC-1", "title": "shared corpus"}, {"issue_id": "SEC-2"}]', 7001);
SELECT count(*) FROM ims.upsert_issues('[{"issue_id": "SEC-1"}, {"issue_id": "SEC-3", "comments": [{"content": "c"}],
   "attachments": [{"file_name": "f.txt"}]}]', 7101);
SELECT ims.log_error(s, 'timeout', 'x') > 0 FROM unnest(ARRAY[7001, 7101, 7102]) AS s;
INSERT INTO ims.search_queries (user_id, original_query) VALUES (70, 'alice query'), (71, 'bob query'), (71, 'bob again');
INSERT INTO ims.analytics_daily (user_id, stat_date) VALUES (70, '2024-01-01'), (71, '2024-01-01');
INSERT INTO ims.analytics_monthly (user_id, year, month) VALUES (70, 2024, 1), (71, 2024, 1);
UPDATE ims.audit_log SET user_id = 71 WHERE table_name = 'crawl_sessions' AND record_id IN ('7101', '7102');
UPDATE ims.audit_log SET user_id = 70 WHERE table_name = 'crawl_sessions' AND record_id IN ('7001', '7002');

-- What the calling role may do with each table: rows it sees (SELECT),
-- rows it would change (UPDATE, DELETE; rolled back; 'denied' is SQLSTATE
-- 42501), and whether it holds the INSERT privilege (which rows it may
-- insert is shown by regress.insert_as below).
CREATE FUNCTION regress.matrix()
RETURNS TABLE (tbl text, sel text, upd text, del text, ins text)
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    n bigint;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('users', 'preferences'), ('crawl_sessions', 'metadata'), ('session_issues', 'action'),
        ('session_errors', 'is_resolved'), ('search_queries', 'result_count'), ('analytics_daily', 'total_searches'),
        ('analytics_monthly', 'total_searches'), ('audit_log', 'record_id'), ('issues', 'title'),
        ('issue_comments', 'author'), ('issue_history', 'old_value'), ('attachments', 'mime_type'),
        ('crawl_sessions_default', 'metadata'),
        (format('crawl_sessions_%s', to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')), 'metadata'),
        ('v_user_dashboard', NULL), ('v_session_detail', NULL), ('v_recent_errors', NULL),
        ('mv_product_stats', NULL), ('mv_weekly_issue_trends', NULL)) AS x(name, col)
    LOOP
        tbl := CASE WHEN t.name ~ '^crawl_sessions_\d' THEN 'crawl_sessions_<this month>' ELSE t.name END;
        BEGIN
            EXECUTE format('SELECT count(*) FROM ims.%I', t.name) INTO n;
            sel := n::text;
        EXCEPTION WHEN insufficient_privilege THEN sel := 'denied';
        END;
        upd := NULL; del := NULL; ins := NULL;
        CONTINUE WHEN t.col IS NULL;
        BEGIN
            EXECUTE format('UPDATE ims.%I SET %I = %I', t.name, t.col, t.col);
            GET DIAGNOSTICS n = ROW_COUNT;
            RAISE EXCEPTION 'rollback:%', n;
        EXCEPTION WHEN insufficient_privilege THEN upd := 'denied';
                  WHEN raise_exception THEN upd := substr(SQLERRM, 10);
                  WHEN OTHERS THEN upd := SQLSTATE;
        END;
        BEGIN
            EXECUTE format('DELETE FROM ims.%I', t.name);
            GET DIAGNOSTICS n = ROW_COUNT;
            RAISE EXCEPTION 'rollback:%', n;
        EXCEPTION WHEN insufficient_privilege THEN del := 'denied';
                  WHEN raise_exception THEN del := substr(SQLERRM, 10);
                  WHEN OTHERS THEN del := SQLSTATE;
        END;
        ins := CASE WHEN has_table_privilege(format('ims.%I', t.name), 'INSERT') THEN 'granted' ELSE 'denied' END;
        RETURN NEXT;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION regress.matrix() TO PUBLIC;

-- Inserting rows that belong to someone else, and to oneself.
CREATE FUNCTION regress.insert_as(owner bigint, sess bigint)
RETURNS TABLE (tbl text, result text)
LANGUAGE plpgsql AS $$
DECLARE
    stmt text;
BEGIN
    FOR tbl, stmt IN VALUES
        ('crawl_sessions', format('INSERT INTO ims.crawl_sessions (user_id) VALUES (%s)', owner)),
        ('session_errors', format('INSERT INTO ims.session_errors (session_id, error_type, error_message) VALUES (%s, %L, %L)', sess, 'x', 'y')),
        ('session_issues', format('INSERT INTO ims.session_issues (session_id, issue_pk) SELECT %s, min(issue_pk) FROM ims.issues', sess)),
        ('search_queries', format('INSERT INTO ims.search_queries (user_id, original_query) VALUES (%s, %L)', owner, 'q')),
        ('audit_log', format('INSERT INTO ims.audit_log (user_id, action, table_name) VALUES (%s, %L, %L)', owner, 'INSERT', 'x'))
    LOOP
        BEGIN
            EXECUTE stmt;
            RAISE EXCEPTION 'rollback';
        EXCEPTION WHEN raise_exception THEN result := 'inserted';
                  WHEN OTHERS THEN
                      -- (a monthly partition's key is named after its month)
                      result := SQLSTATE || ' ' || regexp_replace(SQLERRM, '_\d{4}_\d{2}_', '_<month>_');
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION regress.insert_as(bigint, bigint) TO PUBLIC;

-- ===== The matrix, role by role =====
SET SESSION AUTHORIZATION regress_alice;
SELECT session_user, ims.current_user_id();
SELECT * FROM regress.matrix();
SELECT * FROM regress.insert_as(71, 7101);   -- bob's
SELECT * FROM regress.insert_as(70, 7001);   -- her own
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_bob;
SELECT session_user, ims.current_user_id();
SELECT * FROM regress.matrix();
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_carol;
SELECT * FROM regress.matrix();
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_admin;
SELECT * FROM regress.matrix();
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_nobody;
SELECT regress.error_of('SELECT ims.current_user_id()');
SELECT * FROM regress.matrix();
RESET SESSION AUTHORIZATION;

-- The application login: nothing until it asserts an identity, and only
-- once this database trusts it (an ims.users row with role 'app').
SET SESSION AUTHORIZATION regress_pool;
SELECT ims.current_user_id() AS before_assert, (SELECT count(*) FROM ims.crawl_sessions) AS sessions_seen;
SELECT regress.error_of('SELECT ims.set_current_user(71)') AS untrusted_pool;
RESET SESSION AUTHORIZATION;
INSERT INTO ims.users (user_id, username, role, db_role) VALUES (75, 'crawler_pool', 'app', 'regress_pool');
SET SESSION AUTHORIZATION regress_pool;
-- trusted, it still acts as nobody until it asserts someone
SELECT ims.current_user_id() AS trusted_before_assert, (SELECT count(*) FROM ims.crawl_sessions) AS sessions_seen;
-- the default scope is the transaction: an autocommit assertion is gone
-- by the next statement (a pooler may hand the connection to anyone)
SELECT ims.set_current_user(71);
SELECT ims.current_user_id() AS next_statement, (SELECT count(*) FROM ims.crawl_sessions) AS sessions_seen;
BEGIN;
SELECT ims.set_current_user(71);
SELECT ims.current_user_id() AS asserted, (SELECT count(*) FROM ims.crawl_sessions) AS sessions_seen;
SELECT * FROM regress.matrix() WHERE tbl IN ('crawl_sessions', 'session_errors', 'search_queries');
SELECT ims.set_current_user(70);
SELECT ims.current_user_id() AS switched, (SELECT array_agg(session_id ORDER BY session_id) FROM ims.crawl_sessions) AS sessions_seen;
COMMIT;
SELECT ims.current_user_id() AS after_commit;
BEGIN;
SELECT ims.set_current_user(70);
ROLLBACK;
SELECT ims.current_user_id() AS after_rollback;
-- a rolled-back savepoint takes its assertion with it
BEGIN;
SAVEPOINT s;
SELECT ims.set_current_user(70);
ROLLBACK TO SAVEPOINT s;
SELECT ims.current_user_id() AS after_savepoint_rollback;
COMMIT;
-- scope => 'session' for a dedicated connection: lasts until cleared
SELECT ims.set_current_user(71, 'session');
SELECT ims.current_user_id() AS session_scope;
SELECT ims.current_user_id() AS still_there;
SELECT ims.set_current_user(NULL);
SELECT ims.current_user_id() AS cleared;
SELECT ims.set_current_user(71, 'session');
RESET ALL;
SELECT ims.current_user_id() AS after_reset_all;
SELECT ims.set_current_user(71, 'session');
SELECT set_config('ims.identity_token', 'guess', false);
SELECT ims.current_user_id() AS after_token_overwrite;
-- a failed assertion clears the identity in force before it raises
SELECT ims.set_current_user(71, 'session');
SELECT regress.error_of('SELECT ims.set_current_user(999999)');
SELECT ims.current_user_id() AS after_failed_assert;
SELECT ims.set_current_user(71, 'session');
SELECT regress.error_of($$SELECT ims.set_current_user(70, 'forever')$$);
SELECT ims.current_user_id() AS after_bad_scope;
SELECT regress.error_of('SELECT ims.set_current_user(74)') AS dave_exists;
SELECT regress.error_of('SELECT ims.set_current_user(75)') AS pool_row;
-- deactivating a user ends what is asserted for it
SELECT ims.set_current_user(71, 'session');
RESET SESSION AUTHORIZATION;
UPDATE ims.users SET is_active = false WHERE user_id = 71;
SET SESSION AUTHORIZATION regress_pool;
SELECT ims.current_user_id() AS deactivated, (SELECT count(*) FROM ims.crawl_sessions) AS sessions_seen;
RESET SESSION AUTHORIZATION;
UPDATE ims.users SET is_active = true WHERE user_id = 71;
SET SESSION AUTHORIZATION regress_pool;
SELECT ims.set_current_user(74, 'session');
DISCARD ALL;
SELECT ims.current_user_id() AS after_discard_all;
-- a pool this database stops trusting can no longer assert
RESET SESSION AUTHORIZATION;
UPDATE ims.users SET is_active = false WHERE user_id = 75;
SET SESSION AUTHORIZATION regress_pool;
SELECT regress.error_of('SELECT ims.set_current_user(71)') AS distrusted_pool;
RESET SESSION AUTHORIZATION;
UPDATE ims.users SET is_active = true WHERE user_id = 75;

-- ===== Session keys belong to the extension =====
SET SESSION AUTHORIZATION regress_alice;
-- moving her session onto bob's id, or taking the sequence's next ids
SELECT regress.error_of('UPDATE ims.crawl_sessions SET session_id = 7101 WHERE session_id = 7001');
SELECT regress.error_of('UPDATE ims.crawl_sessions SET user_id = 71 WHERE session_id = 7001');
SELECT regress.error_of($$UPDATE ims.crawl_sessions SET started_at = started_at - interval '1 day' WHERE session_id = 7001$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (session_id, user_id) VALUES (7101, 70)$$);
SELECT regexp_replace(regress.error_of($$INSERT INTO ims.crawl_sessions (session_id, user_id)
                          VALUES (pg_catalog.nextval('ims.crawl_sessions_session_id_seq') + 1, 70)$$), '\d{3,}', 'N') AS next_id;
-- reusing the id the sequence just gave her (currval) is caught too
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id) VALUES (70)$$) AS fresh_id;
SELECT regexp_replace(regress.error_of($$INSERT INTO ims.crawl_sessions (session_id, user_id)
                          VALUES (pg_catalog.currval('ims.crawl_sessions_session_id_seq'), 70)$$), '\d{3,}', 'N') AS reused_id;
-- no table-level UPDATE or DELETE, so no LOCK TABLE on shared tables
SELECT regress.error_of(format('LOCK TABLE ims.%I IN ACCESS EXCLUSIVE MODE', t)) AS lock_attempt
  FROM unnest(ARRAY['crawl_sessions', 'session_issues', 'session_errors', 'search_queries', 'issues', 'users']) AS t;
-- an infinite start time is refused (it would stall partition maintenance)
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (70, 'infinity')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (70, '-infinity')$$);
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (user_id, started_at) VALUES (70, '9999-01-01')$$);
RESET SESSION AUTHORIZATION;
DELETE FROM ims.crawl_sessions WHERE session_id NOT IN (7001, 7002, 7101, 7102);
-- an administrator may give a free id (the sequence moves past it), not a taken one
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (session_id, user_id) VALUES (7101, 70)$$) AS taken_id;
SELECT regress.error_of($$INSERT INTO ims.crawl_sessions (session_id, user_id, started_at) VALUES (7001, 70, now() - interval '400 days')$$) AS taken_in_other_month;
INSERT INTO ims.crawl_sessions (session_id, user_id) VALUES (999000, 70);
SELECT last_value >= 999000 AS sequence_moved FROM ims.crawl_sessions_session_id_seq;
DELETE FROM ims.crawl_sessions WHERE session_id = 999000;
SELECT proparallel AS current_user_id_parallel FROM pg_proc WHERE oid = 'ims.current_user_id()'::regprocedure;

-- ===== Impersonation attempts by a personal login: each reveals nothing =====
SET SESSION AUTHORIZATION regress_alice;
SELECT regress.error_of('SELECT ims.set_current_user(71)');
SELECT set_config('ims.identity_token', 'anything', false);
SET ims.current_user_id = '71';
SET ims.user_id = '71';
SELECT ims.current_user_id() AS still_alice, (SELECT array_agg(DISTINCT user_id) FROM ims.crawl_sessions) AS owners_seen;
SELECT regress.error_of('SET ROLE regress_bob');
SELECT regress.error_of('SET ROLE ims_admin');
SELECT regress.error_of('SET ROLE ims_readonly');
SELECT regress.error_of('SELECT count(*) FROM ims.crawl_sessions_default');
SELECT regress.error_of('SELECT count(*) FROM ims.mv_product_stats');
SELECT regress.error_of('SELECT count(*) FROM ims.mv_weekly_issue_trends');
COPY (SELECT session_id FROM ims.session_errors ORDER BY 1) TO STDOUT;
COPY (SELECT user_id, original_query FROM ims.search_queries ORDER BY 1) TO STDOUT;
COPY (SELECT session_id FROM ims.crawl_sessions ORDER BY 1) TO STDOUT;
-- (COPY of the partitioned table itself reads ONLY the parent under row
-- level security: nothing at all)
COPY ims.crawl_sessions (session_id) TO STDOUT;
-- SECURITY DEFINER functions with another user's ids
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "SEC-1", "title": "hijack"}', 7101)$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues('[{"issue_id": "SEC-9"}]', 7102)$$);
SELECT regress.error_of('SELECT * FROM ims.delete_old_sessions(71, 0)');
SELECT regress.error_of('SELECT * FROM ims.delete_old_sessions(NULL, 0)');
SELECT regress.error_of('SELECT * FROM ims.ensure_partitions(1)');
SELECT regress.error_of('SELECT ims.refresh_materialized_views()');
SELECT regress.error_of('SELECT ims.aggregate_daily_stats()');
-- invoker functions with another user's ids
SELECT regress.error_of('SELECT * FROM ims.get_user_stats(71)');
SELECT regress.error_of($$SELECT ims.log_error(7101, 'x', 'y')$$);
SELECT regress.error_of('SELECT * FROM ims.finish_session(7101)');
SELECT regress.error_of('SELECT * FROM ims.start_session(user_id => 71)');
SELECT total_sessions, total_issues_crawled, total_errors, total_searches FROM ims.get_user_stats(70);
SELECT * FROM ims.delete_old_sessions(70, 100000);
-- a shadowing function in pg_temp or a writable schema does not reach
-- SECURITY DEFINER code: its search_path is pinned
CREATE FUNCTION pg_temp.jsonb_array_elements(jsonb) RETURNS SETOF jsonb
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked (pg_temp)'; END $$;
RESET SESSION AUTHORIZATION;
CREATE SCHEMA regress_evil AUTHORIZATION regress_alice;
SET SESSION AUTHORIZATION regress_alice;
CREATE FUNCTION regress_evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked (schema)'; END $$;
CREATE FUNCTION regress_evil.session_user_id() RETURNS bigint LANGUAGE sql AS 'SELECT 71::bigint';
SET search_path = pg_temp, regress_evil, public;
SELECT action FROM ims.upsert_issue('{"issue_id": "SEC-4"}', 7001);
SELECT ims.current_user_id();
RESET search_path;
-- the audit trail: alice sees her own rows only and cannot write any
SELECT session_id AS alice_session FROM ims.start_session('OpenFrame', 'audited') \gset
SELECT status FROM ims.finish_session(:alice_session, 'cancelled');
SELECT count(*) > 0 AS sees_own, bool_and(user_id = 70) AS only_own FROM ims.audit_log;
SELECT regress.error_of($$INSERT INTO ims.audit_log (user_id, action, table_name) VALUES (70, 'INSERT', 'fake')$$);
SELECT regress.error_of($$DELETE FROM ims.audit_log$$);
RESET SESSION AUTHORIZATION;
DROP SCHEMA regress_evil CASCADE;

-- The audit log records who did what, as which ims user
SELECT table_name, action, record_id = :'alice_session' AS her_session, user_id, db_role,
       coalesce(new_values ->> 'status', '') AS status, old_values ->> 'status' AS old_status
  FROM ims.audit_log
 WHERE table_name = 'crawl_sessions' AND db_role LIKE 'regress_%' ORDER BY log_id;
SELECT table_name, action, record_id, user_id, db_role
  FROM ims.audit_log WHERE table_name = 'issues' AND record_id = 'SEC-4';
UPDATE ims.users SET email = 'alice@example.com' WHERE user_id = 70;
SELECT action, record_id, old_values, new_values FROM ims.audit_log
 WHERE table_name = 'users' AND action = 'UPDATE' ORDER BY log_id DESC LIMIT 1;
-- a re-crawl that changes nothing leaves no audit row
SELECT count(*) AS audit_rows_before FROM ims.audit_log WHERE table_name = 'issues' \gset
SELECT action FROM ims.upsert_issue('{"issue_id": "SEC-4"}');
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM ims.audit_log WHERE table_name = 'issues';

-- ===== Catalog checks =====
-- row level security enabled and forced on every user-owned table and partition
SELECT c.relname AS not_secured
  FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind IN ('r', 'p')
   AND (c.relname IN ('users', 'crawl_sessions', 'session_issues', 'session_errors', 'search_queries',
                      'analytics_daily', 'analytics_monthly', 'audit_log')
        OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'ims.crawl_sessions'::regclass))
   AND NOT (c.relrowsecurity AND c.relforcerowsecurity);
-- no SECURITY DEFINER function executable by PUBLIC; every one pins search_path
SELECT p.oid::regprocedure AS secdef_function,
       (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')) AS public_can_execute,
       (SELECT c FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%') AS pinned
  FROM pg_proc p
 WHERE p.pronamespace = 'ims'::regnamespace AND p.prosecdef
 ORDER BY p.oid::regprocedure::text;
-- nothing in ims is executable by PUBLIC at all
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'ims'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
-- views run as the invoker
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind = 'v'
   AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false);
-- materialized views are not granted to ims_user
SELECT c.relname, has_table_privilege('ims_user', c.oid, 'SELECT') AS ims_user_select
  FROM pg_class c WHERE c.relnamespace = 'ims'::regnamespace AND c.relkind = 'm' ORDER BY 1;

-- ===== Roles across databases and reinstalls =====
-- a second database reuses the roles the first install created
CREATE DATABASE regress_ims_second;
\c regress_ims_second
\set SHOW_CONTEXT never
CREATE FUNCTION regress_error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION regress_error_of(text) TO PUBLIC;
CREATE EXTENSION ims_crawler;
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'ims'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition;
DROP EXTENSION ims_crawler;
-- a role of the same name that the extension did not make stops the
-- install instead of receiving rights
COMMENT ON ROLE ims_app IS 'made by someone else';
CREATE EXTENSION ims_crawler;
COMMENT ON ROLE ims_app IS 'ims_crawler group role (created by CREATE EXTENSION ims_crawler)';
ALTER ROLE ims_readonly LOGIN;
CREATE EXTENSION ims_crawler;
ALTER ROLE ims_readonly NOLOGIN;
-- a marked role whose membership a non-superuser granted is not adopted
CREATE ROLE regress_creator;
GRANT ims_admin TO regress_creator WITH ADMIN OPTION;
SET ROLE regress_creator;
GRANT ims_admin TO regress_nobody;
RESET ROLE;
CREATE EXTENSION ims_crawler;
REVOKE ims_admin FROM regress_nobody GRANTED BY regress_creator;
REVOKE ims_admin FROM regress_creator;
-- the pool trusted in the first database is not trusted here
CREATE EXTENSION ims_crawler;
INSERT INTO ims.users (user_id, username, role) VALUES (71, 'bob', 'user');
SET SESSION AUTHORIZATION regress_pool;
SELECT regress_error_of('SELECT ims.set_current_user(71)') AS pool_in_other_database;
RESET SESSION AUTHORIZATION;
DROP EXTENSION ims_crawler;
-- a schema ims that someone else owns, or that holds anything, is not adopted
DROP SCHEMA ims;
CREATE SCHEMA ims AUTHORIZATION regress_nobody;
CREATE EXTENSION ims_crawler;
DROP SCHEMA ims;
CREATE SCHEMA ims;
CREATE FUNCTION ims.delete_old_sessions(text, integer) RETURNS void LANGUAGE sql AS 'SELECT';
CREATE EXTENSION ims_crawler;
DROP FUNCTION ims.delete_old_sessions(text, integer);
-- a reinstall with the extension's own roles into an empty schema works
CREATE EXTENSION ims_crawler;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'ims_crawler';
\c ims_regress
SET TimeZone = 'UTC';
DROP DATABASE regress_ims_second;

-- clean up
DELETE FROM ims.search_queries;
DELETE FROM ims.analytics_daily;
DELETE FROM ims.analytics_monthly;
DELETE FROM ims.session_errors;
DELETE FROM ims.session_issues;
DELETE FROM ims.attachments;
DELETE FROM ims.issue_comments;
DELETE FROM ims.issues;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
DROP FUNCTION regress.matrix();
DROP FUNCTION regress.insert_as(bigint, bigint);
DROP ROLE regress_alice, regress_bob, regress_carol, regress_admin, regress_pool, regress_nobody, regress_creator;
RESET TimeZone;
