//! The rows of the search index a search reads, decoded, kept by the
//! backend between searches: a frequent word's list is megabytes to fetch
//! from TOAST and decode, and the same words come back query after query
//! (a pooled connection keeps its backend).
//!
//! Entries belong to one build of the index. Every search reads the
//! statistics row (`''` of `ims.mv_search_postings`, which carries an
//! identity of the build: `index_build::Meta`); when it differs
//! from the one the entries came with (a refresh, a refresh rolled back, a
//! restore), the cache is emptied first; rows read on a miss come with the
//! statistics row in one statement, so a search never mixes two builds.
//! The size is bounded by `ims.search_cache_size` (MB per backend, default
//! 128; 0 turns it off); the least recently used entries go first.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::block_bounds::BlockView;
use crate::search::index_build::STATISTICS_SQL;
use crate::search::list_format::{decode, decode_champions, Champions, List};

static CACHE_MB: GucSetting<i32> = GucSetting::<i32>::new(128);

/// Register `ims.search_cache_size` (from `_PG_init`).
pub fn define_setting() {
    GucRegistry::define_int_guc(
        c"ims.search_cache_size",
        c"Posting lists ims.search_issues keeps decoded in each backend, in MB (0: none).",
        c"Frequent words' lists are read and decoded once per backend and index build instead of on every search.",
        &CACHE_MB,
        0,
        64 * 1024,
        GucContext::Userset,
        GucFlags::UNIT_MB,
    );
}

/// A posting list as searches use it; its block view is made on first use.
pub struct CachedList {
    pub list: List,
    view: OnceCell<BlockView>,
}

impl CachedList {
    pub fn new(list: List) -> CachedList {
        CachedList {
            list,
            view: OnceCell::new(),
        }
    }

    pub fn view(&self) -> &BlockView {
        self.view.get_or_init(|| BlockView::of(&self.list))
    }

    /// The memory the list and its view, if made, take.
    fn bytes(&self) -> usize {
        self.list.heap_bytes() + self.view.get().map_or(0, BlockView::heap_bytes)
    }
}

/// A row of the index, decoded.
#[derive(Clone)]
pub enum Row {
    List(Rc<CachedList>),
    Champions(Rc<Champions>),
}

impl Row {
    fn bytes(&self) -> usize {
        match self {
            Row::List(l) => l.bytes(),
            Row::Champions(c) => c.best.len() * 16,
        }
    }
}

struct Entry {
    /// None: the index has no such row.
    row: Option<Row>,
    used: u64,
}

impl Entry {
    fn bytes(&self, key: &str) -> usize {
        key.len() + 64 + self.row.as_ref().map_or(0, Row::bytes)
    }
}

