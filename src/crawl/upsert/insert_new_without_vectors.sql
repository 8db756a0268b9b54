-- Step 1 of an upsert (see insert_new.sql), for a database whose extension
-- is still older than its library (issues.search_vector not there yet).
INSERT INTO ims.issues AS i (issue_id, title, description, product, module, status, priority, severity,
                             reporter, assignee, url, source_created_at, source_updated_at, resolved_at, raw_data)
SELECT d->>'issue_id', d->>'title', d->>'description', d->>'product', d->>'module', d->>'status',
       d->>'priority', d->>'severity', d->>'reporter', d->>'assignee', d->>'url',
       (d->>'created_at')::timestamptz, (d->>'updated_at')::timestamptz, (d->>'resolved_at')::timestamptz,
       d->'raw_data'
  FROM pg_catalog.jsonb_array_elements($1) AS x(d)
 ORDER BY d->>'issue_id' COLLATE "C"
ON CONFLICT (issue_id) DO NOTHING
RETURNING i.issue_pk, i.issue_id;
