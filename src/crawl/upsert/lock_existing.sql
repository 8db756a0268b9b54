-- Step 2: lock the issues of the batch that existed (or that a concurrent
-- crawler inserted and committed while step 1 waited), in issue_id order.
-- $1 their issue_ids. NO KEY: other transactions may still insert rows that
-- reference these issues (their key checks take KEY SHARE).
SELECT issue_pk, issue_id FROM ims.issues
 WHERE issue_id = ANY ($1::text[])
 ORDER BY issue_id COLLATE "C"
   FOR NO KEY UPDATE;
