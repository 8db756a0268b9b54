-- DROP EXTENSION removes everything it created; CREATE again works.
-- (Roles are cluster-wide and stay; the schema stays, empty.)
SELECT count(*) > 0 AS partitions_exist FROM pg_inherits WHERE inhparent = 'ims.crawl_sessions'::regclass;
DROP EXTENSION ims_crawler;
SELECT count(*) AS relations_left FROM pg_class WHERE relnamespace = 'ims'::regnamespace;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace = 'ims'::regnamespace;
SELECT count(*) AS types_left FROM pg_type WHERE typnamespace = 'ims'::regnamespace;
SELECT rolname FROM pg_roles WHERE rolname IN ('ims_admin', 'ims_user', 'ims_readonly', 'ims_app') ORDER BY 1;
CREATE EXTENSION ims_crawler;
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'ims'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition;
DROP EXTENSION ims_crawler;
DROP SCHEMA ims;
CREATE EXTENSION ims_crawler;
SELECT extname FROM pg_extension WHERE extname = 'ims_crawler';
