//! `ims.upsert_issue` and `ims.upsert_issues`: store crawled issues with
//! their comments and attachments, record what changed, link them to the
//! crawl session.
//!
//! One batch is a handful of set-based statements, whatever its size, and
//! each issue row is written once:
//! 1. insert the issues not stored yet, in issue_id order, with their search
//!    vector (tokenized in Rust);
//! 2. lock the others, in issue_id order. Concurrent crawlers sending the
//!    same ids queue on these in the same order, so they cannot deadlock or
//!    see a unique violation;
//! 3. upsert comments (by comment_id, else by content hash) and
//!    attachments (by checksum, else by file name);
//! 4. compare the locked issues with the input, write one issue_history row
//!    per changed field, and update each once: changed fields, crawl
//!    counters, and the search vector where the title, description,
//!    comments or attachments changed;
//! 5. one history row per issue whose comments or attachments changed, and
//!    link every issue to the session.
//!
//! Steps 3 and 5 reference only rows this function holds locked (its issues,
//! the session: nothing can delete them before it commits), so they run
//! without per-row foreign key checks and triggers, doing the triggers'
//! work themselves (timestamps, the session's start and owner, the vectors
//! in step 4); direct SQL writers keep every check. The statement triggers
//! on issues, which would recompute vectors, are deferred and find nothing
//! left to do.
//!
//! It runs inside the caller's transaction: an error anywhere undoes it all.
//! Use READ COMMITTED (the default): steps 2 and 4 must read what a
//! concurrent crawler committed while this one waited for its lock.

use std::collections::{HashMap, HashSet};

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::crawl::issue_json::{normalize_batch, normalize_single, CrawledJson};
use crate::crawl::sessions::{missing_session, session_for_caller};
use crate::db::read_one;
use crate::errors::{raise, SpiOk, SpiValue};
use crate::search::tsvector::TsVector;
use crate::search::vectors::{vector, Deferral};

/// The statements of an upsert, in the order they run (see the files).
const INSERT_NEW: &str = include_str!("upsert/insert_new.sql");
const INSERT_NEW_WITHOUT_VECTORS: &str = include_str!("upsert/insert_new_without_vectors.sql");
const LOCK_EXISTING: &str = include_str!("upsert/lock_existing.sql");
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
const UPSERT_COMMENTS: &str = with_input!("upsert/comments.sql");
const UPSERT_ATTACHMENTS: &str = with_input!("upsert/attachments.sql");
const UPDATE_EXISTING: &str = with_input!("upsert/update_existing.sql");
/// The search vector clause of UPDATE_EXISTING (where its marker is), for a
/// schema that has the column.
const NEW_SEARCH_VECTOR: &str = include_str!("upsert/new_search_vector.sql");
const SEARCH_VECTOR_MARKER: &str = "/* search_vector */";

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

