//! Who the caller is, for row level security.
//!
//! A personal login is the `ims.users` row whose `db_role` is its login role
//! (`session_user`, which `SET ROLE` cannot change). A trusted login (member
//! of `ims_app` or `ims_admin`, e.g. a crawler's connection pool) may instead
//! assert an id with `ims.set_current_user(id)`.
//!
//! The asserted id lives in this backend's memory, which SQL cannot write.
//! It is bound to a random token stored in the `ims.identity_token` setting:
//! `RESET ALL`, `DISCARD ALL` or any `SET` of that setting breaks the binding
//! and the identity falls back to the login's own row. A setting can only
//! clear an asserted identity, never create or change one.

use std::cell::RefCell;
use std::ffi::CStr;

use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::{invalid_parameter, permission_denied, SpiOk};

const TOKEN_SETTING: &CStr = c"ims.identity_token";

struct Asserted {
    user_id: i64,
    token: String,
    session_user: pg_sys::Oid,
}

thread_local! {
    static ASSERTED: RefCell<Option<Asserted>> = const { RefCell::new(None) };
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

/// The id asserted by `set_current_user` in this backend, if still bound.
pub fn asserted_user_id() -> Option<i64> {
    ASSERTED.with(|a| {
        let a = a.borrow();
        let a = a.as_ref()?;
        (a.session_user == session_user_oid()
            && token_setting().as_deref() == Some(a.token.as_str()))
        .then_some(a.user_id)
    })
}

/// True when the login may assert identities: a member of `ims_app` or
/// `ims_admin` (superusers are members of every role).
pub fn login_is_trusted() -> bool {
    read_one::<bool>(
        "SELECT pg_catalog.pg_has_role(session_user, 'ims_app', 'MEMBER') \
             OR pg_catalog.pg_has_role(session_user, 'ims_admin', 'MEMBER')",
        &[],
        "checking role membership",
    )
    .unwrap_or(false)
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

/// The ims user the caller acts as: the asserted id, else the login's own
/// active `ims.users` row, else NULL (which row level security matches to nothing).
#[pg_extern(stable, parallel_safe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn current_user_id() -> Option<i64> {
    asserted_user_id().or_else(|| {
        read_one::<i64>(
            "SELECT u.user_id FROM ims.users u WHERE u.db_role = session_user AND u.is_active",
            &[],
            "looking up the login's ims user",
        )
    })
}

/// Assert the ims user this connection acts for (trusted logins only).
/// NULL clears it. The identity lasts until it is set again, cleared,
/// `RESET ALL`/`DISCARD ALL`, or the connection ends.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn set_current_user(user_id: Option<i64>) {
    if !login_is_trusted() {
        permission_denied(
            "only members of ims_app or ims_admin may assert an ims identity; \
             a personal login always acts as its own ims.users row (db_role)",
        );
    }
    let Some(user_id) = user_id else {
        ASSERTED.with(|a| *a.borrow_mut() = None);
        Spi::run("SELECT pg_catalog.set_config('ims.identity_token', '', false)")
            .spi_ok("clearing the identity token");
        return;
    };
    let active = read_one::<bool>(
        "SELECT u.is_active FROM ims.users u WHERE u.user_id = $1",
        &[user_id.into()],
        "looking up the ims user",
    );
    match active {
        None => invalid_parameter(format!("ims user {user_id} does not exist")),
        Some(false) => invalid_parameter(format!("ims user {user_id} is not active")),
        Some(true) => {}
    }
    let token = random_token();
    Spi::run_with_args(
        "SELECT pg_catalog.set_config('ims.identity_token', $1, false)",
        &[token.clone().into()],
    )
    .spi_ok("storing the identity token");
    ASSERTED.with(|a| {
        *a.borrow_mut() = Some(Asserted {
            user_id,
            token,
            session_user: session_user_oid(),
        })
    });
}
