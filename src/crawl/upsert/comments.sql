-- Step 3a: upsert comments (by comment_id, else by content hash). Runs
-- without triggers: sets updated_at itself. Returns (issue_pk, added, edited).
c AS (SELECT n.issue_pk, e.cm FROM n
       CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(
             CASE WHEN n.d ? 'comments' THEN n.d->'comments' ELSE '[]'::jsonb END) AS e(cm)),
by_id AS (
  INSERT INTO ims.issue_comments AS t (issue_pk, comment_id, author, content, content_hash, commented_at)
  SELECT issue_pk, cm->>'comment_id', cm->>'author', cm->>'content', cm->>'content_hash',
         (cm->>'created_at')::timestamptz
    FROM c WHERE cm->>'comment_id' IS NOT NULL
   ORDER BY issue_pk, cm->>'comment_id' COLLATE "C"
  ON CONFLICT (issue_pk, comment_id) WHERE comment_id IS NOT NULL DO UPDATE
     SET author = excluded.author, content = excluded.content,
         content_hash = excluded.content_hash, commented_at = excluded.commented_at,
         updated_at = pg_catalog.now()
   WHERE (t.content_hash, t.commented_at) IS DISTINCT FROM (excluded.content_hash, excluded.commented_at)
  RETURNING t.issue_pk, (t.xmax = 0) AS inserted),
by_hash AS (
  INSERT INTO ims.issue_comments AS t (issue_pk, author, content, content_hash, commented_at)
  SELECT issue_pk, cm->>'author', cm->>'content', cm->>'content_hash', (cm->>'created_at')::timestamptz
    FROM c WHERE cm->>'comment_id' IS NULL
   ORDER BY issue_pk, cm->>'content_hash'
  ON CONFLICT (issue_pk, content_hash) WHERE comment_id IS NULL DO NOTHING
  RETURNING t.issue_pk, true AS inserted)
SELECT issue_pk, pg_catalog.count(*) FILTER (WHERE inserted), pg_catalog.count(*) FILTER (WHERE NOT inserted)
  FROM (SELECT * FROM by_id UNION ALL SELECT * FROM by_hash) r
 GROUP BY issue_pk;
