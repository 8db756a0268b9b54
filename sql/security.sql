-- ims_crawler: roles, privileges and row level security. Runs last.
--
-- Roles are cluster-wide and outlive DROP EXTENSION. They are created NOLOGIN
-- and marked with a comment. A role of the same name that exists without the
-- mark (or with login, superuser or other attributes) was not made by this
-- extension: installation stops rather than hand it any rights. Nor does it
-- adopt a marked role whose memberships were not all granted by a superuser,
-- or that a non-superuser administers (a CREATEROLE user could otherwise
-- pre-create ims_admin, mark it, and hold it).
DO $roles$
DECLARE
    r       text;
    marker  constant text := 'ims_crawler group role (created by CREATE EXTENSION ims_crawler)';
    bad     text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ims_admin', 'ims_user', 'ims_readonly', 'ims_app'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r, marker);
        ELSE
            SELECT CASE
                     WHEN pg_catalog.shobj_description(a.oid, 'pg_authid') IS DISTINCT FROM marker
                       THEN 'it was not created by ims_crawler'
                     WHEN a.rolcanlogin OR a.rolsuper OR a.rolcreaterole OR a.rolcreatedb
                          OR a.rolreplication OR a.rolbypassrls
                       THEN 'it has attributes a group role must not have'
                     ELSE (SELECT 'these grants of it were not made by a superuser (or give a non-superuser '
                                  || 'admin option): ' || pg_catalog.string_agg(
                                      pg_catalog.format('%I (granted by %I%s)', m.rolname, g.rolname,
                                             CASE WHEN am.admin_option THEN ', with admin option' ELSE '' END),
                                      ', ' ORDER BY m.rolname)
                             FROM pg_catalog.pg_auth_members am
                             JOIN pg_catalog.pg_roles m ON m.oid = am.member
                             LEFT JOIN pg_catalog.pg_roles g ON g.oid = am.grantor
                            WHERE am.roleid = a.oid
                              AND NOT (coalesce(g.rolsuper, false) AND (NOT am.admin_option OR m.rolsuper)))
                   END
              INTO bad
              FROM pg_catalog.pg_roles a WHERE a.rolname = r;
            IF bad IS NOT NULL THEN
                RAISE EXCEPTION 'role "%" already exists and %', r, bad
                    USING ERRCODE = 'duplicate_object',
                          HINT = 'Drop or rename that role, or revoke the memberships named (a superuser may grant them '
                                 'again), or if it is really ours make it NOLOGIN, plain, and COMMENT ON ROLE it '
                                 'with the ims_crawler marker; then CREATE EXTENSION again.';
            END IF;
        END IF;
    END LOOP;
END
$roles$;

-- The crawler's pooled login is granted ims_app, and trusted in each
-- database by an ims.users row (role 'app', db_role = the login): it acts
-- as an ims_user for whoever it asserts with ims.set_current_user().
GRANT ims_user TO ims_app;

-- Privileges. Nothing in the schema is granted to PUBLIC.
REVOKE ALL ON ALL TABLES IN SCHEMA ims FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ims FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ims FROM PUBLIC;
GRANT USAGE ON SCHEMA ims TO ims_admin, ims_user, ims_readonly, ims_app;

-- ims_admin reads and writes every row, and nothing more: no TRIGGER (a
-- trigger it made would fire inside the extension's SECURITY DEFINER code,
-- as its superuser owner), no REFERENCES, no TRUNCATE (which skips row
-- level security and the audit trail), no MAINTAIN on PostgreSQL 17+ (LOCK
-- TABLE in any mode).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ims TO ims_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA ims TO ims_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA ims TO ims_readonly;

