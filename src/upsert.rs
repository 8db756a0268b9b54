//! `ims.upsert_issue` and `ims.upsert_issues`: store crawled issues with
//! their comments and attachments, record what changed, link them to the
//! crawl session.
//!
//! One batch is a handful of set-based statements, whatever its size:
//! 1. insert-or-lock every issue row, in issue_id order, bumping the crawl
//!    counters (`INSERT ... ON CONFLICT DO UPDATE`). Concurrent crawlers
//!    sending the same ids queue on these row locks in the same order, so
//!    they cannot deadlock or see a unique violation. Issues not stored yet
//!    get their search vector, tokenized in Rust, with this insert;
//! 2. compare the locked rows with the input, write one issue_history row per
//!    changed field and update the changed issues;
//! 3. upsert comments (by comment_id, else by content hash) and
//!    attachments (by checksum, else by file name);
//! 4. link every issue to the session;
//! 5. recompute the search vectors of issues that existed and changed (the
//!    triggers on issues, comments and attachments collect them meanwhile).
//!
//! It runs inside the caller's transaction: an error anywhere undoes it all.
//! Use READ COMMITTED (the default): step 2 must read what a concurrent
//! crawler committed while this one waited for its lock.

use std::collections::{HashMap, HashSet};

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::db::read_one;
use crate::errors::SpiOk;
use crate::issue_input::{normalize_batch, normalize_single, CrawledJson};
use crate::search_index::{vector_text, Deferral};
use crate::sessions::session_for_caller;

/// Step 1. `indexed`: the schema has issues.search_vector (0.2.0 on), so
/// new issues get their vector ($2 ids, $3 vectors) as they are inserted.
fn lock_or_insert_sql(indexed: bool) -> String {
    let (column, value, join) = if indexed {
        (
            ", search_vector",
            ", v.vector::pg_catalog.tsvector",
            "LEFT JOIN unnest($2::text[], $3::text[]) AS v(issue_id, vector) ON v.issue_id = d->>'issue_id'",
        )
    } else {
        ("", "", "")
    };
    format!(
        "INSERT INTO ims.issues AS i (issue_id, title, description, product, module, status, priority, severity,
                             reporter, assignee, url, source_created_at, source_updated_at, resolved_at, raw_data{column})
SELECT d->>'issue_id', d->>'title', d->>'description', d->>'product', d->>'module', d->>'status',
       d->>'priority', d->>'severity', d->>'reporter', d->>'assignee', d->>'url',
       (d->>'created_at')::timestamptz, (d->>'updated_at')::timestamptz, (d->>'resolved_at')::timestamptz,
       d->'raw_data'{value}
  FROM pg_catalog.jsonb_array_elements($1) AS x(d)
  {join}
 ORDER BY d->>'issue_id' COLLATE \"C\"
ON CONFLICT (issue_id) DO UPDATE
   SET crawl_count = i.crawl_count + 1,
       last_crawled_at = GREATEST(pg_catalog.now(), i.last_crawled_at)
RETURNING i.issue_pk, i.issue_id, (i.xmax = 0) AS inserted"
    )
}

/// Whether the database's ims schema has the search index yet: a library
/// newer than the installed extension version (before ALTER EXTENSION
/// UPDATE) keeps working with the older schema.
fn schema_has_search_vector() -> bool {
    read_one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute \
                         WHERE attrelid = 'ims.issues'::pg_catalog.regclass \
                           AND attname = 'search_vector' AND NOT attisdropped)",
        &[],
        "checking the schema version",
    )
    .unwrap_or(false)
}

/// Input rows joined to their issue_pk: `$1` documents, `$2` pks, `$3` ids.
const INPUT_WITH_PK: &str = "\
n AS (SELECT u.issue_pk, x.d
        FROM pg_catalog.jsonb_array_elements($1) AS x(d)
        JOIN unnest($3::text[], $2::bigint[]) AS u(issue_id, issue_pk)
          ON u.issue_id = x.d->>'issue_id')";

fn apply_field_changes_sql() -> String {
    format!(
        "WITH {INPUT_WITH_PK},
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
     raw_data = i.raw_data || (n.d->'raw_data')
    FROM n
   WHERE i.issue_pk = n.issue_pk AND n.issue_pk IN (SELECT issue_pk FROM ch))
SELECT issue_pk, pg_catalog.array_agg(field ORDER BY field) FROM ch GROUP BY issue_pk"
    )
}

