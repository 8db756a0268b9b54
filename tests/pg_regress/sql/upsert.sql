-- ims.upsert_issue / ims.upsert_issues
-- Own numbering: the same issue_pks whether run alone or after other tests.
ALTER TABLE ims.issues ALTER COLUMN issue_pk RESTART WITH 1;
INSERT INTO ims.users (user_id, username, role) VALUES (20, 'crawler.kim', 'user'), (21, 'crawler.lee', 'user');
INSERT INTO ims.crawl_sessions (session_id, user_id) VALUES (2001, 20), (2002, 20);

-- A new issue with comments and attachments: inserted
SELECT * FROM ims.upsert_issue($${
  "issue_id": "IMS-1001", "title": "OpenFrame 연결 타임아웃", "description": "TJES 기동 후 연결이 끊김",
  "product": "OpenFrame", "module": "TJES", "status": "Open", "priority": "High", "severity": "Major",
  "reporter": "kim", "assignee": "lee", "created_at": "2024-01-15T09:30:00+09:00",
  "url": "https://ims.example.com/IMS-1001", "customer": "ACME", "tags": ["tjes", "timeout"],
  "comments": [{"comment_id": "c-1", "author": "lee", "content": "로그를 확인했습니다", "created_at": "2024-01-15 10:00:00+09"},
               {"author": "park", "content": "a comment without an id"}],
  "attachments": [{"file_name": "tjes.log", "mime_type": "text/plain", "size_bytes": 2048, "checksum": "sha1:aa",
                   "extracted_text": "ORA-00942: table or view does not exist"},
                  {"file_name": "screen.png", "mime_type": "image/png", "size_bytes": 10}]
}$$, 2001);
SELECT issue_id, title, product, module, status, priority, severity, reporter, assignee, source_created_at,
       url, raw_data, crawl_count, first_crawled_at = last_crawled_at AS first_equals_last
  FROM ims.issues;
SELECT comment_id, author, content, commented_at, length(content_hash) FROM ims.issue_comments ORDER BY comment_pk;
SELECT file_name, mime_type, size_bytes, checksum, extracted_text, session_id FROM ims.attachments ORDER BY attachment_id;

-- The same content again: unchanged, no history, only the crawl counter moves
SELECT * FROM ims.upsert_issue($${
  "issue_id": "IMS-1001", "title": "OpenFrame 연결 타임아웃", "description": "TJES 기동 후 연결이 끊김",
  "product": "OpenFrame", "module": "TJES", "status": "Open", "priority": "High", "severity": "Major",
  "reporter": "kim", "assignee": "lee", "created_at": "2024-01-15T00:30:00Z",
  "url": "https://ims.example.com/IMS-1001", "tags": ["tjes", "timeout"], "customer": "ACME",
  "comments": [{"comment_id": "c-1", "author": "lee", "content": "로그를 확인했습니다", "created_at": "2024-01-15 10:00:00+09"},
               {"author": "park", "content": "a comment without an id"}],
  "attachments": [{"file_name": "tjes.log", "mime_type": "text/plain", "size_bytes": 2048, "checksum": "sha1:aa",
                   "extracted_text": "ORA-00942: table or view does not exist"},
                  {"file_name": "screen.png", "mime_type": "image/png", "size_bytes": 10}]
}$$, 2001);
SELECT crawl_count, first_crawled_at <= last_crawled_at AS ordered FROM ims.issues;
SELECT count(*) AS history_rows FROM ims.issue_history;
SELECT count(*) AS comments FROM ims.issue_comments;
SELECT count(*) AS attachments FROM ims.attachments;

