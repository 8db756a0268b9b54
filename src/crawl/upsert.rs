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
//! 4. link every issue to the session. Steps 3 and 4 reference only rows
//!    this function holds locked (its issues, the session: nothing can
//!    delete them before it commits), so they run without per-row foreign
//!    key checks and triggers, doing the triggers' work themselves
//!    (timestamps, the session's start and owner, which vectors to refresh);
//!    direct SQL writers keep every check;
//! 5. recompute the search vectors of issues that existed and changed (the
//!    triggers on issues, comments and attachments collect them meanwhile).
//!
//! It runs inside the caller's transaction: an error anywhere undoes it all.
//! Use READ COMMITTED (the default): step 2 must read what a concurrent
//! crawler committed while this one waited for its lock.

use std::collections::{HashMap, HashSet};

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::crawl::issue_json::{normalize_batch, normalize_single, CrawledJson};
use crate::crawl::sessions::session_for_caller;
use crate::db::read_one;
use crate::errors::{SpiOk, SpiValue};
use crate::search::vectors::{vector_text, Deferral};

/// The statements of an upsert, in the order they run (see the files).
const LOCK_OR_INSERT: &str = include_str!("upsert/lock_or_insert.sql");
const LOCK_OR_INSERT_WITHOUT_VECTORS: &str =
    include_str!("upsert/lock_or_insert_without_vectors.sql");
macro_rules! with_input {
    ($file:literal) => {
        concat!(
            "WITH ",
            include_str!("upsert/input_with_pk.sql"),
            ",\n",
            include_str!($file)
        )
    };
}
const FIELD_CHANGES: &str = with_input!("upsert/field_changes.sql");
const UPSERT_COMMENTS: &str = with_input!("upsert/comments.sql");
const UPSERT_ATTACHMENTS: &str = with_input!("upsert/attachments.sql");

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

const RECORD_CHILD_CHANGES: &str = "\
INSERT INTO ims.issue_history (issue_pk, session_id, field_name, old_value, new_value, changed_by)
SELECT pk, $4, field, NULL, summary, session_user
  FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(pk, field, summary)";

const LINK_TO_SESSION: &str = "\
INSERT INTO ims.session_issues AS t (session_id, session_started_at, user_id, issue_pk, action)
SELECT $1, $2, $3, pk, act FROM unnest($4::bigint[], $5::text[]) AS u(pk, act) ORDER BY pk
ON CONFLICT ON CONSTRAINT session_issues_session_issue_key DO UPDATE
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
                    .value("issue_pk of a comment or attachment count");
                let added = row.get::<i64>(2).value("comments or attachments added");
                let edited = row.get::<i64>(3).value("comments or attachments edited");
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

/// The issues of a batch as stored: issue_id -> (issue_pk, inserted now).
type Stored = HashMap<String, (i64, bool)>;

fn issue_id_of(d: &Value) -> String {
    d["issue_id"].as_str().unwrap_or_default().to_string()
}

/// The batch as a statement argument ($1 of every statement).
fn docs_arg(docs: &Value) -> DatumWithOid<'static> {
    JsonB(docs.clone()).into()
}

/// Store already-normalised issues; outcomes in input order. The steps of
/// the module comment, in order.
pub fn upsert_documents(docs: Vec<Value>, session_id: Option<i64>) -> Vec<Outcome> {
    if docs.is_empty() {
        return Vec::new();
    }
    // Check the session before writing anything, and keep it (as a foreign
    // key check would) until this transaction ends.
    let session = session_id.map(|id| (id, session_for_caller(id)));
    if let Some((id, (started_at, _))) = session {
        Spi::run_with_args(
            "SELECT FROM ims.crawl_sessions WHERE session_id = $1 AND started_at = $2 FOR KEY SHARE",
            &[id.into(), started_at.into()],
        )
        .spi_ok("locking the crawl session");
    }
    let order: Vec<String> = docs.iter().map(issue_id_of).collect();
    // New issues are indexed as they are inserted; any other touched issue's
    // search vector is recomputed once, at the end.
    let indexed = schema_has_search_vector();
    let new_vectors = if indexed {
        vectors_of_new_issues(&docs)
    } else {
        HashMap::new()
    };
    let search_refresh = Deferral::begin();
    let docs = Value::Array(docs);

    let stored = insert_or_lock(&docs, indexed, &new_vectors);
    let pks: Vec<i64> = order.iter().map(|id| stored[id].0).collect();
    let mut changed = apply_field_changes(&docs, &order, &stored, session_id);
    // Comments, attachments, their history and the session links reference
    // only rows this function holds locked (the issues above, the session)
    // and fill in what the triggers on those tables would: no per-row
    // foreign key check or trigger is needed for them.
    let started_at = session.map(|(_, (started_at, _))| started_at);
    let (touched, outcomes) = crate::db::without_triggers(|| {
        let touched = upsert_children(
            &docs,
            &order,
            &pks,
            &stored,
            (session_id, started_at),
            &mut changed,
        );
        let outcomes = outcomes(&order, &stored, changed);
        if let Some((id, (started_at, owner))) = session {
            link_to_session(id, started_at, owner, pks, &outcomes);
        }
        (touched, outcomes)
    });
    search_refresh.include(touched);
    search_refresh.finish(&newly_indexed(&new_vectors, &stored));
    outcomes
}