fn upsert_comments_sql() -> String {
    format!(
        "WITH {INPUT_WITH_PK},
c AS (SELECT n.issue_pk, e.cm FROM n
       CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(
             CASE WHEN n.d ? 'comments' THEN n.d->'comments' ELSE '[]'::jsonb END) AS e(cm)),
by_id AS (
  INSERT INTO ims.issue_comments AS t (issue_pk, comment_id, author, content, content_hash, commented_at)
  SELECT issue_pk, cm->>'comment_id', cm->>'author', cm->>'content', cm->>'content_hash',
         (cm->>'created_at')::timestamptz
    FROM c WHERE cm->>'comment_id' IS NOT NULL
   ORDER BY issue_pk, cm->>'comment_id' COLLATE \"C\"
  ON CONFLICT (issue_pk, comment_id) WHERE comment_id IS NOT NULL DO UPDATE
     SET author = excluded.author, content = excluded.content,
         content_hash = excluded.content_hash, commented_at = excluded.commented_at
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
 GROUP BY issue_pk"
    )
}

fn upsert_attachments_sql() -> String {
    format!(
        "WITH {INPUT_WITH_PK},
a AS (SELECT n.issue_pk, e.at FROM n
       CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(
             CASE WHEN n.d ? 'attachments' THEN n.d->'attachments' ELSE '[]'::jsonb END) AS e(at)),
by_sum AS (
  INSERT INTO ims.attachments AS t (issue_pk, session_id, file_name, mime_type, size_bytes, checksum, extracted_text)
  SELECT issue_pk, $4, at->>'file_name', at->>'mime_type', (at->>'size_bytes')::bigint, at->>'checksum',
         at->>'extracted_text'
    FROM a WHERE at->>'checksum' IS NOT NULL
   ORDER BY issue_pk, at->>'checksum' COLLATE \"C\"
  ON CONFLICT (issue_pk, checksum) WHERE checksum IS NOT NULL DO UPDATE
     SET file_name = excluded.file_name, mime_type = excluded.mime_type,
         size_bytes = excluded.size_bytes, extracted_text = excluded.extracted_text
   WHERE (t.file_name, t.mime_type, t.size_bytes, t.extracted_text)
         IS DISTINCT FROM (excluded.file_name, excluded.mime_type, excluded.size_bytes, excluded.extracted_text)
  RETURNING t.issue_pk, (t.xmax = 0) AS inserted),
by_name AS (
  INSERT INTO ims.attachments AS t (issue_pk, session_id, file_name, mime_type, size_bytes, extracted_text)
  SELECT issue_pk, $4, at->>'file_name', at->>'mime_type', (at->>'size_bytes')::bigint, at->>'extracted_text'
    FROM a WHERE at->>'checksum' IS NULL
   ORDER BY issue_pk, at->>'file_name' COLLATE \"C\"
  ON CONFLICT (issue_pk, file_name) WHERE checksum IS NULL DO UPDATE
     SET mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, extracted_text = excluded.extracted_text
   WHERE (t.mime_type, t.size_bytes, t.extracted_text)
         IS DISTINCT FROM (excluded.mime_type, excluded.size_bytes, excluded.extracted_text)
  RETURNING t.issue_pk, (t.xmax = 0) AS inserted)
SELECT issue_pk, pg_catalog.count(*) FILTER (WHERE inserted), pg_catalog.count(*) FILTER (WHERE NOT inserted)
  FROM (SELECT * FROM by_sum UNION ALL SELECT * FROM by_name) r
 GROUP BY issue_pk"
    )
}

const RECORD_CHILD_CHANGES: &str = "\
INSERT INTO ims.issue_history (issue_pk, session_id, field_name, old_value, new_value, changed_by)
SELECT pk, $4, field, NULL, summary, session_user
  FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(pk, field, summary)";

const LINK_TO_SESSION: &str = "\
INSERT INTO ims.session_issues AS t (session_id, session_started_at, user_id, issue_pk, action)
SELECT $1, $2, $3, pk, act FROM unnest($4::bigint[], $5::text[]) AS u(pk, act) ORDER BY pk
ON CONFLICT (session_id, issue_pk) DO UPDATE
   SET action = CASE WHEN t.action = 'inserted' OR excluded.action = 'inserted' THEN 'inserted'
                     WHEN t.action = 'updated' OR excluded.action = 'updated' THEN 'updated'
                     ELSE 'unchanged' END,
       crawled_at = pg_catalog.now()";

/// What happened to one issue of the input.
pub struct Outcome {
    pub issue_pk: i64,
    pub action: &'static str,
    pub changed_fields: Vec<String>,
}

/// Per-issue counts of (added, edited) children from a comments or
/// attachments statement.
fn child_counts(sql: &str, args: &[pgrx::datum::DatumWithOid]) -> HashMap<i64, (i64, i64)> {
    Spi::connect_mut(|c| {
        c.update(sql, None, args)
            .spi_ok("upserting comments or attachments")
            .map(|row| {
                let pk = row
                    .get::<i64>(1)
                    .spi_ok("reading counts")
                    .unwrap_or_default();
                let added = row
                    .get::<i64>(2)
                    .spi_ok("reading counts")
                    .unwrap_or_default();
                let edited = row
                    .get::<i64>(3)
                    .spi_ok("reading counts")
                    .unwrap_or_default();
                (pk, (added, edited))
            })
            .collect()
    })
}

fn summary(added: i64, edited: i64) -> String {
    match (added, edited) {
        (a, 0) => format!("{a} added"),
        (0, e) => format!("{e} edited"),
        (a, e) => format!("{a} added, {e} edited"),
    }
}

/// The search vectors (text form) of issues not stored yet, by issue_id, so
/// a new issue is indexed as it is inserted instead of updated again after.
fn vectors_of_new_issues(docs: &[Value]) -> HashMap<String, String> {
    let ids: Vec<String> = docs
        .iter()
        .map(|d| d["issue_id"].as_str().unwrap_or_default().to_string())
        .collect();
    let known: HashSet<String> = read_one::<Vec<String>>(
        "SELECT pg_catalog.array_agg(issue_id) FROM ims.issues WHERE issue_id = ANY ($1)",
        &[ids.into()],
        "looking up known issues",
    )
    .unwrap_or_default()
    .into_iter()
    .collect();
    let mut vectors = HashMap::new();
    for d in docs {
        crate::limits::check_for_interrupts();
        let id = d["issue_id"].as_str().unwrap_or_default().to_string();
        if known.contains(&id) {
            continue;
        }
        // Joined as ims.refresh_search_vectors joins the stored rows.
        let join = |key: &str, field: &str| -> Option<String> {
            let parts: Vec<&str> = d[key]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x[field].as_str()).collect())
                .unwrap_or_default();
            (!parts.is_empty()).then(|| parts.join("\n"))
        };
        let comments = join("comments", "content");
        let attachments = join("attachments", "extracted_text");
        let vector = vector_text([
            d["title"].as_str(),
            d["description"].as_str(),
            comments.as_deref(),
            attachments.as_deref(),
        ]);
        vectors.insert(id, vector);
    }
    vectors
}