-- ims_user: reads the shared issue corpus; reads and writes its own
-- sessions, links, errors and searches; reads its own analytics and audit rows.
GRANT SELECT ON ims.issues, ims.issue_comments, ims.issue_history, ims.attachments TO ims_user;
GRANT SELECT ON ims.users, ims.analytics_daily, ims.analytics_monthly, ims.audit_log TO ims_user;
GRANT UPDATE (email, display_name, preferences) ON ims.users TO ims_user;
-- Table-level UPDATE or DELETE would also let any ims_user LOCK these shared
-- tables (stalling every crawler): ims_user gets INSERT and column-level
-- UPDATE of what a user may change; it deletes through ims.delete_old_sessions.
-- Session keys, owner and start time are not among the columns.
GRANT SELECT, INSERT ON ims.crawl_sessions, ims.session_issues, ims.session_errors, ims.search_queries TO ims_user;
GRANT UPDATE (finished_at, status, product, search_query, parameters, issues_found, issues_crawled, issues_new,
              issues_updated, comments_crawled, attachments_crawled, errors_count, crawler_version, hostname,
              metadata, updated_at)
   ON ims.crawl_sessions TO ims_user;
GRANT UPDATE (action) ON ims.session_issues TO ims_user;
GRANT UPDATE (severity, error_detail, url, is_resolved) ON ims.session_errors TO ims_user;
GRANT UPDATE (parsed_query, parse_method, confidence, result_count, execution_time_ms) ON ims.search_queries TO ims_user;
GRANT USAGE ON SEQUENCE ims.crawl_sessions_session_id_seq, ims.session_issues_session_issue_id_seq,
                        ims.session_errors_error_id_seq, ims.search_queries_query_id_seq TO ims_user;
GRANT SELECT ON ims.v_user_dashboard, ims.v_session_detail, ims.v_issue_search,
                ims.v_product_statistics, ims.v_recent_errors TO ims_user;
-- Materialized views bypass row level security: never granted to ims_user.

