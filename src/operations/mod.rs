//! What a DBA and cron run: statistics, retention, monthly partitions,
//! materialized view refreshes, and the hook that makes plain restores work.
//! Every maintenance run is recorded in the audit log (`record_run`), so
//! `ims.health` can tell when each last ran.

use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::{raise, SpiOk};

pub mod partitions;
pub mod restore;
pub mod retention;
pub mod stats;
pub mod views;

/// Note that maintenance task `task` just ran, with optional details.
pub fn record_run(task: &str, detail: Option<pgrx::JsonB>) {
    Spi::run_with_args(
        "INSERT INTO ims.audit_log (action, table_name, new_values) \
         VALUES ('MAINTENANCE', $1, coalesce($2, '{}'::jsonb))",
        &[task.into(), detail.into()],
    )
    .spi_ok("recording a maintenance run");
}

/// How long one attempt to lock the session tables waits (well below the
/// default deadlock_timeout of 1 s), and how many attempts are made.
const LOCK_WAIT_MS: i32 = 50;
const LOCK_ATTEMPTS: u32 = 100;

/// Lock the session tables for a partition change (see
/// `ims.lock_session_tables`): all at once, retried while crawlers hold
/// them, so that neither side ever deadlocks. Gives up with 55P03 after
/// about 16 s of busy tables.
pub fn lock_session_tables() {
    // A database still on an older version of the extension (before ALTER
    // EXTENSION UPDATE, or while an old install script runs) has no such
    // function: it changes partitions as that version did.
    let available = read_one::<bool>(
        "SELECT pg_catalog.to_regprocedure('ims.lock_session_tables(integer)') IS NOT NULL",
        &[],
        "looking for ims.lock_session_tables",
    );
    if available != Some(true) {
        return;
    }
    for attempt in 0..LOCK_ATTEMPTS {
        let locked = read_one::<bool>(
            "SELECT ims.lock_session_tables($1)",
            &[LOCK_WAIT_MS.into()],
            "locking the session tables",
        );
        if locked == Some(true) {
            return;
        }
        crate::limits::check_for_interrupts();
        // Let the crawlers that hold them finish (a little longer each time).
        let pause_ms = 20 + 10 * u64::from(attempt.min(10));
        // SAFETY: plain sleep; interrupts are checked after it.
        unsafe { pg_sys::pg_usleep((pause_ms * 1000) as std::ffi::c_long) };
        crate::limits::check_for_interrupts();
    }
    raise(
        PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
        "could not lock the session tables to change monthly partitions: crawlers kept them busy",
        Some("Run it again when crawling is quieter; nothing was changed."),
    );
}
