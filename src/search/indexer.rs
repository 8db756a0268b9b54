//! The search indexer: a background worker per database that keeps the
//! search index current (`segments`) without anyone scheduling it.
//!
//! It is started by the extension itself: by the first write of issues
//! (`upsert_issue(s)`) or search that finds pending issues while none runs
//! in the database (checked at most every ten seconds per backend), or by
//! `ims.start_search_indexer()`. It runs a round of
//! `ims.update_search_index()` every 0.5 s while writes come (every second
//! otherwise); when the segments hold as many issues as the base, it
//! starts a second worker that rebuilds the base (at most once a minute).
//! It leaves after ten seconds with nothing to do (so that it never keeps
//! a database from being dropped for long), when the extension is dropped,
//! when `ims.search_indexer` is turned off, or on an error (the next write
//! or search starts another). It needs a free `max_worker_processes` slot;
//! without one, searches still find every issue (pending ones are scored
//! one by one).

use std::cell::Cell;
use std::time::{Duration, Instant};

use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags,
};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::SpiOk;
use crate::search::locks::{try_take, IndexLock};

/// `backend_type` of the indexer in `pg_stat_activity`.
const INDEXER: &str = "ims search indexer";
/// `backend_type` of the worker rebuilding the base.
const REBUILDER: &str = "ims search index rebuild";
/// Between rounds while writes come: every search scores the issues
/// written since the last round one by one (a few µs each), and reads the
/// lists of each new segment it meets (a fraction of a millisecond); half
/// a second balances the two (BENCHMARKS.md, 0.8.0). A round of a hundred
/// issues takes 20-60 ms.
const NAPTIME_BUSY: Duration = Duration::from_millis(500);
/// Between rounds when the last one found nothing to do.
const NAPTIME: Duration = Duration::from_secs(1);
/// At most one base rebuild is started per this long (one that fails, on
/// a full disk say, is not started again every round).
const REBUILD_EVERY: Duration = Duration::from_secs(60);
/// With nothing to do for this long, the indexer leaves (a database it is
/// connected to cannot be dropped without FORCE).
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// How often a backend checks that an indexer runs.
const CHECK_EVERY: Duration = Duration::from_secs(10);