/// Store already-normalised issues; outcomes in input order.
pub fn upsert_documents(docs: Vec<Value>, session_id: Option<i64>) -> Vec<Outcome> {
    if docs.is_empty() {
        return Vec::new();
    }
    // Check the session before writing anything.
    let session = session_id.map(|id| (id, session_for_caller(id)));
    // New issues are indexed as they are inserted; any other touched issue's
    // search vector is recomputed once, at the end.
    let indexed = schema_has_search_vector();
    let new_vectors = if indexed {
        vectors_of_new_issues(&docs)
    } else {
        HashMap::new()
    };
    let search_refresh = Deferral::begin();
    let order: Vec<String> = docs
        .iter()
        .map(|d| d["issue_id"].as_str().unwrap_or_default().to_string())
        .collect();
    let docs = Value::Array(docs);
    let docs_arg = || JsonB(docs.clone());

    // 1. Insert or lock, in issue_id order.
    let rows: HashMap<String, (i64, bool)> = Spi::connect_mut(|c| {
        let (ids, vectors): (Vec<String>, Vec<String>) = new_vectors
            .iter()
            .map(|(id, v)| (id.clone(), v.clone()))
            .unzip();
        let args: Vec<pgrx::datum::DatumWithOid> = if indexed {
            vec![docs_arg().into(), ids.into(), vectors.into()]
        } else {
            vec![docs_arg().into()]
        };
        c.update(&lock_or_insert_sql(indexed), None, &args)
            .spi_ok("storing issues")
            .map(|row| {
                let pk = row
                    .get::<i64>(1)
                    .spi_ok("reading issues")
                    .unwrap_or_default();
                let id = row
                    .get::<String>(2)
                    .spi_ok("reading issues")
                    .unwrap_or_default();
                let inserted = row.get::<bool>(3).spi_ok("reading issues").unwrap_or(false);
                (id, (pk, inserted))
            })
            .collect()
    });
    let pk_of = |id: &str| rows[id].0;
    let all_ids: Vec<String> = order.clone();
    let all_pks: Vec<i64> = order.iter().map(|id| pk_of(id)).collect();
    let (old_ids, old_pks): (Vec<String>, Vec<i64>) = order
        .iter()
        .filter(|id| !rows[id.as_str()].1)
        .map(|id| (id.clone(), pk_of(id)))
        .unzip();

    // 2. Field changes of issues that existed.
    let mut changed: HashMap<i64, Vec<String>> = if old_pks.is_empty() {
        HashMap::new()
    } else {
        Spi::connect_mut(|c| {
            c.update(
                &apply_field_changes_sql(),
                None,
                &[
                    docs_arg().into(),
                    old_pks.clone().into(),
                    old_ids.clone().into(),
                    session_id.into(),
                ],
            )
            .spi_ok("recording changes")
            .map(|row| {
                let pk = row
                    .get::<i64>(1)
                    .spi_ok("reading changes")
                    .unwrap_or_default();
                let fields = row
                    .get::<Vec<String>>(2)
                    .spi_ok("reading changes")
                    .unwrap_or_default();
                (pk, fields)
            })
            .collect()
        })
    };

    // 3. Comments and attachments.
    let child_args = [
        docs_arg().into(),
        all_pks.clone().into(),
        all_ids.clone().into(),
        session_id.into(),
    ];
    let comments = child_counts(&upsert_comments_sql(), &child_args);
    let child_args = [
        docs_arg().into(),
        all_pks.clone().into(),
        all_ids.into(),
        session_id.into(),
    ];
    let attachments = child_counts(&upsert_attachments_sql(), &child_args);
    let (mut h_pks, mut h_fields, mut h_summaries) = (Vec::new(), Vec::new(), Vec::new());
    for pk in &old_pks {
        for (field, counts) in [("comments", &comments), ("attachments", &attachments)] {
            if let Some(&(added, edited)) = counts.get(pk) {
                h_pks.push(*pk);
                h_fields.push(field.to_string());
                h_summaries.push(summary(added, edited));
                changed.entry(*pk).or_default().push(field.to_string());
            }
        }
    }
    if !h_pks.is_empty() {
        Spi::run_with_args(
            RECORD_CHILD_CHANGES,
            &[
                h_pks.into(),
                h_fields.into(),
                h_summaries.into(),
                session_id.into(),
            ],
        )
        .spi_ok("recording comment and attachment changes");
    }

    let outcomes: Vec<Outcome> = order
        .iter()
        .map(|id| {
            let (pk, inserted) = rows[id.as_str()];
            let mut fields = changed.remove(&pk).unwrap_or_default();
            fields.sort();
            let action = if inserted {
                "inserted"
            } else if fields.is_empty() {
                "unchanged"
            } else {
                "updated"
            };
            Outcome {
                issue_pk: pk,
                action,
                changed_fields: fields,
            }
        })
        .collect();

    // 4. Link to the session.
    if let Some((id, (started_at, owner))) = session {
        let actions: Vec<String> = outcomes.iter().map(|o| o.action.to_string()).collect();
        Spi::run_with_args(
            LINK_TO_SESSION,
            &[
                id.into(),
                started_at.into(),
                owner.into(),
                all_pks.into(),
                actions.into(),
            ],
        )
        .spi_ok("linking issues to the session");
    }
    let indexed: HashSet<i64> = new_vectors
        .keys()
        .filter_map(|id| {
            rows.get(id)
                .filter(|(_, inserted)| *inserted)
                .map(|(pk, _)| *pk)
        })
        .collect();
    search_refresh.finish(&indexed);
    outcomes
}

