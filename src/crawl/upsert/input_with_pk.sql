-- The input issues joined to their issue_pk ($1 documents, $2 pks, $3 ids).
-- A fragment: the first CTE of comments.sql, attachments.sql and update_existing.sql.
n AS (SELECT u.issue_pk, x.d
        FROM pg_catalog.jsonb_array_elements($1) AS x(d)
        JOIN unnest($3::text[], $2::bigint[]) AS u(issue_id, issue_pk)
          ON u.issue_id = x.d->>'issue_id')
