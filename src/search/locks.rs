//! The search index's own locks: one indexer per database, one round of
//! `segments::update` at a time.
//!
//! They are advisory locks in a key space SQL cannot reach: the SQL
//! functions `pg_advisory_lock` and friends always set the tag's fourth
//! field to 1 or 2, these use `IMS_FIELD`, so no login can take or hold
//! them (before 0.9.0, any login could take the published keys and stall
//! the indexer). Like `pg_advisory_lock` they are released at transaction
//! end (transaction scope) or when the backend exits (session scope), and
//! `pg_locks` shows them as advisory locks with `objsubid` 26989.
//! They are only ever tried, never waited for without bound.

use std::time::{Duration, Instant};

use pgrx::pg_sys;

/// The tag's fourth field: "im", never 1 or 2.
const IMS_FIELD: u16 = 0x696d;

/// What a lock guards.
#[derive(Clone, Copy)]
pub enum IndexLock {
    /// Held for its life by the search indexer of a database.
    Indexer = 1,
    /// Held by a round of `segments::update` for its transaction.
    Round = 2,
}

fn tag(lock: IndexLock) -> pg_sys::LOCKTAG {
    pg_sys::LOCKTAG {
        // SAFETY: a plain read of backend state.
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: 0,
        locktag_field3: lock as u32,
        locktag_field4: IMS_FIELD,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

/// Take `lock` (for the session, or for the transaction) if no other
/// backend holds it, trying for up to `patience`. False when it could not.
pub fn try_take(lock: IndexLock, session: bool, patience: Duration) -> bool {
    let tag = tag(lock);
    let started = Instant::now();
    loop {
        // SAFETY: a valid tag and lock mode; dontWait, so it never sleeps
        // in the lock manager.
        let got = unsafe {
            pg_sys::LockAcquire(
                &tag,
                pg_sys::ExclusiveLock as pg_sys::LOCKMODE,
                session,
                true,
            )
        };
        if got != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL {
            return true;
        }
        if started.elapsed() >= patience {
            return false;
        }
        crate::limits::check_for_interrupts();
        // SAFETY: a plain sleep of 10 ms.
        unsafe { pg_sys::pg_usleep(10_000) };
    }
}
