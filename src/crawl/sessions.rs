//! Session recording for crawlers: start a session, log errors and
//! searches, finish it. These run with the caller's rights, so row level
//! security decides whose sessions a caller may touch.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::crawl::issue_json::CrawledJson;
use crate::db::{modify_returning, read_one, read_two};
use crate::errors::{invalid_parameter, null_argument, permission_denied, raise, SpiValue};
use crate::identity::{current_user_id, login_is_admin};

pub const SESSION_END_STATUSES: [&str; 3] = ["completed", "failed", "cancelled"];
pub const ERROR_SEVERITIES: [&str; 5] = ["debug", "info", "warning", "error", "critical"];

/// The (started_at, user_id) of a session the caller may write to: its own,
/// or any for an ims administrator. Used by SECURITY DEFINER functions,
/// which see every session, so the ownership check is explicit here.
pub fn session_for_caller(session_id: i64) -> (TimestampWithTimeZone, i64) {
    let (started, owner) = read_two::<TimestampWithTimeZone, i64>(
        "SELECT started_at, user_id FROM ims.crawl_sessions WHERE session_id = $1",
        &[session_id.into()],
        "looking up the crawl session",
    );
    match (started, owner) {
        (Some(started), Some(owner)) if current_user_id() == Some(owner) || login_is_admin() => {
            (started, owner)
        }
        // Another user's session reads like a missing one: reveal nothing.
        _ => missing_session(session_id),
    }
}

/// The error for a session id that names no session the caller may use.
pub fn missing_session(session_id: i64) -> ! {
    crate::errors::does_not_exist(
        format!("crawl session {session_id} does not exist"),
        Some("Start a session with ims.start_session() and pass the session_id it returns."),
    )
}

/// The ims user the caller acts as, or an error saying how to get one.
pub fn require_identity() -> i64 {
    current_user_id().unwrap_or_else(|| {
        permission_denied(
            "this login has no ims identity: map it with ims.users.db_role, \
             or (for a trusted application login) call ims.set_current_user(user_id) first",
        )
    })
}

/// Start a crawl session for the caller (or, for an administrator, for
/// `user_id`). Returns the new session's id, uuid and start time.
#[pg_extern(volatile, parallel_unsafe)]
pub fn start_session(
    product: default!(Option<String>, "NULL"),
    search_query: default!(Option<String>, "NULL"),
    parameters: default!(Option<CrawledJson>, "'{}'"),
    user_id: default!(Option<i64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(session_id, i64),
        name!(session_uuid, pgrx::Uuid),
        name!(started_at, TimestampWithTimeZone),
    ),
> {
    crate::db::require_writable("ims.start_session");
    let user_id = match user_id {
        Some(id) => {
            crate::identity::require_user(id);
            id
        }
        None => require_identity(),
    };
    let parameters = JsonB(parameters.map_or_else(|| serde_json::json!({}), |p| p.0));
    if !parameters.0.is_object() {
        invalid_parameter(format!(
            "parameters must be a JSON object, got {}",
            crate::crawl::issue_json::type_name(&parameters.0)
        ));
    }
    let row = modify_returning(
        "INSERT INTO ims.crawl_sessions (user_id, product, search_query, parameters) \
         VALUES ($1, $2, $3, $4) RETURNING session_id, session_uuid, started_at",
        &[
            user_id.into(),
            product.into(),
            search_query.into(),
            parameters.into(),
        ],
        "starting a session",
        |row| {
            (
                row.get::<i64>(1).value("session_id"),
                row.get::<pgrx::Uuid>(2).value("session_uuid"),
                row.get::<TimestampWithTimeZone>(3).value("started_at"),
            )
        },
    )
    .expect("INSERT returns its row");
    TableIterator::once(row)
}

/// Finish a running session: set its status (completed, failed or
/// cancelled) and end time, and count what it crawled and logged from the
/// rows linked to it. `issues_found` is what the crawler's search reported.
#[pg_extern(volatile, parallel_unsafe)]
pub fn finish_session(
    session_id: Option<i64>,
    status: default!(Option<String>, "'completed'"),
    issues_found: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(session_id, i64),
        name!(status, String),
        name!(duration_seconds, f64),
        name!(issues_crawled, i32),
        name!(issues_new, i32),
        name!(issues_updated, i32),
        name!(errors_count, i32),
    ),
> {
    crate::db::require_writable("ims.finish_session");
    let Some(session_id) = session_id else {
        null_argument("session_id")
    };
    let status = status.unwrap_or_else(|| null_argument("status"));
    if !SESSION_END_STATUSES.contains(&status.as_str()) {
        invalid_parameter(format!(
            "status must be one of {}, got {status:?}",
            SESSION_END_STATUSES.join(", ")
        ));
    }
    if issues_found.is_some_and(|n| n < 0) {
        invalid_parameter("issues_found must not be negative");
    }
    require_running(session_id);
    let row = modify_returning(
        FINISH_SESSION,
        &[session_id.into(), status.into(), issues_found.into()],
        "finishing the session",
        |row| {
            let count = |i: usize, what: &str| row.get::<i32>(i).value(what);
            (
                row.get::<i64>(1)
                    .value("session_id of the finished session"),
                row.get::<String>(2).value("status of the finished session"),
                row.get::<f64>(3).value("duration of the finished session"),
                count(4, "issues_crawled"),
                count(5, "issues_new"),
                count(6, "issues_updated"),
                count(7, "errors_count"),
            )
        },
    )
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("crawl session {session_id} was finished by someone else meanwhile"),
            None,
        )
    });
    TableIterator::once(row)
}

