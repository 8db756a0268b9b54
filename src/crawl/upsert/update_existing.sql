-- Step 4: compare the locked issues with the input, one issue_history row
-- per changed field, and write each issue once: what changed, the crawl
-- counters, and (where the text or the comments and attachments, stored by
-- step 3, changed) the search vector. $4 the session, $5 the issues whose
-- comments or attachments changed. Returns (issue_pk, changed fields).
ch AS (
  SELECT n.issue_pk, f.field, f.old_value, f.new_value
    FROM n JOIN ims.issues i ON i.issue_pk = n.issue_pk
   CROSS JOIN LATERAL (VALUES
      ('title', i.title, n.d->>'title'),
      ('description', i.description, n.d->>'description'),
      ('product', i.product, n.d->>'product'),
      ('module', i.module, n.d->>'module'),
      ('status', i.status, n.d->>'status'),
      ('priority', i.priority, n.d->>'priority'),
      ('severity', i.severity, n.d->>'severity'),
      ('reporter', i.reporter, n.d->>'reporter'),
      ('assignee', i.assignee, n.d->>'assignee'),
      ('url', i.url, n.d->>'url'),
      ('created_at', i.source_created_at::text, ((n.d->>'created_at')::timestamptz)::text),
      ('updated_at', i.source_updated_at::text, ((n.d->>'updated_at')::timestamptz)::text),
      ('resolved_at', i.resolved_at::text, ((n.d->>'resolved_at')::timestamptz)::text),
      ('raw_data', i.raw_data::text, (i.raw_data || (n.d->'raw_data'))::text)
   ) AS f(field, old_value, new_value)
   WHERE n.d ? f.field AND f.old_value IS DISTINCT FROM f.new_value),
hist AS (
  INSERT INTO ims.issue_history (issue_pk, session_id, field_name, old_value, new_value, changed_by)
  SELECT issue_pk, $4, field, old_value, new_value, session_user FROM ch),
upd AS (
  UPDATE ims.issues i SET
     title = CASE WHEN n.d ? 'title' THEN n.d->>'title' ELSE i.title END,
     description = CASE WHEN n.d ? 'description' THEN n.d->>'description' ELSE i.description END,
     product = CASE WHEN n.d ? 'product' THEN n.d->>'product' ELSE i.product END,
     module = CASE WHEN n.d ? 'module' THEN n.d->>'module' ELSE i.module END,
     status = CASE WHEN n.d ? 'status' THEN n.d->>'status' ELSE i.status END,
     priority = CASE WHEN n.d ? 'priority' THEN n.d->>'priority' ELSE i.priority END,
     severity = CASE WHEN n.d ? 'severity' THEN n.d->>'severity' ELSE i.severity END,
     reporter = CASE WHEN n.d ? 'reporter' THEN n.d->>'reporter' ELSE i.reporter END,
     assignee = CASE WHEN n.d ? 'assignee' THEN n.d->>'assignee' ELSE i.assignee END,
     url = CASE WHEN n.d ? 'url' THEN n.d->>'url' ELSE i.url END,
     source_created_at = CASE WHEN n.d ? 'created_at' THEN (n.d->>'created_at')::timestamptz ELSE i.source_created_at END,
     source_updated_at = CASE WHEN n.d ? 'updated_at' THEN (n.d->>'updated_at')::timestamptz ELSE i.source_updated_at END,
     resolved_at = CASE WHEN n.d ? 'resolved_at' THEN (n.d->>'resolved_at')::timestamptz ELSE i.resolved_at END,
     raw_data = i.raw_data || (n.d->'raw_data'),
     crawl_count = i.crawl_count + 1,
     last_crawled_at = GREATEST(pg_catalog.now(), i.last_crawled_at),
     -- What trg_issues_updated_at would set (the counters always change),
     -- so that it is skipped.
     updated_at = pg_catalog.now()
     /* search_vector */
    FROM n
   WHERE i.issue_pk = n.issue_pk)
SELECT issue_pk, pg_catalog.array_agg(field ORDER BY field) FROM ch GROUP BY issue_pk;