-- Row level security, enabled and forced (table owners are filtered too).
-- Policies compare with (SELECT ims.current_user_id()) so the identity is
-- computed once per query, not once per row.
DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'crawl_sessions', 'session_issues', 'session_errors',
                             'search_queries', 'analytics_daily', 'analytics_monthly', 'audit_log'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE ims.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE ims.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY admin_all ON ims.%I TO ims_admin USING (true) WITH CHECK (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY readonly_select ON ims.%I FOR SELECT TO ims_readonly USING (true)', t);
    END LOOP;
    -- Rows an ims_user reads, and writes where it has the privilege.
    FOREACH t IN ARRAY ARRAY['crawl_sessions', 'session_issues', 'session_errors', 'search_queries'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY user_own ON ims.%I TO ims_user '
            'USING (user_id = (SELECT ims.current_user_id())) '
            'WITH CHECK (user_id = (SELECT ims.current_user_id()))', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['users', 'analytics_daily', 'analytics_monthly', 'audit_log'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY user_own_select ON ims.%I FOR SELECT TO ims_user '
            'USING (user_id = (SELECT ims.current_user_id()))', t);
    END LOOP;
END
$rls$;
CREATE POLICY user_own_update ON ims.users FOR UPDATE TO ims_user
    USING (user_id = (SELECT ims.current_user_id()))
    WITH CHECK (user_id = (SELECT ims.current_user_id()));

-- Functions: EXECUTE only for the roles that need each one.
GRANT EXECUTE ON FUNCTION ims.current_user_id() TO ims_admin, ims_user, ims_readonly, ims_app;
GRANT EXECUTE ON FUNCTION ims.set_current_user(bigint, text) TO ims_admin, ims_app;
GRANT EXECUTE ON FUNCTION ims.ensure_partitions(integer) TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.refresh_materialized_views(), ims.refresh_search_index() TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.secure_partitions() TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.upsert_issue(jsonb, bigint), ims.upsert_issues(jsonb, bigint) TO ims_admin, ims_user;
GRANT EXECUTE ON FUNCTION ims.start_session(text, text, jsonb, bigint),
                          ims.finish_session(bigint, text, integer),
                          ims.log_error(bigint, text, text, text, jsonb, text),
                          ims.log_search(text, jsonb, text, double precision, integer, bigint, integer)
   TO ims_admin, ims_user;
GRANT EXECUTE ON FUNCTION ims.aggregate_daily_stats(date), ims.aggregate_monthly_stats(integer, integer) TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.get_user_stats(bigint) TO ims_admin, ims_user, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.delete_old_sessions(bigint, integer), ims.delete_old_sessions(bigint, integer, boolean)
   TO ims_admin, ims_user;
GRANT EXECUTE ON FUNCTION ims.search_issues(text, text, integer) TO ims_admin, ims_user, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.did_you_mean(text) TO ims_admin, ims_user, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.to_search_vector(text, text, text, text), ims.to_search_query(text),
                          ims.search_vector_text(text, text, text, text), ims.search_query_text(text)
   TO ims_admin, ims_user, ims_readonly, ims_app;
GRANT EXECUTE ON FUNCTION ims.refresh_search_vectors(bigint[]) TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.search_index_terms(), ims.search_index_pending(), ims.search_index_segments()
   TO ims_admin, ims_readonly;
GRANT EXECUTE ON FUNCTION ims.update_search_index(), ims.start_search_indexer() TO ims_admin;
GRANT EXECUTE ON FUNCTION ims.restoring() TO ims_admin, ims_user, ims_readonly, ims_app;
GRANT EXECUTE ON FUNCTION ims.maintenance_jobs(integer), ims.schedule_maintenance(integer),
                          ims.unschedule_maintenance() TO ims_admin;

-- The search synonyms (in ims_index, whose other tables only the
-- extension's functions read): administrators edit them, ims_readonly
-- reads them.
GRANT USAGE ON SCHEMA ims_index TO ims_admin, ims_readonly;
REVOKE ALL ON ims_index.search_synonyms FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ims_index.search_synonyms TO ims_admin;
GRANT SELECT ON ims_index.search_synonyms TO ims_readonly;
REVOKE ALL ON FUNCTION ims.search_synonyms_changed() FROM PUBLIC;

-- pg_dump keeps the data of extension tables only when they are marked.
SELECT pg_catalog.pg_extension_config_dump('ims.users', '');
SELECT pg_catalog.pg_extension_config_dump('ims.crawl_sessions_default', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issues', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_issues_default', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issue_comments', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issue_history', '');
SELECT pg_catalog.pg_extension_config_dump('ims.attachments', '');
SELECT pg_catalog.pg_extension_config_dump('ims.search_queries', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_errors_default', '');
SELECT pg_catalog.pg_extension_config_dump('ims.analytics_daily', '');
SELECT pg_catalog.pg_extension_config_dump('ims.analytics_monthly', '');
SELECT pg_catalog.pg_extension_config_dump('ims.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('ims_index.search_synonyms', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('ims.crawl_sessions_session_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.users_user_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issues_issue_pk_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_issues_session_issue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issue_comments_comment_pk_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.issue_history_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.attachments_attachment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.search_queries_query_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.session_errors_error_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.analytics_daily_stat_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.analytics_monthly_stat_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ims.audit_log_log_id_seq', '');

-- Monthly partitions for now and the next three months, secured, except
-- when pg_restore (or a pg_dump script) is re-creating the extension
-- (ims.restoring(): row_security off, superuser). Then the dump brings its
-- own partitions, and since this script has already created the foreign
-- keys and triggers the data will meet (pg_dump orders partition data by
-- name, not by reference), the rest of that restore session loads with
-- session_replication_role = replica: no trigger or foreign key check
-- fires on rows that were consistent when they were dumped.
DO $install$
BEGIN
    IF ims.restoring() THEN
        PERFORM ims.secure_partitions();
        PERFORM pg_catalog.set_config('session_replication_role', 'replica', false);
        RAISE NOTICE 'ims_crawler: restore detected; this session now loads data with session_replication_role = replica';
    ELSE
        PERFORM ims.ensure_partitions(3);
    END IF;
END
$install$;