/// Finish a session: status, end time, and the counts of its links and errors.
const FINISH_SESSION: &str = include_str!("sessions/finish.sql");

/// A session the caller sees and that is still running, or an error saying
/// which it is not.
fn require_running(session_id: i64) {
    let current = read_one::<String>(
        "SELECT status FROM ims.crawl_sessions WHERE session_id = $1",
        &[session_id.into()],
        "looking up the session",
    );
    match current.as_deref() {
        None => missing_session(session_id),
        Some("running") => {}
        Some(other) => raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("crawl session {session_id} is already {other}"),
            None,
        ),
    }
}

/// Log an error that happened during a session. Returns the error_id.
#[pg_extern(volatile, parallel_unsafe)]
pub fn log_error(
    session_id: Option<i64>,
    error_type: Option<String>,
    error_message: Option<String>,
    severity: default!(Option<String>, "'error'"),
    error_detail: default!(Option<CrawledJson>, "'{}'"),
    issue_id: default!(Option<String>, "NULL"),
) -> i64 {
    crate::db::require_writable("ims.log_error");
    let Some(session_id) = session_id else {
        null_argument("session_id")
    };
    let Some(error_type) = error_type.filter(|t| !t.trim().is_empty()) else {
        invalid_parameter("error_type must be a non-empty string")
    };
    let Some(error_message) = error_message else {
        null_argument("error_message")
    };
    let severity = severity.unwrap_or_else(|| "error".into());
    if !ERROR_SEVERITIES.contains(&severity.as_str()) {
        invalid_parameter(format!(
            "severity must be one of {}, got {severity:?}",
            ERROR_SEVERITIES.join(", ")
        ));
    }
    let detail = JsonB(error_detail.map_or_else(|| serde_json::json!({}), |d| d.0));
    if !detail.0.is_object() {
        invalid_parameter(format!(
            "error_detail must be a JSON object, got {}",
            crate::crawl::issue_json::type_name(&detail.0)
        ));
    }
    modify_returning(
        // With the session's start, the row goes straight to its month's
        // partition (NULL for a session the caller cannot see: the trigger
        // then reports it missing).
        "INSERT INTO ims.session_errors (session_id, session_started_at, severity, error_type, error_message, \
                                         error_detail, issue_id) \
         VALUES ($1, (SELECT s.started_at FROM ims.crawl_sessions s WHERE s.session_id = $1), \
                 $2, $3, $4, $5, $6) RETURNING error_id",
        &[
            session_id.into(),
            severity.into(),
            error_type.into(),
            error_message.into(),
            detail.into(),
            issue_id.into(),
        ],
        "logging the error",
        |row| row.get::<i64>(1).value("error_id"),
    )
    .expect("INSERT returns its row")
}

/// Log a search a user ran: the text typed, how it was parsed, with what
/// confidence, and how many results it gave. Returns the query_id.
#[pg_extern(volatile, parallel_unsafe)]
#[allow(clippy::too_many_arguments)]
pub fn log_search(
    original_query: Option<String>,
    parsed_query: default!(Option<CrawledJson>, "NULL"),
    parse_method: default!(Option<String>, "NULL"),
    confidence: default!(Option<f64>, "NULL"),
    result_count: default!(Option<i32>, "NULL"),
    session_id: default!(Option<i64>, "NULL"),
    execution_time_ms: default!(Option<i32>, "NULL"),
) -> i64 {
    crate::db::require_writable("ims.log_search");
    let Some(original_query) = original_query.filter(|q| !q.trim().is_empty()) else {
        invalid_parameter("original_query must be a non-empty string")
    };
    if original_query.len() > crate::limits::MAX_QUERY_BYTES {
        invalid_parameter(format!(
            "original_query is longer than {} bytes",
            crate::limits::MAX_QUERY_BYTES
        ));
    }
    if confidence.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
        invalid_parameter("confidence must be between 0 and 1");
    }
    if result_count.is_some_and(|n| n < 0) || execution_time_ms.is_some_and(|n| n < 0) {
        invalid_parameter("result_count and execution_time_ms must not be negative");
    }
    let user_id = require_identity();
    modify_returning(
        "INSERT INTO ims.search_queries (user_id, session_id, original_query, parsed_query, parse_method, \
                                         confidence, result_count, execution_time_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING query_id",
        &[
            user_id.into(),
            session_id.into(),
            original_query.into(),
            parsed_query.map(|q| JsonB(q.0)).into(),
            parse_method.into(),
            confidence.into(),
            result_count.into(),
            execution_time_ms.into(),
        ],
        "logging the search",
        |row| row.get::<i64>(1).value("query_id"),
    )
    .expect("INSERT returns its row")
}