-- Changes: one history row per changed field, named in changed_fields.
-- Keys left out keep their value; an explicit null clears it.
SELECT * FROM ims.upsert_issue($${
  "issue_id": "IMS-1001", "title": "OpenFrame 연결 타임아웃 (해결)", "status": "Resolved",
  "assignee": null, "resolved_at": "2024-01-20T18:00:00+09:00", "customer": "ACME", "tags": ["tjes", "timeout"],
  "comments": [{"comment_id": "c-1", "author": "lee", "content": "로그를 다시 확인했습니다", "created_at": "2024-01-15 10:00:00+09"},
               {"comment_id": "c-2", "author": "kim", "content": "패치 적용 후 해결"}]
}$$, 2002);
SELECT field_name, old_value, new_value, session_id FROM ims.issue_history ORDER BY history_id;
SELECT title, status, assignee, module, resolved_at, crawl_count FROM ims.issues;
SELECT comment_id, content FROM ims.issue_comments ORDER BY comment_pk;

-- Links to sessions are idempotent and keep the strongest action
SELECT * FROM ims.upsert_issue('{"issue_id": "IMS-1001", "status": "Resolved"}', 2002);
SELECT session_id, action, user_id FROM ims.session_issues ORDER BY session_id;

-- Batch form
SELECT * FROM ims.upsert_issues($$[
  {"issue_id": "IMS-1001", "status": "Closed"},
  {"issue_id": "IMS-1002", "title": "ORA-00942 in OFCOBOL batch", "product": "OpenFrame",
   "comments": [{"comment_id": "x1", "content": "first"}]},
  {"issue_id": 1003, "title": "numeric ids are kept as text"},
  {"issue_id": "IMS-1004", "title": "unchanged next time"}
]$$, 2002);
SELECT * FROM ims.upsert_issues('[{"issue_id": "IMS-1004", "title": "unchanged next time"}]');
SELECT * FROM ims.upsert_issues('[]');
SELECT issue_id, crawl_count FROM ims.issues ORDER BY issue_id;

-- Bad input: a clear ERROR with an SQLSTATE, and nothing written
SELECT count(*) AS issues_before FROM ims.issues;
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue(NULL)$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('[1, 2]')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('"IMS-1"')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"title": "no id"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": ""}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "   "}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": {"a": 1}}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": 1.5}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "title": 5}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "status": true}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "comments": "x"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "comments": [1]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "comments": [{"author": "a"}]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "comments": [{"content": "ok"}, {"content": 7}]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "attachments": [{"size_bytes": 1}]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "attachments": [{"file_name": "a", "size_bytes": -1}]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "created_at": "yesterday"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "created_at": "2024-02-30"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "resolved_at": 1700000000}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "title": "nul \u0000 inside"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X", "raw_data": [1]}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "X"}', 999999)$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues(NULL)$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues('{"issue_id": "X"}')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues('[{"issue_id": "A"}, {"issue_id": "B", "title": []}]')$$);
SELECT regress.error_of($$SELECT * FROM ims.upsert_issues('[{"issue_id": "A"}, {"issue_id": "A"}]')$$);
SELECT count(*) AS issues_after FROM ims.issues;

-- A 10 MB description is stored whole
SELECT issue_pk IS NOT NULL AS stored, action
  FROM ims.upsert_issue(jsonb_build_object('issue_id', 'IMS-BIG', 'description', repeat('가나다라마바사 ', 1024 * 1024 * 10 / 22)));
SELECT octet_length(description) > 10000000 AS over_10_mb FROM ims.issues WHERE issue_id = 'IMS-BIG';
-- Over the documented limit: a clear error
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue(jsonb_build_object('issue_id', 'IMS-HUGE', 'description', repeat('x', 33 * 1024 * 1024)))$$);

-- An administrator (here the superuser) may link to any user's session;
-- other users cannot (see the security test)
SELECT regress.error_of($$SELECT * FROM ims.upsert_issue('{"issue_id": "IMS-1001"}', 2001)$$) AS admin_may_link;

DELETE FROM ims.session_issues;
DELETE FROM ims.issues;
DELETE FROM ims.crawl_sessions;
DELETE FROM ims.users;