/// Insert or update one crawled issue with its `comments` and `attachments`.
/// `action` is `inserted`, `updated` or `unchanged`; `changed_fields` names
/// what an update changed (one issue_history row each).
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn upsert_issue(
    issue: Option<CrawledJson>,
    session_id: default!(Option<i64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(issue_pk, i64),
        name!(action, String),
        name!(changed_fields, Vec<String>),
    ),
> {
    crate::db::require_writable("ims.upsert_issue");
    let doc = normalize_single(issue.as_ref().map(|j| &j.0));
    let out = upsert_documents(vec![doc], session_id);
    TableIterator::new(
        out.into_iter()
            .map(|o| (o.issue_pk, o.action.to_string(), o.changed_fields)),
    )
}

/// The batch form of upsert_issue: a JSON array of issues, stored with a few
/// set-based statements. One bad element fails the whole batch, naming its
/// index. Returns how many issues were inserted, updated and unchanged.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn upsert_issues(
    issues: Option<CrawledJson>,
    session_id: default!(Option<i64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(inserted, i64),
        name!(updated, i64),
        name!(unchanged, i64),
    ),
> {
    crate::db::require_writable("ims.upsert_issues");
    let docs = normalize_batch(issues.as_ref().map(|j| &j.0));
    let out = upsert_documents(docs, session_id);
    let count = |a: &str| out.iter().filter(|o| o.action == a).count() as i64;
    TableIterator::once((count("inserted"), count("updated"), count("unchanged")))
}