static ENABLED: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Register `ims.search_indexer` (from `_PG_init`).
pub fn define_setting() {
    GucRegistry::define_bool_guc(
        c"ims.search_indexer",
        c"Whether the search indexer keeps the search index current in the background.",
        c"Off: nothing starts it and a running one leaves; issues written since the last build are scored one by one until ims.update_search_index() or ims.refresh_search_index() runs.",
        &ENABLED,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// Whether a worker of this type runs in this database.
fn running(backend_type: &str) -> bool {
    read_one::<bool>(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity
                         WHERE backend_type = $1
                           AND datid = (SELECT oid FROM pg_catalog.pg_database
                                         WHERE datname = pg_catalog.current_database()))",
        &[backend_type.into()],
        "looking for the search indexer",
    ) == Some(true)
}

/// Start a worker of this kind for this database, connecting as the
/// extension's owner. False when the server has no free worker slot. It is
/// not restarted when it fails: the next write or search that needs it
/// starts another (an error that repeats does not fill the worker slots).
fn start(kind: &str) -> bool {
    let Some(owner) = read_one::<pg_sys::Oid>(
        "SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'ims_crawler'",
        &[],
        "finding the extension's owner",
    ) else {
        return false;
    };
    let database = unsafe { pg_sys::MyDatabaseId };
    BackgroundWorkerBuilder::new(&format!("{kind} ({})", u32::from(database)))
        .set_type(kind)
        .set_library("ims_crawler")
        .set_function("ims_search_indexer_main")
        .set_argument(database.into_datum())
        .set_extra(&u32::from(owner).to_string())
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(None)
        .load_dynamic()
        .is_ok()
}

thread_local! {
    static LAST_CHECK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Start the indexer if none runs in this database (checked at most every
/// ten seconds per backend; never on a standby, nor when turned off).
pub fn ensure_running() {
    if !ENABLED.get() || unsafe { pg_sys::RecoveryInProgress() } {
        return;
    }
    let due = LAST_CHECK.with(|c| {
        let due = c.get().is_none_or(|t| t.elapsed() >= CHECK_EVERY);
        if due {
            c.set(Some(Instant::now()));
        }
        due
    });
    if due && !running(INDEXER) && !start(INDEXER) {
        debug1!("ims: no free background worker slot for the search indexer");
    }
}

/// Start the search indexer for this database now, if none runs. True if
/// one runs (or was just started).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
pub fn start_search_indexer() -> bool {
    crate::db::require_writable("ims.start_search_indexer");
    if !ENABLED.get() {
        crate::errors::raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "the search indexer is turned off (ims.search_indexer = off)",
            Some("SET ims.search_indexer = on (a superuser), or ALTER SYSTEM and reload."),
        );
    }
    if running(INDEXER) {
        return true;
    }
    if !start(INDEXER) {
        crate::errors::raise(
            PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
            "no free background worker slot for the search indexer",
            Some("Raise max_worker_processes (a restart): the indexer needs one slot, and one more while it rebuilds the base."),
        );
    }
    true
}

/// Entry point of both workers: the indexer's loop, or one rebuild of the
/// base. The argument is the database, the extra the role to connect as.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn ims_search_indexer_main(arg: pg_sys::Datum) {
    // SIGTERM keeps PostgreSQL's handler for workers: it ends the worker at
    // once, in the middle of a round or a rebuild (their transactions roll
    // back), so DROP DATABASE ... WITH (FORCE) and shutdowns do not wait.
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP);
    let database = unsafe { pg_sys::Oid::from_datum(arg, false) };
    let owner = BackgroundWorker::get_extra()
        .parse::<u32>()
        .ok()
        .map(pg_sys::Oid::from);
    BackgroundWorker::connect_worker_to_spi_by_oid(database, owner);
    // Whatever the database or role set: rounds read at READ COMMITTED (a
    // build's snapshot is its statement's), write, and name only pg_catalog.
    BackgroundWorker::transaction(|| {
        Spi::run(
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE;
             SET search_path = pg_catalog, pg_temp",
        )
        .spi_ok("setting up the search indexer");
    });
    if BackgroundWorker::get_name().starts_with(REBUILDER) {
        BackgroundWorker::transaction(|| {
            if installed() {
                crate::operations::views::refresh("ims.mv_search_postings");
            }
        });
        return;
    }
    // One indexer per database: it holds IndexLock::Indexer for its life.
    let first =
        BackgroundWorker::transaction(|| try_take(IndexLock::Indexer, true, Duration::ZERO));
    if !first {
        return; // another indexer runs in this database
    }
    let mut idle_since = Instant::now();
    let mut nap = NAPTIME;
    let mut rebuilt: Option<Instant> = None;
    while BackgroundWorker::wait_latch(Some(nap)) {
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        // (whether the round did anything, whether the base needs a rebuild)
        let busy = BackgroundWorker::transaction(|| {
            if !installed() || !ENABLED.get() {
                return None;
            }
            // A round someone else runs now (ims.update_search_index) does this one's work.
            let round = crate::search::segments::update(Duration::ZERO);
            Some(round.map_or((false, false), |r| {
                (r.indexed > 0 || r.merged > 0, r.rebuild_base)
            }))
        });
        if let Some((_, true)) = busy {
            if rebuilt.is_none_or(|t| t.elapsed() >= REBUILD_EVERY) {
                BackgroundWorker::transaction(|| {
                    if !running(REBUILDER) {
                        start(REBUILDER);
                    }
                });
                rebuilt = Some(Instant::now());
            }
        }
        match busy.map(|(busy, _)| busy) {
            None => return,
            Some(true) => {
                idle_since = Instant::now();
                nap = NAPTIME_BUSY;
            }
            Some(false) if idle_since.elapsed() >= IDLE_EXIT => return,
            Some(false) => nap = NAPTIME,
        }
    }
}

/// Whether the extension (at a version with segments) is installed here.
fn installed() -> bool {
    read_one::<bool>(
        "SELECT pg_catalog.to_regclass('ims_index.search_segments') IS NOT NULL",
        &[],
        "looking for the extension",
    ) == Some(true)
}
