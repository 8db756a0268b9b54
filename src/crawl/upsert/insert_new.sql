-- Step 1 of an upsert: insert the issues that do not exist yet, in issue_id
-- order (concurrent crawlers sending the same new ids queue on them in the
-- same order: no deadlock, no unique violation; an issue another crawler
-- inserted meanwhile is left to step 2). $1 the normalised issues (jsonb
-- array), $2 issue_ids and $3 search vectors of the new ones. Stamped with
-- this transaction's id as trg_issues_search_version would (it is skipped).
INSERT INTO ims.issues AS i (issue_id, title, description, product, module, status, priority, severity,
                             reporter, assignee, url, source_created_at, source_updated_at, resolved_at, raw_data, search_vector,
                             search_version)
SELECT d->>'issue_id', d->>'title', d->>'description', d->>'product', d->>'module', d->>'status',
       d->>'priority', d->>'severity', d->>'reporter', d->>'assignee', d->>'url',
       (d->>'created_at')::timestamptz, (d->>'updated_at')::timestamptz, (d->>'resolved_at')::timestamptz,
       d->'raw_data', v.vector, pg_catalog.pg_current_xact_id()
  FROM pg_catalog.jsonb_array_elements($1) AS x(d)
  LEFT JOIN unnest($2::text[], $3::pg_catalog.tsvector[]) AS v(issue_id, vector) ON v.issue_id = d->>'issue_id'
 ORDER BY d->>'issue_id' COLLATE "C"
ON CONFLICT (issue_id) DO NOTHING
RETURNING i.issue_pk, i.issue_id;
