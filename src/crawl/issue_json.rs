//! Validation and normalisation of the issue JSON a crawler sends.
//!
//! The output is the same JSON shape with every value checked and put in one
//! canonical form (timestamps ISO 8601, ids as text, comment hashes added,
//! duplicates within one issue folded, unknown keys moved to `raw_data`), so
//! the SQL that stores it can cast without failing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use pgrx::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::errors::raise;
use crate::limits::*;

/// Issue keys stored in their own columns; anything else goes to raw_data.
const TEXT_FIELDS: [&str; 10] = [
    "title",
    "description",
    "product",
    "module",
    "status",
    "priority",
    "severity",
    "reporter",
    "assignee",
    "url",
];
const TIME_FIELDS: [&str; 3] = ["created_at", "updated_at", "resolved_at"];
const LONG_TEXT_FIELDS: [&str; 1] = ["description"];
/// Fields whose values are search filters (MAX_FILTER_VALUE_BYTES).
const FILTER_FIELDS: [&str; 4] = ["product", "module", "status", "priority"];

/// Where in the input a value sits, for messages: `issue`, `issues[3]`,
/// `issues[3].comments[0]`.
struct Path<'a>(&'a str);

impl Path<'_> {
    fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.0)
    }
}

fn bad_type(at: &str, expected: &str, got: &Value) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("{at} must be {expected}, got {}", type_name(got)),
        None,
    )
}

fn too_large(at: &str, limit: String) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("{at} is too large (the limit is {limit})"),
        Some("See the Limits section of the ims_crawler README."),
    )
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string or null, at most `max_bytes` long. NUL characters cannot be
/// stored in PostgreSQL text and are rejected.
fn text(at: &str, v: &Value, max_bytes: usize) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) => {
            if s.len() > max_bytes {
                too_large(at, format!("{max_bytes} bytes"));
            }
            if s.contains('\0') {
                raise(
                    PgSqlErrorCode::ERRCODE_UNTRANSLATABLE_CHARACTER,
                    format!("{at} contains a NUL character (\\u0000), which PostgreSQL text cannot store"),
                    None,
                );
            }
            Value::String(s.clone())
        }
        other => bad_type(at, "a string or null", other),
    }
}

/// A product, module, status or priority: short, since searches filter on
/// it and the search index keys it (22001, as for an overlong varchar).
fn filter_value(at: &str, v: &Value) -> Value {
    if let Value::String(s) = v {
        if s.len() > MAX_FILTER_VALUE_BYTES {
            raise(
                PgSqlErrorCode::ERRCODE_STRING_DATA_RIGHT_TRUNCATION,
                format!(
                    "{at} is too long ({} bytes; the limit is {MAX_FILTER_VALUE_BYTES})",
                    s.len()
                ),
                Some("Product, module, status and priority are names searches filter on; put long text in description or raw_data."),
            );
        }
    }
    text(at, v, MAX_FILTER_VALUE_BYTES)
}

/// A string that must be present and not null.
fn required_text(at: &str, v: Option<&Value>, max_bytes: usize) -> Value {
    match v {
        None | Some(Value::Null) => raise(
            PgSqlErrorCode::ERRCODE_NOT_NULL_VIOLATION,
            format!("{at} is required"),
            None,
        ),
        Some(Value::String(_)) => text(at, v.unwrap(), max_bytes),
        Some(other) => bad_type(at, "a string", other),
    }
}

/// An identifier: a non-empty string or an integer, as text.
fn identifier(at: &str, v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        other => bad_type(at, "a string or an integer", other),
    };
    if s.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{at} must not be empty"),
            None,
        );
    }
    if s.chars().count() > MAX_ID_CHARS {
        too_large(at, format!("{MAX_ID_CHARS} characters"));
    }
    if s.contains('\0') {
        raise(
            PgSqlErrorCode::ERRCODE_UNTRANSLATABLE_CHARACTER,
            format!("{at} contains a NUL character"),
            None,
        );
    }
    Some(s)
}

