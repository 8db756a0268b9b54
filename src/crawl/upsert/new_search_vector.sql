,
     -- The text as this update leaves it, joined as ims.refresh_search_vectors
     -- joins the stored rows (comments and attachments as step 3 left them).
     search_vector = CASE
       WHEN i.issue_pk = ANY ($5::bigint[])
            OR (n.d ? 'title' AND n.d->>'title' IS DISTINCT FROM i.title)
            OR (n.d ? 'description' AND n.d->>'description' IS DISTINCT FROM i.description)
       THEN ims.to_search_vector(
              CASE WHEN n.d ? 'title' THEN n.d->>'title' ELSE i.title END,
              CASE WHEN n.d ? 'description' THEN n.d->>'description' ELSE i.description END,
              (SELECT pg_catalog.string_agg(c.content, E'\n' ORDER BY c.comment_pk)
                 FROM ims.issue_comments c WHERE c.issue_pk = i.issue_pk),
              (SELECT pg_catalog.string_agg(a.extracted_text, E'\n' ORDER BY a.attachment_id)
                 FROM ims.attachments a WHERE a.issue_pk = i.issue_pk))
       ELSE i.search_vector END,
     -- What trg_issues_search_version would set, so that it is skipped:
     -- this transaction's id where a field search reads changes. (Where only
     -- comments or attachments changed, the trigger compares the vectors.)
     search_version = CASE
       WHEN (n.d ? 'title' AND n.d->>'title' IS DISTINCT FROM i.title)
            OR (n.d ? 'description' AND n.d->>'description' IS DISTINCT FROM i.description)
            OR (n.d ? 'product' AND n.d->>'product' IS DISTINCT FROM i.product)
            OR (n.d ? 'status' AND n.d->>'status' IS DISTINCT FROM i.status)
            OR (n.d ? 'priority' AND n.d->>'priority' IS DISTINCT FROM i.priority)
       THEN pg_catalog.pg_current_xact_id() ELSE i.search_version END
