//! Small SPI helpers. Reads go through `Spi::connect` (read-only SPI):
//! pgrx's `Spi::get_one`/`get_two` ask for a transaction id first, which
//! wastes one per call on a primary and fails on a hot standby.

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiTupleTable};

use crate::errors::{raise, SpiOk};

/// Refuse to start writing on a hot standby or in a read-only transaction,
/// with the SQLSTATE PostgreSQL uses for that (25006), rather than failing
/// halfway with an internal error.
pub fn require_writable(function: &str) {
    // SAFETY: plain reads of backend state.
    let (recovery, read_only) = unsafe { (pg_sys::RecoveryInProgress(), pg_sys::XactReadOnly) };
    if recovery || read_only {
        let place = if recovery {
            "on a hot standby"
        } else {
            "in a read-only transaction"
        };
        raise(
            PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
            format!("{function} writes data and cannot run {place}"),
            Some("Run it on the primary; searches, views and statistics work on standbys."),
        );
    }
}

thread_local! {
    /// Plans kept for this backend's life, by statement text (leaked: a
    /// few, and not to be freed by thread-local destructors at exit).
    static KEPT: RefCell<HashMap<&'static str, &'static OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

/// Run a read-only statement through a plan prepared once per backend and
/// kept (`SPI_keepplan`; PostgreSQL re-plans it when what it reads
/// changes): for the few statements every search runs, where parsing and
/// planning cost more than running them. Only for statements whose generic
/// plan suits any parameter value: that plan is the one used (left to
/// choose, PostgreSQL plans again on every call while a plan for the
/// call's values looks cheaper, about 0.2 ms a search).
pub fn select_kept<'conn>(
    c: &SpiClient<'conn>,
    sql: &'static str,
    arg_types: &[PgOid],
    args: &[DatumWithOid],
    what: &str,
) -> SpiTupleTable<'conn> {
    let plan = match KEPT.with(|k| k.borrow().get(sql).copied()) {
        Some(plan) => plan,
        None => {
            let plan: &'static OwnedPreparedStatement =
                Box::leak(Box::new(c.prepare(sql, arg_types).spi_ok(what).keep()));
            KEPT.with(|k| k.borrow_mut().insert(sql, plan));
            plan
        }
    };
    let _generic = GenericPlans::force();
    c.select(plan, None, args).spi_ok(what)
}

/// `plan_cache_mode = force_generic_plan` until dropped (also when an
/// error unwinds through it), then the session's own setting again.
struct GenericPlans(std::ffi::c_int);

impl GenericPlans {
    fn force() -> GenericPlans {
        // SAFETY: the GUC's variable, read and set by this backend only.
        unsafe {
            let was = pg_sys::plan_cache_mode;
            pg_sys::plan_cache_mode =
                pg_sys::PlanCacheMode::PLAN_CACHE_MODE_FORCE_GENERIC_PLAN as std::ffi::c_int;
            GenericPlans(was)
        }
    }
}

impl Drop for GenericPlans {
    fn drop(&mut self) {
        // SAFETY: as in `force`.
        unsafe { pg_sys::plan_cache_mode = self.0 }
    }
}

/// A built-in type, as `select_kept` takes argument types.
pub fn builtin(oid: PgBuiltInOids) -> PgOid {
    PgOid::BuiltIn(oid)
}

/// The first column of the first row of a read-only query (None: no row, or NULL).
pub fn read_one<T: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
    what: &str,
) -> Option<T> {
    Spi::connect(|c| {
        let t = c.select(sql, Some(1), args).spi_ok(what);
        if t.is_empty() {
            None
        } else {
            t.first().get_one::<T>().spi_ok(what)
        }
    })
}

/// The first two columns of the first row of a read-only query.
pub fn read_two<A: FromDatum + IntoDatum, B: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
    what: &str,
) -> (Option<A>, Option<B>) {
    Spi::connect(|c| {
        let t = c.select(sql, Some(1), args).spi_ok(what);
        if t.is_empty() {
            (None, None)
        } else {
            t.first().get_two::<A, B>().spi_ok(what)
        }
    })
}

/// Run a data-modifying statement with `RETURNING` and give its first row to
/// `read`. Unlike `Spi::get_one` (which asks SPI for one row), this lets the
/// statement run to completion: with a row limit, PostgreSQL stops the
/// executor early and statement-level AFTER triggers (the audit log) never fire.
pub fn modify_returning<R>(
    sql: &str,
    args: &[DatumWithOid],
    what: &str,
    read: impl FnOnce(&pgrx::spi::SpiHeapTupleData) -> R,
) -> Option<R> {
    Spi::connect_mut(|c| {
        let table = c.update(sql, None, args).spi_ok(what);
        if table.is_empty() {
            return None;
        }
        let row = table.first().get_heap_tuple().spi_ok(what)?;
        Some(read(&row))
    })
}

/// Run `write` with triggers and foreign key checks off
/// (`session_replication_role = replica`, for this transaction), then put
/// the setting back. Only for statements whose integrity the caller has
/// already made sure of, holding locks on every row they reference, and
/// that do themselves what the skipped triggers would do. (Each change of
/// the setting makes the backend re-plan its cached statements: cheap next
/// to a batch, but not free.)
pub fn without_triggers<T>(write: impl FnOnce() -> T) -> T {
    let previous = read_one::<String>(
        "SELECT pg_catalog.current_setting('session_replication_role')",
        &[],
        "reading session_replication_role",
    )
    .unwrap_or_else(|| "origin".into());
    let set = |role: &str| {
        Spi::run_with_args(
            "SELECT pg_catalog.set_config('session_replication_role', $1, true)",
            &[role.into()],
        )
        .spi_ok("setting session_replication_role")
    };
    set("replica");
    let result = write();
    set(&previous);
    result
}