/// A timestamp or null. Accepted: RFC 3339 (`2024-01-15T09:30:00+09:00`),
/// `YYYY-MM-DD HH:MM[:SS[.f]]` with or without an offset, `YYYY-MM-DD`.
/// Without an offset, the session's TimeZone applies, as in PostgreSQL.
fn timestamp(at: &str, v: &Value) -> Value {
    let s = match v {
        Value::Null => return Value::Null,
        Value::String(s) => s.trim(),
        other => bad_type(at, "a timestamp string or null", other),
    };
    let invalid = || -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_DATETIME_FORMAT,
            format!("{at} is not a valid timestamp: {:?}", truncate(s, 80)),
            Some("Use ISO 8601, e.g. \"2024-01-15T09:30:00+09:00\" or \"2024-01-15 09:30:00\"."),
        )
    };
    let in_range = |year: i32| (1..=9999).contains(&year);
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        use chrono::Datelike;
        if !in_range(t.year()) {
            invalid();
        }
        return Value::String(t.to_rfc3339());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            use chrono::Datelike;
            if !in_range(t.year()) {
                invalid();
            }
            return Value::String(t.to_rfc3339());
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            use chrono::Datelike;
            if !in_range(t.year()) {
                invalid();
            }
            return Value::String(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        use chrono::Datelike;
        if !in_range(d.year()) {
            invalid();
        }
        return Value::String(d.format("%Y-%m-%d 00:00:00").to_string());
    }
    invalid()
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn object<'v>(at: &str, v: &'v Value) -> &'v Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => bad_type(at, "a JSON object", other),
    }
}

/// `comments` or `attachments`: an array (or null, meaning none sent).
fn array<'v>(at: &str, v: &'v Value, max: usize) -> Option<&'v Vec<Value>> {
    match v {
        Value::Null => None,
        Value::Array(a) => {
            if a.len() > max {
                too_large(at, format!("{max} elements"));
            }
            Some(a)
        }
        other => bad_type(at, "an array or null", other),
    }
}

fn comment(at: &str, v: &Value) -> Value {
    crate::limits::check_for_interrupts();
    let m = object(at, v);
    let p = Path(at);
    let comment_id = m
        .get("comment_id")
        .and_then(|v| identifier(&p.field("comment_id"), v));
    let author = text(
        &p.field("author"),
        m.get("author").unwrap_or(&Value::Null),
        MAX_SHORT_TEXT_BYTES,
    );
    let content = required_text(&p.field("content"), m.get("content"), MAX_LONG_TEXT_BYTES);
    let created = timestamp(
        &p.field("created_at"),
        m.get("created_at").unwrap_or(&Value::Null),
    );
    let hash = sha256_hex(&[
        author.as_str().unwrap_or(""),
        content.as_str().unwrap_or(""),
    ]);
    serde_json::json!({
        "comment_id": comment_id,
        "author": author,
        "content": content,
        "content_hash": hash,
        "created_at": created,
    })
}

fn attachment(at: &str, v: &Value) -> Value {
    let m = object(at, v);
    let p = Path(at);
    let file_name = required_text(&p.field("file_name"), m.get("file_name"), 1000);
    if file_name.as_str() == Some("") {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{} must not be empty", p.field("file_name")),
            None,
        );
    }
    let size = match m.get("size_bytes").unwrap_or(&Value::Null) {
        Value::Null => Value::Null,
        Value::Number(n) if n.as_i64().is_some_and(|x| x >= 0) => Value::Number(n.clone()),
        other => bad_type(
            &p.field("size_bytes"),
            "a non-negative integer or null",
            other,
        ),
    };
    let checksum = text(
        &p.field("checksum"),
        m.get("checksum").unwrap_or(&Value::Null),
        200,
    );
    let checksum = if checksum.as_str() == Some("") {
        Value::Null
    } else {
        checksum
    };
    serde_json::json!({
        "file_name": file_name,
        "mime_type": text(&p.field("mime_type"), m.get("mime_type").unwrap_or(&Value::Null), 255),
        "size_bytes": size,
        "checksum": checksum,
        "extracted_text": text(&p.field("extracted_text"), m.get("extracted_text").unwrap_or(&Value::Null), MAX_LONG_TEXT_BYTES),
    })
}

