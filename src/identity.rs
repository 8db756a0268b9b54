//! Who the caller is, for row level security.
//!
//! A personal login is the `ims.users` row whose `db_role` is its login role
//! (`session_user`, which `SET ROLE` cannot change). A trusted login may
//! instead assert an id with `ims.set_current_user(id)`: a member of
//! `ims_admin`, or a member of `ims_app` that *this database* trusts through
//! an active `ims.users` row with `role = 'app'` and `db_role` = the login
//! (roles are cluster-wide; trust is per database). An application login
//! acts as nobody until it asserts an identity.
//!
//! The asserted id lives in this backend's memory, which SQL cannot write.
//! By default it lasts for the current transaction only (it ends at COMMIT
//! or ROLLBACK, so a pooled connection never hands it to the next client);
//! `scope => 'session'` keeps it for the connection. It is bound to a random
//! token in the `ims.identity_token` setting (set LOCAL for a transaction
//! scope): `RESET ALL`, `DISCARD ALL`, a rolled-back savepoint or any `SET`
//! of that setting ends it for good (the setting's assign hook forgets the
//! identity the moment its value changes, so setting the old token again
//! brings nothing back). A setting can only end an asserted identity,
//! never create or change one. A deactivated user's asserted identity ends
//! at once.

use std::cell::RefCell;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};

use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::{invalid_parameter, permission_denied, SpiOk};

const TOKEN_SETTING: &CStr = c"ims.identity_token";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    Transaction,
    Session,
}

struct Asserted {
    user_id: i64,
    scope: Scope,
    token: String,
    session_user: pg_sys::Oid,
}

thread_local! {
    static ASSERTED: RefCell<Option<Asserted>> = const { RefCell::new(None) };
}

static XACT_CALLBACK_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Where PostgreSQL keeps the value of `ims.identity_token`.
static mut TOKEN_VALUE: *mut std::ffi::c_char = std::ptr::null_mut();

/// Register `ims.identity_token` (from `_PG_init`) with a hook that ends
/// the asserted identity whenever the setting changes away from its token:
/// SET, RESET, DISCARD ALL, the end of a transaction that set it LOCAL, a
/// rolled-back transaction or savepoint.
pub fn define_setting() {
    // SAFETY: called once per backend from _PG_init; TOKEN_VALUE is ours
    // and only PostgreSQL's GUC code writes it.
    unsafe {
        pg_sys::DefineCustomStringVariable(
            TOKEN_SETTING.as_ptr(),
            c"Binds an identity asserted by ims.set_current_user to this connection.".as_ptr(),
            c"Set by ims.set_current_user; any change of it ends that identity.".as_ptr(),
            &raw mut TOKEN_VALUE,
            c"".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GUC_NOT_IN_SAMPLE as _,
            None,
            Some(token_assigned),
            None,
        );
    }
}

/// The setting's assign hook: a value other than the asserted identity's
/// token ends the identity. Runs inside GUC processing (also while a
/// transaction aborts): no SQL, no error, no allocation that can fail.
#[pg_guard]
unsafe extern "C-unwind" fn token_assigned(
    newval: *const std::ffi::c_char,
    _extra: *mut std::ffi::c_void,
) {
    let new = if newval.is_null() {
        &[][..]
    } else {
        // SAFETY: GUC passes the NUL-terminated new value.
        unsafe { CStr::from_ptr(newval) }.to_bytes()
    };
    ASSERTED.with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            if a.as_ref().is_some_and(|x| x.token.as_bytes() != new) {
                *a = None;
            }
        }
    });
}

/// Forget a transaction-scoped identity when its transaction ends (the
/// LOCAL token setting is reverted by PostgreSQL at the same moment).
#[pg_guard]
unsafe extern "C-unwind" fn forget_at_transaction_end(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PREPARE
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_PARALLEL_ABORT
    ) {
        ASSERTED.with(|a| {
            let mut a = a.borrow_mut();
            if a.as_ref().is_some_and(|x| x.scope == Scope::Transaction) {
                *a = None;
            }
        });
    }
}

fn ensure_xact_callback() {
    if !XACT_CALLBACK_REGISTERED.swap(true, Ordering::Relaxed) {
        // SAFETY: registers a static function for the life of the backend.
        unsafe {
            pg_sys::RegisterXactCallback(Some(forget_at_transaction_end), std::ptr::null_mut())
        };
    }
}

