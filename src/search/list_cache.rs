//! The rows of the search index a search reads, decoded, kept by the
//! backend between searches: a frequent word's list is megabytes to fetch
//! from TOAST and decode, and the same words come back query after query
//! (a pooled connection keeps its backend).
//!
//! Entries belong to one build of the index. Every search reads the
//! statistics row (`''` of `ims.mv_search_postings`, which records the
//! build's snapshot and so differs from build to build); when it differs
//! from the one the entries came with (a refresh, a refresh rolled back, a
//! restore), the cache is emptied first. The size is bounded by
//! `ims.search_cache_size` (MB per backend, default 128; 0 turns it off); the least
//! recently used entries go first.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::block_bounds::BlockView;
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
        1 << 20,
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
}

/// A row of the index, decoded.
#[derive(Clone)]
pub enum Row {
    List(Rc<CachedList>),
    Champions(Rc<Champions>),
}

struct Entry {
    /// None: the index has no such row.
    row: Option<Row>,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Cache {
    /// The statistics row of the build the entries belong to.
    build: Vec<u8>,
    entries: HashMap<String, Entry>,
    bytes: usize,
    clock: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

const STATISTICS: &str = "SELECT postings FROM ims.mv_search_postings WHERE term = ''";
const ROWS: &str = "SELECT term, postings FROM ims.mv_search_postings WHERE term = ANY ($1)";

/// The statistics row (None before the first build) and these rows of the
/// index, decoded (keys the index lacks are left out). Champion lists are
/// the keys starting `top:`; every other key is a posting list.
pub fn read(keys: &[String]) -> (Option<Vec<u8>>, HashMap<String, Row>) {
    let what = "reading the search index";
    let Some(build) = Spi::connect(|c| {
        let t = crate::db::select_kept(&c, STATISTICS, &[], &[], what);
        (!t.is_empty())
            .then(|| t.first().get_one::<Vec<u8>>().spi_ok(what))
            .flatten()
    }) else {
        return (None, HashMap::new());
    };
    let limit = usize::try_from(CACHE_MB.get()).unwrap_or(0) << 20;
    let mut found = HashMap::with_capacity(keys.len());
    let mut missing = Vec::new();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.build != build {
            *c = Cache {
                build: build.clone(),
                ..Cache::default()
            };
        }
        c.clock += 1;
        let now = c.clock;
        for key in keys {
            match c.entries.get_mut(key) {
                Some(e) => {
                    e.used = now;
                    if let Some(row) = &e.row {
                        found.insert(key.clone(), row.clone());
                    }
                }
                None => missing.push(key.clone()),
            }
        }
    });
    if missing.is_empty() {
        return (Some(build), found);
    }
    debug1!("ims.search_issues: {} of {} index rows not in this backend's cache", missing.len(), keys.len());
    let mut rows: Vec<(String, Option<Row>, usize)> = Spi::connect(|c| {
        crate::db::select_kept(
            &c,
            ROWS,
            &[PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID)],
            &[missing.clone().into()],
            what,
        )
        .filter_map(|r| {
            let key = r.get::<String>(1).spi_ok(what)?;
            let bytes = r.get::<&[u8]>(2).spi_ok(what)?;
            let (row, size) = decode_row(&key, bytes);
            Some((key, Some(row), size))
        })
        .collect()
    });
    for (key, row, _) in &rows {
        if let Some(row) = row {
            found.insert(key.clone(), row.clone());
        }
    }
    // Keys the index lacks are remembered too: a word nobody wrote stays unread.
    for key in missing {
        if !found.contains_key(&key) {
            rows.push((key, None, 0));
        }
    }
    if limit > 0 {
        CACHE.with(|c| c.borrow_mut().keep(rows, limit));
    }
    (Some(build), found)
}

/// A row decoded, and about how much memory it takes with its block view.
fn decode_row(key: &str, bytes: &[u8]) -> (Row, usize) {
    if key.starts_with("top:") {
        let c = decode_champions(bytes);
        let size = c.best.len() * 16;
        return (Row::Champions(Rc::new(c)), size);
    }
    let list = decode(bytes);
    // The block view, if made: 8 + 2 bytes a block of 64 issues.
    let view = list.last_doc().map_or(0, |d| (d.max(0) as usize >> 6) * 10);
    let size = list.heap_bytes() + view;
    (Row::List(Rc::new(CachedList::new(list))), size)
}

impl Cache {
    /// Keep these rows, then drop the least recently used past `limit` bytes.
    fn keep(&mut self, rows: Vec<(String, Option<Row>, usize)>, limit: usize) {
        let now = self.clock;
        for (key, row, size) in rows {
            let bytes = size + key.len() + 64;
            self.bytes += bytes;
            if let Some(old) = self.entries.insert(key, Entry { row, bytes, used: now }) {
                self.bytes -= old.bytes;
            }
        }
        if self.bytes > limit {
            let mut by_age: Vec<(u64, String)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.used, k.clone()))
                .collect();
            by_age.sort_unstable();
            for (_, key) in by_age {
                if self.bytes <= limit {
                    break;
                }
                if let Some(e) = self.entries.remove(&key) {
                    self.bytes -= e.bytes;
                }
            }
        }
    }
}