/// Comments and attachments in the order the upsert stores them (and the
/// search vector concatenates them): those with a source id (comment_id,
/// checksum) first, by id, then the others by content hash / file name.
fn storage_order(items: &mut [Value], id: &str, fallback: &str) {
    items.sort_by(|a, b| {
        let key = |v: &Value| match v[id].as_str() {
            Some(x) => (0, x.to_string()),
            None => (1, v[fallback].as_str().unwrap_or("").to_string()),
        };
        key(a).cmp(&key(b))
    });
}

/// Keep the last of several elements with the same key (a crawler that sends
/// one comment twice in one issue means it once).
fn dedupe_last(items: Vec<Value>, key: impl Fn(&Value) -> String) -> Vec<Value> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let k = key(&item);
        match index.get(&k) {
            Some(&i) => out[i] = item,
            None => {
                index.insert(k, out.len());
                out.push(item);
            }
        }
    }
    out
}

/// An issue's comments, validated, one per key (the last wins), in the order
/// they are stored; None when `v` is null.
fn comments(at: &str, v: &Value) -> Option<Value> {
    let items = array(at, v, MAX_COMMENTS_PER_ISSUE)?
        .iter()
        .enumerate()
        .map(|(i, c)| comment(&format!("{at}[{i}]"), c))
        .collect();
    let mut items = dedupe_last(items, |c| match c["comment_id"].as_str() {
        Some(id) => format!("id:{id}"),
        None => format!("hash:{}", c["content_hash"].as_str().unwrap_or("")),
    });
    storage_order(&mut items, "comment_id", "content_hash");
    Some(Value::Array(items))
}

/// An issue's attachments, validated, one per key (the last wins), in the
/// order they are stored; None when `v` is null.
fn attachments(at: &str, v: &Value) -> Option<Value> {
    let items = array(at, v, MAX_ATTACHMENTS_PER_ISSUE)?
        .iter()
        .enumerate()
        .map(|(i, a)| attachment(&format!("{at}[{i}]"), a))
        .collect();
    let mut items = dedupe_last(items, |a| match a["checksum"].as_str() {
        Some(c) => format!("sum:{c}"),
        None => format!("name:{}", a["file_name"].as_str().unwrap_or("")),
    });
    storage_order(&mut items, "checksum", "file_name");
    Some(Value::Array(items))
}

/// Validate one issue found at `at` and return its canonical form:
/// `issue_id`, the tracked fields that were present, `raw_data`, and
/// `comments`/`attachments` when they were sent. (A little over 60 lines:
/// one match over the keys, an arm per kind of field, reads best whole.)
pub fn normalize_issue(at: &str, v: &Value) -> Value {
    crate::limits::check_for_interrupts();
    let m = object(at, v);
    let p = Path(at);
    let issue_id = match m.get("issue_id") {
        None | Some(Value::Null) => raise(
            PgSqlErrorCode::ERRCODE_NOT_NULL_VIOLATION,
            format!("{} is required", p.field("issue_id")),
            Some("Every issue needs its IMS id, e.g. {\"issue_id\": \"IMS-12345\", ...}."),
        ),
        Some(v) => identifier(&p.field("issue_id"), v).expect("non-null identifier"),
    };
    let mut out = Map::new();
    out.insert("issue_id".into(), Value::String(issue_id));
    let mut raw = Map::new();
    for (k, v) in m {
        let at = p.field(k);
        match k.as_str() {
            "issue_id" => {}
            f if FILTER_FIELDS.contains(&f) => {
                out.insert(k.clone(), filter_value(&at, v));
            }
            f if TEXT_FIELDS.contains(&f) => {
                let max = if LONG_TEXT_FIELDS.contains(&f) {
                    MAX_LONG_TEXT_BYTES
                } else {
                    MAX_SHORT_TEXT_BYTES
                };
                out.insert(k.clone(), text(&at, v, max));
            }
            f if TIME_FIELDS.contains(&f) => {
                out.insert(k.clone(), timestamp(&at, v));
            }
            "comments" => {
                if let Some(items) = comments(&at, v) {
                    out.insert("comments".into(), items);
                }
            }
            "attachments" => {
                if let Some(items) = attachments(&at, v) {
                    out.insert("attachments".into(), items);
                }
            }
            "raw_data" => match v {
                // A crawler may send its own raw_data object: merged in.
                Value::Object(extra) => {
                    raw.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())))
                }
                Value::Null => {}
                other => bad_type(&at, "an object or null", other),
            },
            _ => {
                if k.contains('\0') {
                    raise(
                        PgSqlErrorCode::ERRCODE_UNTRANSLATABLE_CHARACTER,
                        format!("{at}: key contains a NUL character"),
                        None,
                    );
                }
                raw.insert(k.clone(), v.clone());
            }
        }
    }
    out.insert("raw_data".into(), Value::Object(raw));
    Value::Object(out)
}