/// The search vectors of issues not stored yet, by issue_id, so
/// a new issue is indexed as it is inserted instead of updated again after.
fn vectors_of_new_issues(docs: &[Value]) -> HashMap<String, TsVector> {
    let ids: Vec<String> = docs
        .iter()
        .map(|d| d["issue_id"].as_str().unwrap_or_default().to_string())
        .collect();
    let known: HashSet<String> = read_one::<Vec<String>>(
        "SELECT pg_catalog.array_agg(i.issue_id) \
           FROM unnest($1::text[]) AS u(issue_id) JOIN ims.issues i ON i.issue_id = u.issue_id",
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
        let vector = vector([
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

/// The batch as one jsonb value, converted once and passed as $1 to every
/// statement (converting a batch of a thousand issues costs milliseconds).
#[derive(Clone, Copy)]
struct Docs(pg_sys::Datum);

impl Docs {
    fn new(docs: Vec<Value>) -> Docs {
        Docs(
            JsonB(Value::Array(docs))
                .into_datum()
                .expect("a JSON array is never SQL NULL"),
        )
    }

    fn arg(self) -> DatumWithOid<'static> {
        // SAFETY: the jsonb was allocated in this function call's memory
        // context, which outlives every statement the upsert runs.
        unsafe { DatumWithOid::new(self.0, pg_sys::JSONBOID) }
    }
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
        lock_session(id, started_at);
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
    let docs = Docs::new(docs);

    let stored = insert_or_lock(docs, &order, indexed, &new_vectors);
    let pks: Vec<i64> = order.iter().map(|id| stored[id].0).collect();
    // Comments, attachments, their history and the session links reference
    // only rows this function holds locked (the issues above, the session)
    // and fill in what the triggers on those tables would: no per-row
    // foreign key check or trigger is needed for them.
    let started_at = session.map(|(_, (started_at, _))| started_at);
    let children = crate::db::without_triggers(|| {
        upsert_children(docs, &order, &pks, (session_id, started_at))
    });
    let mut changed = update_existing(docs, &order, &stored, session_id, indexed, &children);
    let outcomes = crate::db::without_triggers(|| {
        record_child_changes(&order, &stored, session_id, &children, &mut changed);
        let outcomes = outcomes(&order, &stored, changed);
        if let Some((id, (started_at, owner))) = session {
            link_to_session(id, started_at, owner, pks.clone(), &outcomes);
        }
        outcomes
    });
    search_refresh.finish(&vectors_current(&stored, indexed, &new_vectors));
    outcomes
}

/// Lock the session (`FOR KEY SHARE`, as a foreign key check would) so
/// that it outlives this transaction, and make sure its month has a
/// partition for its links (before 0.5.0's schema, links are one table):
/// step 5 writes them without the foreign key check that would otherwise
/// catch a link routed elsewhere.
fn lock_session(session_id: i64, started_at: TimestampWithTimeZone) {
    let links_partition: Option<bool> = Spi::connect_mut(|c| {
        let rows = c
            .update(
                "SELECT CASE WHEN c.relname = 'crawl_sessions_default' THEN true \
                             WHEN (SELECT p.relkind FROM pg_catalog.pg_class p \
                                    WHERE p.oid = 'ims.session_issues'::pg_catalog.regclass) <> 'p' THEN true \
                             ELSE pg_catalog.to_regclass('ims.session_issues_' || pg_catalog.substr(c.relname, 16)) \
                                  IS NOT NULL END \
                   FROM ims.crawl_sessions s JOIN pg_catalog.pg_class c ON c.oid = s.tableoid \
                  WHERE s.session_id = $1 AND s.started_at = $2 \
                    FOR KEY SHARE OF s",
                None,
                &[session_id.into(), started_at.into()],
            )
            .spi_ok("locking the crawl session");
        if rows.is_empty() {
            None
        } else {
            rows.first()
                .get_one::<bool>()
                .spi_ok("locking the crawl session")
        }
    });
    match links_partition {
        Some(true) => {}
        // Removed since it was looked up.
        None => missing_session(session_id),
        Some(false) => raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("the month of crawl session {session_id} has no partition for its issue links"),
            Some("Run SELECT * FROM ims.ensure_partitions(); it creates the missing session_issues and session_errors partitions."),
        ),
    }
}

/// Steps 1 and 2: insert the new issues, then lock the others, each in
/// issue_id order.
fn insert_or_lock(
    docs: Docs,
    order: &[String],
    indexed: bool,
    new_vectors: &HashMap<String, TsVector>,
) -> Stored {
    let (ids, vectors): (Vec<String>, Vec<&TsVector>) =
        new_vectors.iter().map(|(id, v)| (id.clone(), v)).unzip();
    let (sql, args) = if indexed {
        (INSERT_NEW, vec![docs.arg(), ids.into(), vectors.into()])
    } else {
        (INSERT_NEW_WITHOUT_VECTORS, vec![docs.arg()])
    };
    let pk_and_id = |row: pgrx::spi::SpiHeapTupleData| {
        let pk = row.get::<i64>(1).value("issue_pk of a stored issue");
        let id = row.get::<String>(2).value("issue_id of a stored issue");
        (id, pk)
    };
    let mut stored: Stored = Spi::connect_mut(|c| {
        c.update(sql, None, &args)
            .spi_ok("storing new issues")
            .map(|row| {
                let (id, pk) = pk_and_id(row);
                (id, (pk, true))
            })
            .collect()
    });
    let existing: Vec<String> = order
        .iter()
        .filter(|id| !stored.contains_key(id.as_str()))
        .cloned()
        .collect();
    if !existing.is_empty() {
        let locked: Vec<(String, i64)> = Spi::connect_mut(|c| {
            c.update(LOCK_EXISTING, None, &[existing.into()])
                .spi_ok("locking existing issues")
                .map(pk_and_id)
                .collect()
        });
        stored.extend(locked.into_iter().map(|(id, pk)| (id, (pk, false))));
    }
    // Deleted by someone else between the two steps: neither saw it.
    if let Some(gone) = order.iter().find(|id| !stored.contains_key(id.as_str())) {
        raise(
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
            format!("issue {gone} was deleted while this upsert stored it"),
            Some("Retry the upsert: the issue will be inserted again."),
        );
    }
    stored
}

/// Step 4: for issues that existed, the changed fields by issue_pk (history
/// written, issues updated once with their counters and, where their text
/// changed, their search vector).
fn update_existing(
    docs: Docs,
    order: &[String],
    stored: &Stored,
    session_id: Option<i64>,
    indexed: bool,
    children: &ChildCounts,
) -> HashMap<i64, Vec<String>> {
    let (old_ids, old_pks): (Vec<String>, Vec<i64>) = order
        .iter()
        .filter(|id| !stored[id.as_str()].1)
        .map(|id| (id.clone(), stored[id.as_str()].0))
        .unzip();
    if old_pks.is_empty() {
        return HashMap::new();
    }
    let sql = UPDATE_EXISTING.replace(
        SEARCH_VECTOR_MARKER,
        if indexed { NEW_SEARCH_VECTOR } else { "" },
    );
    let args = [
        docs.arg(),
        old_pks.into(),
        old_ids.into(),
        session_id.into(),
        children.touched().into(),
    ];
    Spi::connect_mut(|c| {
        c.update(&sql, None, &args)
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

/// Per-issue (added, edited) counts of comments and of attachments.
struct ChildCounts {
    comments: HashMap<i64, (i64, i64)>,
    attachments: HashMap<i64, (i64, i64)>,
}

impl ChildCounts {
    /// Issues whose comments or attachments changed.
    fn touched(&self) -> Vec<i64> {
        let set: HashSet<i64> = self
            .comments
            .keys()
            .chain(self.attachments.keys())
            .copied()
            .collect();
        set.into_iter().collect()
    }
}

/// Step 3: comments and attachments, by issue.
fn upsert_children(
    docs: Docs,
    order: &[String],
    pks: &[i64],
    (session_id, session_started_at): (Option<i64>, Option<TimestampWithTimeZone>),
) -> ChildCounts {
    let args = || {
        [
            docs.arg(),
            pks.to_vec().into(),
            order.to_vec().into(),
            session_id.into(),
            session_started_at.into(),
        ]
    };
    ChildCounts {
        comments: child_counts(UPSERT_COMMENTS, &args()),
        attachments: child_counts(UPSERT_ATTACHMENTS, &args()),
    }
}

/// Step 5: for issues that existed, one history row per kind of child that
/// changed ("2 added, 1 edited"), and the kind counts as a changed field.
fn record_child_changes(
    order: &[String],
    stored: &Stored,
    session_id: Option<i64>,
    children: &ChildCounts,
    changed: &mut HashMap<i64, Vec<String>>,
) {
    let (mut h_pks, mut h_fields, mut h_summaries) = (Vec::new(), Vec::new(), Vec::new());
    let existed = order
        .iter()
        .map(|id| stored[id.as_str()])
        .filter(|(_, inserted)| !inserted);
    for (pk, _) in existed {
        for (field, counts) in [
            ("comments", &children.comments),
            ("attachments", &children.attachments),
        ] {
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

/// Step 5: link every issue to the session, with what happened to it.
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

/// The issues whose search vector is current after the upsert: those that
/// existed (step 4 recomputed it where their text changed) and those
/// inserted with one (an issue deleted since its vector was planned is
/// inserted without one, and refreshed).
fn vectors_current(
    stored: &Stored,
    indexed: bool,
    new_vectors: &HashMap<String, TsVector>,
) -> HashSet<i64> {
    stored
        .iter()
        .filter(|(id, (_, inserted))| {
            !indexed || !inserted || new_vectors.contains_key(id.as_str())
        })
        .map(|(_, (pk, _))| *pk)
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
    crate::search::indexer::ensure_running();
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
    crate::search::indexer::ensure_running();
    let count = |a: &str| out.iter().filter(|o| o.action == a).count() as i64;
    TableIterator::once((count("inserted"), count("updated"), count("unchanged")))
}
