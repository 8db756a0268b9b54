-- One crawler transaction (pgbench script of the retention benchmark):
-- start a session, upsert an issue with an attachment, log an error, finish.
\set a random(1, 10000)
\set u random(1, 100)
BEGIN;
SELECT ims.set_current_user(:u);
SELECT session_id AS sid FROM ims.start_session('OpenFrame', 'retention load') \gset
SELECT count(*) FROM ims.upsert_issue(jsonb_build_object('issue_id', 'RET-' || :a, 'title', 'retention issue ' || :a,
         'attachments', jsonb_build_array(jsonb_build_object('file_name', 'crawl' || :u || '.txt'))), :sid);
SELECT ims.log_error(:sid, 'timeout', 'retention load');
SELECT count(*) FROM ims.finish_session(:sid);
COMMIT;