fn token_setting() -> Option<String> {
    // SAFETY: GetConfigOption returns NULL or a pointer to a NUL-terminated
    // string that stays valid until the setting changes; we copy it at once.
    unsafe {
        let p = pg_sys::GetConfigOption(TOKEN_SETTING.as_ptr(), true, false);
        if p.is_null() {
            None
        } else {
            Some(CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }
}

fn random_token() -> String {
    let mut buf = [0u8; 16];
    // SAFETY: buf is a valid, writable 16-byte buffer.
    let ok = unsafe { pg_sys::pg_strong_random(buf.as_mut_ptr().cast(), buf.len()) };
    if !ok {
        crate::errors::raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "could not generate a random identity token",
            None,
        );
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn session_user_oid() -> pg_sys::Oid {
    // SAFETY: plain read of backend state.
    unsafe { pg_sys::GetSessionUserId() }
}

/// Drop any asserted identity and its token.
fn clear_asserted() {
    let had = ASSERTED.with(|a| a.borrow_mut().take().is_some());
    if had {
        Spi::run("SELECT pg_catalog.set_config('ims.identity_token', '', false)")
            .spi_ok("clearing the identity token");
    }
}

/// The id asserted by `set_current_user` in this backend, if still bound
/// (the user may have been deactivated since: see `current_user_id`).
fn asserted_user_id() -> Option<i64> {
    ASSERTED.with(|a| {
        let a = a.borrow();
        let a = a.as_ref()?;
        (a.session_user == session_user_oid()
            && token_setting().as_deref() == Some(a.token.as_str()))
        .then_some(a.user_id)
    })
}

/// True when the login may assert identities in this database: a member of
/// `ims_admin` (superusers are members of every role), or a member of
/// `ims_app` that this database trusts (an active `ims.users` row with
/// `role = 'app'` whose `db_role` is the login).
pub fn login_is_trusted() -> bool {
    read_one::<bool>(
        "SELECT pg_catalog.pg_has_role(session_user, 'ims_admin', 'MEMBER') \
             OR (pg_catalog.pg_has_role(session_user, 'ims_app', 'MEMBER') \
                 AND EXISTS (SELECT 1 FROM ims.users u \
                              WHERE u.db_role = session_user AND u.role = 'app' AND u.is_active))",
        &[],
        "checking role membership",
    )
    .unwrap_or(false)
}

/// An error (23503) unless `user_id` is an ims user the caller sees (row
/// level security hides other users' rows from an ims_user: theirs read as
/// missing).
pub fn require_user(user_id: i64) {
    let seen = read_one::<bool>(
        "SELECT EXISTS (SELECT FROM ims.users u WHERE u.user_id = $1)",
        &[user_id.into()],
        "looking up the ims user",
    );
    if seen != Some(true) {
        crate::errors::does_not_exist(format!("ims user {user_id} does not exist"), None);
    }
}

/// True when the login is an ims administrator (or superuser).
pub fn login_is_admin() -> bool {
    read_one::<bool>(
        "SELECT pg_catalog.pg_has_role(session_user, 'ims_admin', 'MEMBER')",
        &[],
        "checking role membership",
    )
    .unwrap_or(false)
}

/// The ims user the caller acts as: the asserted id while that user is
/// active, else the login's own active `ims.users` row (application logins,
/// `role = 'app'`, act as nobody), else NULL (which row level security
/// matches to nothing). PARALLEL RESTRICTED: parallel workers do not share
/// the asserted identity, so only the leader may evaluate it.
#[pg_extern(stable, parallel_restricted, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn current_user_id() -> Option<i64> {
    match asserted_user_id() {
        Some(id) => read_one::<i64>(
            "SELECT u.user_id FROM ims.users u WHERE u.user_id = $1 AND u.is_active AND u.role <> 'app'",
            &[id.into()],
            "looking up the asserted ims user",
        ),
        None => read_one::<i64>(
            "SELECT u.user_id FROM ims.users u \
              WHERE u.db_role = session_user AND u.is_active AND u.role <> 'app'",
            &[],
            "looking up the login's ims user",
        ),
    }
}

/// Assert the ims user this connection acts for (trusted logins only).
/// `scope` is 'transaction' (the default: it ends at COMMIT/ROLLBACK, safe
/// on pooled connections) or 'session' (until cleared, RESET ALL, DISCARD
/// ALL or disconnect: for dedicated connections only). NULL clears it. Any
/// identity in force is cleared first, so a failed call leaves none.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn set_current_user(user_id: Option<i64>, scope: default!(Option<&str>, "'transaction'")) {
    clear_asserted();
    let scope = match scope.map(str::to_ascii_lowercase).as_deref() {
        Some("transaction") => Scope::Transaction,
        Some("session") => Scope::Session,
        Some(other) => invalid_parameter(format!(
            "scope must be 'transaction' or 'session', got {other:?}"
        )),
        None => crate::errors::null_argument("scope"),
    };
    if !login_is_trusted() {
        permission_denied(
            "this login may not assert an ims identity in this database: only members of ims_admin, \
             or members of ims_app that this database trusts (an active ims.users row with role 'app' \
             and db_role = the login), may; a personal login always acts as its own ims.users row",
        );
    }
    let Some(user_id) = user_id else {
        return;
    };
    let active = read_one::<String>(
        "SELECT CASE WHEN NOT u.is_active THEN 'inactive' WHEN u.role = 'app' THEN 'app' ELSE 'ok' END \
           FROM ims.users u WHERE u.user_id = $1",
        &[user_id.into()],
        "looking up the ims user",
    );
    match active.as_deref() {
        None => crate::errors::does_not_exist(format!("ims user {user_id} does not exist"), None),
        Some("inactive") => invalid_parameter(format!("ims user {user_id} is not active")),
        Some("app") => invalid_parameter(format!(
            "ims user {user_id} is an application login, not an end user"
        )),
        _ => {}
    }
    if scope == Scope::Transaction {
        ensure_xact_callback();
    }
    let token = random_token();
    Spi::run_with_args(
        "SELECT pg_catalog.set_config('ims.identity_token', $1, $2)",
        &[token.clone().into(), (scope == Scope::Transaction).into()],
    )
    .spi_ok("storing the identity token");
    ASSERTED.with(|a| {
        *a.borrow_mut() = Some(Asserted {
            user_id,
            scope,
            token,
            session_user: session_user_oid(),
        })
    });
}