#[derive(Default)]
struct Cache {
    /// The statistics row of the build the entries belong to.
    build: Vec<u8>,
    entries: HashMap<String, Entry>,
    clock: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

const ROWS: &str = "SELECT term, postings FROM ims.mv_search_postings WHERE term = ANY ($1)";

/// The statistics row (None before the first build) and these rows of the
/// index, decoded (keys the index lacks are left out), all of one build.
/// Champion lists are the keys starting `top:`; every other key is a
/// posting list.
pub fn read(keys: &[String]) -> (Option<Vec<u8>>, HashMap<String, Row>) {
    let what = "reading the search index";
    let Some(build) = Spi::connect(|c| {
        let t = crate::db::select_kept(&c, STATISTICS_SQL, &[], &[], what);
        (!t.is_empty())
            .then(|| t.first().get_one::<Vec<u8>>().spi_ok(what))
            .flatten()
    }) else {
        return (None, HashMap::new());
    };
    let limit = usize::try_from(CACHE_MB.get()).unwrap_or(0).saturating_mul(1 << 20);
    let (mut found, missing) = CACHE.with(|c| c.borrow_mut().look_up(&build, keys, limit));
    if missing.is_empty() {
        return (Some(build), found);
    }
    debug1!(
        "ims.search_issues: {} of {} index rows not in this backend's cache",
        missing.len(),
        keys.len()
    );
    // The missing rows come with the statistics row, in one snapshot: if
    // the index was rebuilt since `build` was read, every row is read again
    // (in one statement), so that a search never mixes two builds.
    let (read_build, rows) = read_rows(&missing);
    let (build, rows) = match read_build {
        Some(b) if b == build => (build, rows),
        _ => {
            let (read_build, rows) = read_rows(keys);
            let Some(build) = read_build else {
                return (None, HashMap::new());
            };
            found.clear();
            CACHE.with(|c| c.borrow_mut().look_up(&build, &[], limit));
            (build, rows)
        }
    };
    for (key, row) in &rows {
        found.insert(key.clone(), row.clone());
    }
    // Keys the index lacks are remembered too: a word nobody wrote stays unread.
    let absent: Vec<String> = keys.iter().filter(|k| !found.contains_key(*k)).cloned().collect();
    if limit > 0 {
        CACHE.with(|c| c.borrow_mut().keep(rows, absent, limit));
    }
    (Some(build), found)
}

/// These rows of the index, decoded, and the statistics row, read by one
/// statement.
fn read_rows(keys: &[String]) -> (Option<Vec<u8>>, Vec<(String, Row)>) {
    let what = "reading the search index";
    let mut with_statistics = keys.to_vec();
    with_statistics.push(String::new());
    let mut build = None;
    let mut rows = Vec::with_capacity(keys.len());
    Spi::connect(|c| {
        let table = crate::db::select_kept(
            &c,
            ROWS,
            &[crate::db::builtin(PgBuiltInOids::TEXTARRAYOID)],
            &[with_statistics.into()],
            what,
        );
        for r in table {
            let (Some(key), Some(bytes)) = (
                r.get::<String>(1).spi_ok(what),
                r.get::<&[u8]>(2).spi_ok(what),
            ) else {
                continue;
            };
            if key.is_empty() {
                build = Some(bytes.to_vec());
            } else {
                rows.push((key.clone(), decode_row(&key, bytes)));
            }
        }
    });
    (build, rows)
}

/// A row decoded.
fn decode_row(key: &str, bytes: &[u8]) -> Row {
    if key.starts_with("top:") {
        Row::Champions(Rc::new(decode_champions(bytes)))
    } else {
        Row::List(Rc::new(CachedList::new(decode(bytes))))
    }
}

impl Cache {
    /// The rows of `keys` kept for build `build` (the cache is emptied
    /// first if it holds another build's, or if it is turned off), and the
    /// keys it lacks.
    fn look_up(
        &mut self,
        build: &[u8],
        keys: &[String],
        limit: usize,
    ) -> (HashMap<String, Row>, Vec<String>) {
        if self.build != build || limit == 0 {
            *self = Cache {
                build: build.to_vec(),
                ..Cache::default()
            };
        }
        self.clock += 1;
        let now = self.clock;
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match self.entries.get_mut(key) {
                Some(e) => {
                    e.used = now;
                    if let Some(row) = &e.row {
                        found.insert(key.clone(), row.clone());
                    }
                }
                None => missing.push(key.clone()),
            }
        }
        (found, missing)
    }

    /// Keep these rows and the keys the index lacks, then drop the least
    /// recently used entries past `limit` bytes (block views made since
    /// they were kept count too).
    fn keep(&mut self, rows: Vec<(String, Row)>, absent: Vec<String>, limit: usize) {
        let used = self.clock;
        let rows = rows.into_iter().map(|(k, r)| (k, Some(r)));
        for (key, row) in rows.chain(absent.into_iter().map(|k| (k, None))) {
            self.entries.insert(key, Entry { row, used });
        }
        let mut total: usize = self.entries.iter().map(|(k, e)| e.bytes(k)).sum();
        if total <= limit {
            return;
        }
        let mut by_age: Vec<(u64, String)> =
            self.entries.iter().map(|(k, e)| (e.used, k.clone())).collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            if total <= limit {
                break;
            }
            if let Some(e) = self.entries.remove(&key) {
                total = total.saturating_sub(e.bytes(&key));
            }
        }
    }
}
