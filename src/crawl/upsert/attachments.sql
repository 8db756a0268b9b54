-- Step 3b: upsert attachments (by checksum, else by file name). $4 the
-- session, $5 its start. Runs without triggers: fills session_started_at and
-- updated_at itself. Returns (issue_pk, added, edited).
a AS (SELECT n.issue_pk, e.at FROM n
       CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(
             CASE WHEN n.d ? 'attachments' THEN n.d->'attachments' ELSE '[]'::jsonb END) AS e(at)),
by_sum AS (
  INSERT INTO ims.attachments AS t (issue_pk, session_id, session_started_at, file_name, mime_type, size_bytes,
                                    checksum, extracted_text)
  SELECT issue_pk, $4, $5, at->>'file_name', at->>'mime_type', (at->>'size_bytes')::bigint, at->>'checksum',
         at->>'extracted_text'
    FROM a WHERE at->>'checksum' IS NOT NULL
   ORDER BY issue_pk, at->>'checksum' COLLATE "C"
  ON CONFLICT (issue_pk, checksum) WHERE checksum IS NOT NULL DO UPDATE
     SET file_name = excluded.file_name, mime_type = excluded.mime_type,
         size_bytes = excluded.size_bytes, extracted_text = excluded.extracted_text, updated_at = pg_catalog.now()
   WHERE (t.file_name, t.mime_type, t.size_bytes, t.extracted_text)
         IS DISTINCT FROM (excluded.file_name, excluded.mime_type, excluded.size_bytes, excluded.extracted_text)
  RETURNING t.issue_pk, (t.xmax = 0) AS inserted),
by_name AS (
  INSERT INTO ims.attachments AS t (issue_pk, session_id, session_started_at, file_name, mime_type, size_bytes,
                                    extracted_text)
  SELECT issue_pk, $4, $5, at->>'file_name', at->>'mime_type', (at->>'size_bytes')::bigint, at->>'extracted_text'
    FROM a WHERE at->>'checksum' IS NULL
   ORDER BY issue_pk, at->>'file_name' COLLATE "C"
  ON CONFLICT (issue_pk, file_name) WHERE checksum IS NULL DO UPDATE
     SET mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, extracted_text = excluded.extracted_text,
         updated_at = pg_catalog.now()
   WHERE (t.mime_type, t.size_bytes, t.extracted_text)
         IS DISTINCT FROM (excluded.mime_type, excluded.size_bytes, excluded.extracted_text)
  RETURNING t.issue_pk, (t.xmax = 0) AS inserted)
SELECT issue_pk, pg_catalog.count(*) FILTER (WHERE inserted), pg_catalog.count(*) FILTER (WHERE NOT inserted)
  FROM (SELECT * FROM by_sum UNION ALL SELECT * FROM by_name) r
 GROUP BY issue_pk;