/// The whole argument of `upsert_issue`.
pub fn normalize_single(issue: Option<&Value>) -> Value {
    match issue {
        None => crate::errors::null_argument("issue"),
        Some(v) => normalize_issue("issue", v),
    }
}

/// The whole argument of `upsert_issues`: an array of issues, each issue_id
/// at most once.
pub fn normalize_batch(issues: Option<&Value>) -> Vec<Value> {
    let items = match issues {
        None => crate::errors::null_argument("issues"),
        Some(Value::Array(a)) => a,
        Some(other) => bad_type("issues", "a JSON array of issue objects", other),
    };
    if items.len() > MAX_BATCH_ISSUES {
        too_large("issues", format!("{MAX_BATCH_ISSUES} issues per batch"));
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let n = normalize_issue(&format!("issues[{i}]"), v);
            let id = n["issue_id"].as_str().unwrap_or_default().to_string();
            if let Some(first) = seen.insert(id.clone(), i) {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("issues[{i}].issue_id {id:?} appears twice in the batch (also at issues[{first}])"),
                    Some("Send each issue once per batch."),
                );
            }
            n
        })
        .collect()
}

/// A jsonb argument as serde_json sees it. Unlike pgrx's `JsonB`, a document
/// nested deeper than serde_json parses (128 levels; jsonb allows far more)
/// is a clear ERROR (54000), not a panic.
pub struct CrawledJson(pub Value);

impl pgrx::FromDatum for CrawledJson {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            return None;
        }
        let varlena = datum.cast_mut_ptr::<pg_sys::varlena>();
        let detoasted = pg_sys::pg_detoast_datum_packed(varlena);
        let text = pgrx::direct_function_call::<&std::ffi::CStr>(
            pg_sys::jsonb_out,
            &[Some(pg_sys::Datum::from(detoasted))],
        )
        .expect("jsonb_out returns text");
        let parsed = serde_json::from_str::<Value>(&text.to_string_lossy());
        pg_sys::pfree(text.as_ptr() as *mut std::ffi::c_void);
        if detoasted != varlena {
            pg_sys::pfree(detoasted.cast());
        }
        match parsed {
            Ok(v) => Some(CrawledJson(v)),
            Err(e) => raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("the JSON document is nested too deeply ({e})"),
                Some(
                    "ims_crawler reads JSON up to 128 levels deep; crawled issues need far fewer.",
                ),
            ),
        }
    }
}

unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for CrawledJson {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        arg.unbox_arg_using_from_datum()
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }

    unsafe fn unbox_nullable_arg(
        arg: pgrx::callconv::Arg<'_, 'fcx>,
    ) -> pgrx::nullable::Nullable<Self> {
        arg.unbox_arg_using_from_datum().into()
    }
}

unsafe impl pgrx::pgrx_sql_entity_graph::metadata::SqlTranslatable for CrawledJson {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(CrawledJson);
    const TYPE_ORIGIN: pgrx::pgrx_sql_entity_graph::metadata::TypeOrigin =
        pgrx::pgrx_sql_entity_graph::metadata::TypeOrigin::External;
    const ARGUMENT_SQL: Result<
        pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef,
        pgrx::pgrx_sql_entity_graph::metadata::ArgumentError,
    > = Ok(pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<
        pgrx::pgrx_sql_entity_graph::metadata::ReturnsRef,
        pgrx::pgrx_sql_entity_graph::metadata::ReturnsError,
    > = Ok(pgrx::pgrx_sql_entity_graph::metadata::ReturnsRef::One(
        pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef::literal("jsonb"),
    ));
}
