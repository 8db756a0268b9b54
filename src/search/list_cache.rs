//! The rows of the search index a search reads, decoded, kept by the
//! backend between searches: a frequent word's list is megabytes to fetch
//! from TOAST and decode, and the same words come back query after query
//! (a pooled connection keeps its backend).
//!
//! Entries belong to one build: the base or a segment (`segments`), each
//! known by its statistics row (`''`, which carries an identity of the
//! build: `index_build::Meta`). Every search reads the statistics rows of
//! every source; entries of sources no longer there (a refresh, a merge, a
//! rebuild rolled back, a restore) are dropped; rows read on a miss come
//! with the statistics rows in one statement, so a search never mixes two
//! states of the index. The size is bounded by `ims.search_cache_size` (MB
//! per backend, default 128; 0 turns it off); the least recently used
//! entries go first.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::block_bounds::BlockView;
use crate::search::index_build::{champions_key, usable_meta, Meta};
use crate::search::list_format::{decode, decode_champions, Champions, List, CHAMPIONS};
use crate::search::spellings;

static CACHE_MB: GucSetting<i32> = GucSetting::<i32>::new(128);

/// Register `ims.search_cache_size` (from `_PG_init`). Superuser-only
/// (SUSET): every connection may hold this much, so the server decides
/// (README "Memory"); a login cannot raise its own backend's share.
pub fn define_setting() {
    GucRegistry::define_int_guc(
        c"ims.search_cache_size",
        c"Posting lists ims.search_issues keeps decoded in each backend, in MB (0: none).",
        c"Frequent words' lists are read and decoded once per backend and index build instead of on every search.",
        &CACHE_MB,
        0,
        64 * 1024,
        GucContext::Suset,
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

/// The key of a segment's row listing every issue it holds (`segments`).
pub const COVERS_KEY: &str = "issues:";

/// A row of the index, decoded.
#[derive(Clone)]
pub enum Row {
    List(Rc<CachedList>),
    Champions(Rc<Champions>),
    /// A segment's issues, ascending.
    Issues(Rc<Vec<i64>>),
}

impl Row {
    fn bytes(&self) -> usize {
        match self {
            Row::List(l) => l.bytes(),
            Row::Champions(c) => c.best.len() * 16,
            Row::Issues(docs) => docs.len() * 8,
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

/// The statistics rows of the index's sources: the base (segment 0) and
/// the segments built after it, oldest first (`segments`).
const STATISTICS: &str = "\
SELECT 0::bigint, postings FROM ims.mv_search_postings WHERE term = ''
UNION ALL
SELECT segment, postings FROM ims_index.search_segments WHERE term = ''";

/// These rows of every source (`$1`: keys of the base, `$2`, `$3`: keys and
/// segments to read, NULL: every segment), with every statistics row.
const ROWS: &str = "\
SELECT 0::bigint, term, postings FROM ims.mv_search_postings WHERE term = ANY ($1) OR term = ''
UNION ALL
SELECT 0::bigint, 'small:' || term, postings FROM ims.mv_search_postings
 WHERE term = ANY (ARRAY(SELECT substr(k, 7) FROM unnest($1::text[]) k WHERE k LIKE 'small:%'))
   AND octet_length(postings) <= 65536
UNION ALL
SELECT segment, term, postings FROM ims_index.search_segments
 WHERE (term = ANY ($2) AND ($3::bigint[] IS NULL OR segment = ANY ($3))) OR term = ''
UNION ALL
SELECT segment, 'small:' || term, postings FROM ims_index.search_segments
 WHERE term = ANY (ARRAY(SELECT substr(k, 7) FROM unnest($2::text[]) k WHERE k LIKE 'small:%'))
   AND ($3::bigint[] IS NULL OR segment = ANY ($3)) AND octet_length(postings) <= 65536";

/// One source of the index as a search reads it: its statistics row and
/// the rows asked for that it holds, decoded.
pub struct Source {
    /// 0 for the base.
    pub segment: i64,
    pub meta: Vec<u8>,
    pub rows: HashMap<String, Row>,
}

/// The statistics rows read by one statement, by segment (0: the base);
/// only the base and the segments built after it count (a segment a
/// rebuild replaced may linger until it is deleted), oldest first; none
/// when the base is not built.
fn current(rows: Vec<(i64, Vec<u8>)>) -> Vec<(i64, Vec<u8>)> {
    let Some(base) = rows
        .iter()
        .find(|r| r.0 == 0)
        .and_then(|r| usable_meta(&r.1))
    else {
        return Vec::new();
    };
    let mut out: Vec<(i64, Vec<u8>)> = rows
        .into_iter()
        .filter(|(segment, meta)| {
            *segment == 0 || Meta::decode(meta).is_some_and(|m| m.seq > base.seq)
        })
        .collect();
    out.sort_by_key(|r| r.0);
    out
}

/// The sources of the index (none before the first build), oldest first,
/// with these rows of each (`keys`, and of segments `segment_keys` too),
/// decoded (keys a source lacks are left out), all of one state of the
/// index. Champion lists are the keys starting `top:`, a segment's issues
/// `issues:`; every other key is a posting list. The rows of a spelling
/// group (`spellings`) are made from its members' lists.
pub fn read(keys: &[String], segment_keys: &[String]) -> Vec<Source> {
    fn group_of(key: &str) -> Option<Vec<&str>> {
        spellings::members(key.strip_prefix("top:").unwrap_or(key))
    }
    if !keys
        .iter()
        .chain(segment_keys)
        .any(|k| group_of(k).is_some())
    {
        return read_stored(keys, segment_keys);
    }
    // A group's list is made from its members' lists; its champion list
    // from their champion lists, and the whole lists of those too short to
    // have one (`SMALL`: never a long list's megabytes).
    let stored = |keys: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in keys {
            match (group_of(k), k.strip_prefix("top:")) {
                (None, _) => out.push(k.clone()),
                (Some(_), None) => {
                    out.extend(spellings::spellings(k).into_iter().map(str::to_string))
                }
                (Some(_), Some(group)) => {
                    for m in spellings::spellings(group) {
                        out.push(champions_key(m));
                        out.push(format!("{SMALL}{m}"));
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    };
    let mut sources = read_stored(&stored(keys), &stored(segment_keys));
    let limit = usize::try_from(CACHE_MB.get())
        .unwrap_or(0)
        .saturating_mul(1 << 20);
    GROUPS.with(|g| {
        let mut g = g.borrow_mut();
        g.retain(|(meta, _), _| sources.iter().any(|s| &s.meta == meta));
        for s in &mut sources {
            let extra = if s.segment == 0 {
                &[][..]
            } else {
                segment_keys
            };
            let asked: Vec<&String> = keys.iter().chain(extra).collect();
            for &key in &asked {
                if group_of(key).is_none() {
                    continue;
                }
                let id = (s.meta.clone(), key.clone());
                if !g.contains_key(&id) {
                    let row = match key.strip_prefix("top:") {
                        Some(group) => {
                            group_champions(&spellings::weighted_spellings(group), &s.rows)
                        }
                        None => group_list(&spellings::weighted_spellings(key), &s.rows),
                    };
                    g.insert(id.clone(), row);
                }
                if let Some(row) = g.get(&id).cloned().flatten() {
                    s.rows.insert(key.clone(), row);
                }
            }
            // Members' rows nobody asked for are not part of the answer.
            s.rows.retain(|k, _| asked.contains(&k));
        }
        let bytes: usize = g
            .iter()
            .map(|((_, k), r)| k.len() + r.as_ref().map_or(0, Row::bytes))
            .sum();
        if bytes > limit / 2 {
            g.clear();
        }
    });
    sources
}

/// Key prefix of a term's whole list, read only when it is small: at most
/// 64 KB (`ROWS`), which every list too short for a champion list is (at
/// most `CHAMPIONS` issues of at most 11 bytes).
const SMALL: &str = "small:";

thread_local! {
    /// Spelling groups' rows made by this backend, by source and key
    /// (None: no member is in that source), dropped with their source.
    static GROUPS: RefCell<HashMap<(Vec<u8>, String), Option<Row>>> = RefCell::new(HashMap::new());
}

/// A spelling group's posting list in one source, from its members' lists
/// there (None where it has none).
fn group_list(members: &[(&str, bool)], rows: &HashMap<String, Row>) -> Option<Row> {
    let lists: Vec<(&List, bool)> = members
        .iter()
        .filter_map(|&(m, other)| match rows.get(m) {
            Some(Row::List(l)) => Some((&l.list, other)),
            _ => None,
        })
        .collect();
    if lists.is_empty() {
        return None;
    }
    Some(Row::List(Rc::new(CachedList::new(spellings::merged(
        &lists,
    )))))
}

/// A spelling group's champion list in one source: its best issues are
/// among its members' best (an issue's group impact is one member's), so
/// it is made from their champion lists and short members' whole lists;
/// its document count is the members' sum (issues holding two spellings
/// count twice). None when no member has a champion list there (the
/// group's list is short too).
fn group_champions(members: &[(&str, bool)], rows: &HashMap<String, Row>) -> Option<Row> {
    let mut best: Vec<(u8, i64)> = Vec::new();
    let mut doc_freq = 0u64;
    let mut any_champions = false;
    for &(m, other) in members {
        if let Some(Row::Champions(c)) = rows.get(&champions_key(m)) {
            any_champions = true;
            doc_freq += c.doc_freq;
            best.extend(
                c.best
                    .iter()
                    .map(|&(q, pk)| (spellings::member_impact(q, other), pk)),
            );
        } else if let Some(Row::List(l)) = rows.get(&format!("{SMALL}{m}")) {
            doc_freq += l.list.len() as u64;
            let p = l.list.postings();
            best.extend(
                p.impacts
                    .into_iter()
                    .zip(p.docs)
                    .map(|(q, pk)| (spellings::member_impact(q, other), pk)),
            );
        }
    }
    if !any_champions {
        return None;
    }
    // Each issue once, with its best impact; best first, then by issue_pk.
    best.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
    best.dedup_by_key(|e| e.1);
    best.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    best.truncate(CHAMPIONS);
    Some(Row::Champions(Rc::new(Champions { doc_freq, best })))
}

/// `read` for keys the index stores.
fn read_stored(keys: &[String], segment_keys: &[String]) -> Vec<Source> {
    let what = "reading the search index";
    let metas = current(Spi::connect(|c| {
        crate::db::select_kept(&c, STATISTICS, &[], &[], what)
            .filter_map(|r| Some((r.get::<i64>(1).ok()??, r.get::<Vec<u8>>(2).ok()??)))
            .collect()
    }));
    if metas.is_empty() {
        return Vec::new();
    }
    let wanted = |metas: &[(i64, Vec<u8>)]| -> Vec<Vec<String>> {
        metas
            .iter()
            .map(|(segment, _)| {
                let extra = if *segment == 0 { &[][..] } else { segment_keys };
                keys.iter().chain(extra).cloned().collect()
            })
            .collect()
    };
    let limit = usize::try_from(CACHE_MB.get())
        .unwrap_or(0)
        .saturating_mul(1 << 20);
    // The missing rows come with the statistics rows, in one snapshot: if
    // the index changed since `metas` were read (a round wrote a segment),
    // the rows missing for its new state are asked again, and after a few
    // such changes every row is read again in one statement, so that a
    // search never mixes two states.
    let mut metas = metas;
    let mut attempts = 0;
    let (mut sources, mut want, rows) = loop {
        let want = wanted(&metas);
        let (sources, missing) = CACHE.with(|c| c.borrow_mut().look_up(&metas, &want, limit));
        if missing.iter().all(|m| m.is_empty()) {
            return sources;
        }
        let missing_count: usize = missing.iter().map(Vec::len).sum();
        debug1!(
            "ims.search_issues: {missing_count} of {} index rows not in this backend's cache",
            want.iter().map(Vec::len).sum::<usize>()
        );
        let (read_metas, rows) = read_rows(&metas, &missing);
        if read_metas == metas {
            break (sources, want, Some(rows));
        }
        attempts += 1;
        if read_metas.is_empty() || attempts == 3 {
            break (sources, want, None);
        }
        metas = read_metas;
    };
    let rows = if let Some(rows) = rows {
        rows
    } else {
        // Every row asked, of every source the index has now, whichever
        // they are, in one statement.
        let everything = [
            keys.to_vec(),
            keys.iter().chain(segment_keys).cloned().collect(),
        ];
        let (read_metas, rows) = read_rows(&[], &everything);
        if read_metas.is_empty() {
            return Vec::new();
        }
        want = wanted(&read_metas);
        CACHE.with(|c| c.borrow_mut().look_up(&read_metas, &[], limit));
        sources = read_metas
            .into_iter()
            .map(|(segment, meta)| Source {
                segment,
                meta,
                rows: HashMap::new(),
            })
            .collect();
        rows
    };
    for (segment, key, row) in &rows {
        if let Some(s) = sources.iter_mut().find(|s| s.segment == *segment) {
            s.rows.insert(key.clone(), row.clone());
        }
    }
    if limit > 0 {
        CACHE.with(|c| c.borrow_mut().keep(&sources, rows, &want, limit));
    }
    sources
}

/// The statistics rows and the rows asked, decoded, read by one statement:
/// of source `i` of `metas`, the keys `keys[i]`; with no `metas`, of every
/// source the index has, `keys[0]` of the base and `keys[1]` of each
/// segment.
#[allow(clippy::type_complexity)]
fn read_rows(
    metas: &[(i64, Vec<u8>)],
    keys: &[Vec<String>],
) -> (Vec<(i64, Vec<u8>)>, Vec<(i64, String, Row)>) {
    let what = "reading the search index";
    let every_source = metas.is_empty();
    let keys_of = |segment: i64| -> Option<&Vec<String>> {
        if every_source {
            keys.get(usize::from(segment != 0))
        } else {
            metas
                .iter()
                .position(|m| m.0 == segment)
                .and_then(|i| keys.get(i))
        }
    };
    let base_keys = keys_of(0).cloned().unwrap_or_default();
    let mut segment_keys: Vec<String> = if every_source {
        keys.get(1).cloned().unwrap_or_default()
    } else {
        metas
            .iter()
            .zip(keys)
            .filter(|(m, _)| m.0 != 0)
            .flat_map(|(_, k)| k.iter().cloned())
            .collect()
    };
    segment_keys.sort_unstable();
    segment_keys.dedup();
    // NULL: every segment.
    let segments: Option<Vec<i64>> = (!every_source).then(|| {
        metas
            .iter()
            .zip(keys)
            .filter(|(m, k)| m.0 != 0 && !k.is_empty())
            .map(|(m, _)| m.0)
            .collect()
    });
    let mut statistics = Vec::new();
    let mut rows = Vec::new();
    Spi::connect(|c| {
        let text_array = crate::db::builtin(PgBuiltInOids::TEXTARRAYOID);
        let table = crate::db::select_kept(
            &c,
            ROWS,
            &[
                text_array,
                text_array,
                crate::db::builtin(PgBuiltInOids::INT8ARRAYOID),
            ],
            &[base_keys.into(), segment_keys.into(), segments.into()],
            what,
        );
        for r in table {
            let (Some(segment), Some(key), Some(bytes)) = (
                r.get::<i64>(1).spi_ok(what),
                r.get::<String>(2).spi_ok(what),
                r.get::<&[u8]>(3).spi_ok(what),
            ) else {
                continue;
            };
            if key.is_empty() {
                statistics.push((segment, bytes.to_vec()));
            } else if keys_of(segment).is_some_and(|k| k.contains(&key)) {
                // (Rows asked of another source come along: only those asked are kept.)
                rows.push((segment, key.clone(), decode_row(&key, bytes)));
            }
        }
    });
    let current = current(statistics);
    // Rows of a segment a rebuild replaced are not of the index any more.
    rows.retain(|r| current.iter().any(|m| m.0 == r.0));
    (current, rows)
}

/// A row decoded.
fn decode_row(key: &str, bytes: &[u8]) -> Row {
    if key.starts_with("top:") {
        Row::Champions(Rc::new(decode_champions(bytes)))
    } else if key == COVERS_KEY {
        Row::Issues(Rc::new(decode(bytes).postings().docs))
    } else {
        Row::List(Rc::new(CachedList::new(decode(bytes))))
    }
}

/// What the backend keeps: the rows of each source it read, by the
/// source's statistics row (a build never changes once written).
#[derive(Default)]
struct Cache {
    sources: HashMap<Vec<u8>, HashMap<String, Entry>>,
    clock: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

impl Cache {
    /// The rows of `want[i]` kept for source `i` of `metas` (sources no
    /// longer in the index are dropped first; everything when the cache is
    /// off), and the keys each lacks.
    #[allow(clippy::type_complexity)]
    fn look_up(
        &mut self,
        metas: &[(i64, Vec<u8>)],
        want: &[Vec<String>],
        limit: usize,
    ) -> (Vec<Source>, Vec<Vec<String>>) {
        if limit == 0 {
            self.sources.clear();
        }
        self.sources
            .retain(|meta, _| metas.iter().any(|m| &m.1 == meta));
        self.clock += 1;
        let now = self.clock;
        let mut sources = Vec::with_capacity(metas.len());
        let mut missing = Vec::with_capacity(metas.len());
        for (i, (segment, meta)) in metas.iter().enumerate() {
            let keys = want.get(i).map_or(&[][..], Vec::as_slice);
            let entries = self.sources.entry(meta.clone()).or_default();
            let mut rows = HashMap::with_capacity(keys.len());
            let mut lacks = Vec::new();
            for key in keys {
                match entries.get_mut(key) {
                    Some(e) => {
                        e.used = now;
                        if let Some(row) = &e.row {
                            rows.insert(key.clone(), row.clone());
                        }
                    }
                    None => lacks.push(key.clone()),
                }
            }
            sources.push(Source {
                segment: *segment,
                meta: meta.clone(),
                rows,
            });
            missing.push(lacks);
        }
        (sources, missing)
    }

    /// Keep the rows read and the keys each source lacks, then drop the
    /// least recently used entries past `limit` bytes (block views made
    /// since they were kept count too).
    fn keep(
        &mut self,
        sources: &[Source],
        rows: Vec<(i64, String, Row)>,
        want: &[Vec<String>],
        limit: usize,
    ) {
        let used = self.clock;
        for (segment, key, row) in rows {
            if let Some(s) = sources.iter().find(|s| s.segment == segment) {
                let entries = self.sources.entry(s.meta.clone()).or_default();
                entries.insert(
                    key,
                    Entry {
                        row: Some(row),
                        used,
                    },
                );
            }
        }
        // Keys a source lacks are remembered too: a word nobody wrote stays unread.
        for (s, keys) in sources.iter().zip(want) {
            let entries = self.sources.entry(s.meta.clone()).or_default();
            for key in keys {
                entries
                    .entry(key.clone())
                    .or_insert(Entry { row: None, used });
            }
        }
        let mut total: usize = self
            .sources
            .values()
            .flat_map(|e| e.iter())
            .map(|(k, e)| e.bytes(k))
            .sum();
        if total <= limit {
            return;
        }
        let mut by_age: Vec<(u64, Vec<u8>, String)> = self
            .sources
            .iter()
            .flat_map(|(meta, entries)| {
                entries
                    .iter()
                    .map(|(k, e)| (e.used, meta.clone(), k.clone()))
            })
            .collect();
        by_age.sort_unstable();
        for (_, meta, key) in by_age {
            if total <= limit {
                break;
            }
            if let Some(e) = self.sources.get_mut(&meta).and_then(|s| s.remove(&key)) {
                total = total.saturating_sub(e.bytes(&key));
            }
        }
    }
}