/// Step 1: insert or lock every issue, in issue_id order.
fn insert_or_lock(docs: &Value, indexed: bool, new_vectors: &HashMap<String, String>) -> Stored {
    let (ids, vectors): (Vec<String>, Vec<String>) = new_vectors
        .iter()
        .map(|(id, v)| (id.clone(), v.clone()))
        .unzip();
    let (sql, args) = if indexed {
        (
            LOCK_OR_INSERT,
            vec![docs_arg(docs), ids.into(), vectors.into()],
        )
    } else {
        (LOCK_OR_INSERT_WITHOUT_VECTORS, vec![docs_arg(docs)])
    };
    Spi::connect_mut(|c| {
        c.update(sql, None, &args)
            .spi_ok("storing issues")
            .map(|row| {
                let pk = row.get::<i64>(1).value("issue_pk of a stored issue");
                let id = row.get::<String>(2).value("issue_id of a stored issue");
                let inserted = row.get::<bool>(3).value("whether an issue was inserted");
                (id, (pk, inserted))
            })
            .collect()
    })
}

/// Step 2: the changed fields of issues that existed, by issue_pk (history
/// written, issues updated).
fn apply_field_changes(
    docs: &Value,
    order: &[String],
    stored: &Stored,
    session_id: Option<i64>,
) -> HashMap<i64, Vec<String>> {
    let (old_ids, old_pks): (Vec<String>, Vec<i64>) = order
        .iter()
        .filter(|id| !stored[id.as_str()].1)
        .map(|id| (id.clone(), stored[id.as_str()].0))
        .unzip();
    if old_pks.is_empty() {
        return HashMap::new();
    }
    let args = [
        docs_arg(docs),
        old_pks.into(),
        old_ids.into(),
        session_id.into(),
    ];
    Spi::connect_mut(|c| {
        c.update(FIELD_CHANGES, None, &args)
            .spi_ok("recording changes")
            .map(|row| {
                let pk = row.get::<i64>(1).value("issue_pk of a changed issue");
                let fields = row
                    .get::<Vec<String>>(2)
                    .value("the changed fields of an issue");
                (pk, fields)
            })
            .collect()
    })
}

/// Step 3: comments and attachments; for issues that existed, one history
/// row per kind that changed ("2 added, 1 edited"), and the kind counts as a
/// changed field. Returns the issues whose comments or attachments changed
/// (their search vectors follow).
fn upsert_children(
    docs: &Value,
    order: &[String],
    pks: &[i64],
    stored: &Stored,
    (session_id, session_started_at): (Option<i64>, Option<TimestampWithTimeZone>),
    changed: &mut HashMap<i64, Vec<String>>,
) -> HashSet<i64> {
    let args = || {
        [
            docs_arg(docs),
            pks.to_vec().into(),
            order.to_vec().into(),
            session_id.into(),
            session_started_at.into(),
        ]
    };
    let comments = child_counts(UPSERT_COMMENTS, &args());
    let attachments = child_counts(UPSERT_ATTACHMENTS, &args());
    let (mut h_pks, mut h_fields, mut h_summaries) = (Vec::new(), Vec::new(), Vec::new());
    let existed = order
        .iter()
        .map(|id| stored[id.as_str()])
        .filter(|(_, inserted)| !inserted);
    for (pk, _) in existed {
        for (field, counts) in [("comments", &comments), ("attachments", &attachments)] {
            if let Some(&(added, edited)) = counts.get(&pk) {
                h_pks.push(pk);
                h_fields.push(field.to_string());
                h_summaries.push(summary(added, edited));
                changed.entry(pk).or_default().push(field.to_string());
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
    comments.keys().chain(attachments.keys()).copied().collect()
}

/// What happened to each issue, in input order.
fn outcomes(
    order: &[String],
    stored: &Stored,
    mut changed: HashMap<i64, Vec<String>>,
) -> Vec<Outcome> {
    order
        .iter()
        .map(|id| {
            let (pk, inserted) = stored[id.as_str()];
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
        .collect()
}

/// Step 4: link every issue to the session, with what happened to it.
fn link_to_session(
    session_id: i64,
    started_at: TimestampWithTimeZone,
    owner: i64,
    pks: Vec<i64>,
    outcomes: &[Outcome],
) {
    let actions: Vec<String> = outcomes.iter().map(|o| o.action.to_string()).collect();
    Spi::run_with_args(
        LINK_TO_SESSION,
        &[
            session_id.into(),
            started_at.into(),
            owner.into(),
            pks.into(),
            actions.into(),
        ],
    )
    .spi_ok("linking issues to the session");
}

/// Step 5's input: the issues inserted with their vector, which need no
/// recomputing.
fn newly_indexed(new_vectors: &HashMap<String, String>, stored: &Stored) -> HashSet<i64> {
    new_vectors
        .keys()
        .filter_map(|id| {
            stored
                .get(id)
                .filter(|(_, inserted)| *inserted)
                .map(|(pk, _)| *pk)
        })
        .collect()
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
