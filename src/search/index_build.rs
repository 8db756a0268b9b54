//! The posting lists `ims.search_issues` ranks from: the materialized view
//! `ims.mv_search_postings`, one row per term with every issue that holds
//! it and its one-byte BM25 impact (see `ranking`), plus one row per
//! product, status and priority value (`product:openframe`) for filters.
//!
//! The view is a snapshot, rebuilt by `ims.refresh_search_index()`; the
//! issues written since are indexed into segments (`segments`). Every
//! write to an issue's searchable content stamps the issue with the
//! writing transaction's id (`issues.search_version`, set by a trigger, or
//! by the upsert as the trigger would). Each build (base or segment)
//! records the snapshot it took before reading: an issue stamped by a
//! transaction that snapshot did not see committed may be missing from the
//! lists or be there in an older form, so searches score the issues
//! pending since the newest build from their stored vectors instead, and
//! skip them in the lists. Any write a build did not see was made by such a
//! transaction, so nothing is lost between builds.
//!
//! Row `''` holds the corpus statistics and that snapshot; `top:<term>` rows
//! hold champion lists. Formats: `list_format`.

use std::collections::HashMap;
use std::sync::OnceLock;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

use crate::db::read_two;
use crate::errors::{SpiOk, SpiValue};
use crate::search::list_format::{doc_freq, ListBuilder};
use crate::search::ranking::{impact, FIELD_WEIGHTS};
use crate::search::tsvector::for_each_lexeme;

/// Of the statistics row and the lists (see `list_format`). Version 4
/// adds the build's whole snapshot and its place among builds (`seq`);
/// versions 2 and 3 are still read.
const FORMAT_VERSION: u8 = 4;
/// Issues read per cursor fetch while building.
const BUILD_FETCH: i64 = 2000;

/// The transactions a build saw: every stamp below `xmax` and not in `xip`
/// was committed (or aborted) before it read the issues.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub xmin: u64,
    pub xmax: u64,
    pub xip: Vec<u64>,
}

impl Snapshot {
    /// `pg_snapshot` text: `xmin:xmax:xip,xip`.
    pub fn parse(text: &str) -> Option<Snapshot> {
        let mut parts = text.splitn(3, ':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let xip = match parts.next()? {
            "" => Vec::new(),
            list => list
                .split(',')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?,
        };
        Some(Snapshot { xmin, xmax, xip })
    }

    /// Where this snapshot falls among snapshots taken at other times (in
    /// any backend): a later one has a larger xmax, or the same xmax and
    /// fewer transactions running (those still running then are a subset),
    /// so this key orders them as they were taken, and equal keys are equal
    /// snapshots. (Under REPEATABLE READ a build's snapshot is its
    /// transaction's: it takes its place as of then.)
    pub fn order(&self) -> u64 {
        (self.xmax << 16) | (0xFFFF - (self.xip.len() as u64).min(0xFFFF))
    }

    /// The `xip` list as text, as the pending predicate takes it.
    pub fn xip_text(&self) -> Vec<String> {
        self.xip.iter().map(u64::to_string).collect()
    }
}

/// Corpus statistics and the snapshot the lists were built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub docs: u64,
    pub avg_length: f64,
    /// Issues whose stamps this snapshot did not see as committed are
    /// pending (scored from their vectors).
    pub snapshot: Snapshot,
    /// The cluster that built the lists (for diagnosis only: pg_upgrade
    /// gives the copy another system identifier but carries the transaction
    /// ids over, so its lists and stamps stay valid).
    pub system_id: u64,
    /// Different for every build (0 in rows of format 2), so that the row
    /// tells builds apart even when their statistics agree (backends key
    /// their decoded lists by it: `list_cache`).
    pub build_id: u64,
    /// The build's place in the order of builds, its snapshot's
    /// `Snapshot::order` (0 before format 4): a later build's copy of an
    /// issue replaces an earlier one's.
    pub seq: u64,
}

impl Meta {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT_VERSION];
        let s = &self.snapshot;
        for word in [self.docs, self.avg_length.to_bits(), s.xmin, self.system_id]
            .into_iter()
            .chain([self.build_id, self.seq, s.xmax, s.xip.len() as u64])
            .chain(s.xip.iter().copied())
        {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    pub fn decode(b: &[u8]) -> Option<Meta> {
        let words = b.len().checked_sub(1).filter(|n| n % 8 == 0)? / 8;
        let word = |i: usize| u64::from_le_bytes(b[1 + 8 * i..9 + 8 * i].try_into().unwrap());
        match (b[0], words) {
            (2, 4) | (3, 5) => {}
            (4, n) if n >= 8 && word(7).checked_add(8) == Some(n as u64) => {}
            _ => return None,
        }
        let xmin = word(2);
        let (seq, snapshot) = if b[0] == 4 {
            let xip = (8..words).map(word).collect();
            (
                word(5),
                Snapshot {
                    xmin,
                    xmax: word(6),
                    xip,
                },
            )
        } else {
            (
                0,
                Snapshot {
                    xmin,
                    xmax: xmin,
                    xip: Vec::new(),
                },
            )
        };
        Some(Meta {
            docs: word(0),
            avg_length: f64::from_bits(word(1)),
            snapshot,
            system_id: word(3),
            build_id: if b[0] >= 3 { word(4) } else { 0 },
            seq,
        })
    }
}

/// The posting-list key of a filter value: `product:openframe`. The
/// tokenizer splits words at ':', so no term looks like this.
pub fn attribute_key(field: &str, value: &str) -> String {
    format!("{field}:{value}")
}

/// The longest filter key a build indexes: far below a btree entry's
/// limit (2,704 bytes), above any value `ims.issues`' CHECK constraints
/// accept (256 bytes, lowercased).
pub const MAX_ATTRIBUTE_KEY_BYTES: usize = 1024;

/// The champion-list key of a term.
pub fn champions_key(term: &str) -> String {
    format!("top:{term}")
}

/// An identity for one build: the time in nanoseconds mixed with the
/// backend's process id (two builds in one nanosecond are in two backends).
pub fn build_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 44)
}

/// The statistics row of the search index.
pub const STATISTICS_SQL: &str = "SELECT postings FROM ims.mv_search_postings WHERE term = ''";

/// This cluster's system identifier.
pub fn system_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        crate::db::read_one::<i64>(
            "SELECT system_identifier FROM pg_catalog.pg_control_system()",
            &[],
            "reading the system identifier",
        )
        .unwrap_or(0) as u64
    })
}

/// The columns a build reads of each issue, in issue_pk order.
pub const BUILD_COLUMNS: &str =
    "SELECT issue_pk, search_vector, lower(product), lower(status), lower(priority) FROM ims.issues i";

/// The snapshot of this statement and its place in the order of builds.
pub fn take_snapshot() -> (Snapshot, u64) {
    let text = crate::db::read_one::<String>(
        "SELECT pg_catalog.pg_current_snapshot()::text",
        &[],
        "taking the build's snapshot",
    );
    let snapshot = text
        .as_deref()
        .and_then(Snapshot::parse)
        .unwrap_or_default();
    let order = snapshot.order();
    (snapshot, order)
}

/// Build the posting lists from every issue's search vector (the query of
/// `ims.mv_search_postings`).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_postings_build(
) -> TableIterator<'static, (name!(term, String), name!(postings, Vec<u8>))> {
    // Taken before reading: any write the read misses is one this snapshot
    // did not see committed.
    let (snapshot, seq) = take_snapshot();
    let (docs, total_length) = read_two::<i64, i64>(
        "SELECT count(*), coalesce(sum(pg_catalog.length(search_vector)), 0)::bigint
           FROM ims.issues WHERE search_vector IS NOT NULL",
        &[],
        "measuring the corpus",
    );
    let docs = docs.unwrap_or(0).max(0) as u64;
    let avg_length = total_length.unwrap_or(0) as f64 / docs.max(1) as f64;

    let built = build_lists(
        &format!("{BUILD_COLUMNS} WHERE search_vector IS NOT NULL ORDER BY issue_pk"),
        &[],
        avg_length.max(1.0) as f32,
    );
    let meta = Meta {
        docs,
        avg_length,
        snapshot,
        system_id: system_id(),
        build_id: build_id(),
        seq,
    };
    TableIterator::new(rows_of(&meta, built.lists))
}

/// The rows of one build: its statistics row, then each list and champion
/// list.
pub fn rows_of(meta: &Meta, lists: HashMap<Vec<u8>, ListBuilder>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::with_capacity(lists.len() + 1);
    out.push((String::new(), meta.encode()));
    for (key, list) in lists {
        let key = String::from_utf8_lossy(&key).into_owned();
        if let Some(c) = list.champions() {
            out.push((champions_key(&key), c));
        }
        out.push((key, list.finish()));
    }
    out
}

/// What a build read: every list, and the issues it read (ascending), of
/// which `docs` had a search vector of `total_length` lexemes in all.
pub struct Built {
    pub lists: HashMap<Vec<u8>, ListBuilder>,
    pub read: Vec<i64>,
    pub docs: u64,
    pub total_length: u64,
}

/// Every term's and filter value's list, from the stored vector and
/// attributes of the issues `sql` reads (`BUILD_COLUMNS`, in issue_pk
/// order), through a cursor.
pub fn build_lists(sql: &str, args: &[DatumWithOid], avg_length: f32) -> Built {
    let mut built = Built {
        lists: HashMap::new(),
        read: Vec::new(),
        docs: 0,
        total_length: 0,
    };
    let lists = &mut built.lists;
    let mut add = |key: &[u8], doc: u64, imp: u8| match lists.get_mut(key) {
        Some(l) => l.push(doc, imp),
        None => {
            let mut l = ListBuilder::default();
            l.push(doc, imp);
            lists.insert(key.to_vec(), l);
        }
    };
    Spi::connect(|c| {
        let mut cursor = c.open_cursor(sql, args);
        loop {
            let rows = cursor.fetch(BUILD_FETCH).spi_ok("reading issues");
            if rows.is_empty() {
                break;
            }
            for row in rows {
                crate::limits::check_for_interrupts();
                let pk = row.get::<i64>(1).value("issue_pk of an indexed issue");
                // Searches score issues with a negative issue_pk (only ever
                // set by hand) from their vectors.
                let Ok(doc) = u64::try_from(pk) else { continue };
                built.read.push(pk);
                if let Some(vector) = row.get::<pgrx::AnyElement>(2).spi_ok("reading issues") {
                    built.docs += 1;
                    // SAFETY: column 2 is issues.search_vector, a non-null tsvector.
                    let length = unsafe {
                        for_each_lexeme(vector.datum(), &FIELD_WEIGHTS, |length, lexeme, tf| {
                            add(lexeme, doc, impact(tf, length, avg_length));
                        })
                    };
                    built.total_length += u64::from(length);
                }
                for (col, field) in [(3, "product"), (4, "status"), (5, "priority")] {
                    if let Some(v) = row.get::<String>(col).spi_ok("reading issues") {
                        let key = attribute_key(field, &v);
                        // Longer values predate the CHECK constraints that
                        // now refuse them: left out, never a failed build.
                        if key.len() <= MAX_ATTRIBUTE_KEY_BYTES {
                            add(key.as_bytes(), doc, 0);
                        }
                    }
                }
            }
        }
    });
    built
}

/// Terms of the search index and how many issues hold each: in its base
/// and the segments built after it (an issue rewritten since the base was
/// built counts in both).
#[pg_extern(stable, parallel_safe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_terms() -> TableIterator<'static, (name!(term, String), name!(doc_freq, i64))> {
    let base_seq = current_meta().map_or(i64::MAX, |m| m.seq as i64);
    let mut rows: HashMap<String, i64> = HashMap::new();
    Spi::connect(|c| {
        let heads = c
            .select(
                "SELECT term, substring(postings FROM 1 FOR 10) FROM ims.mv_search_postings
                  WHERE term <> '' AND term NOT LIKE 'top:%'
                 UNION ALL
                 SELECT term, substring(postings FROM 1 FOR 10) FROM ims_index.search_segments
                  WHERE segment > $1 AND term <> '' AND term NOT LIKE 'top:%' AND term <> 'issues:'",
                None,
                &[base_seq.into()],
            )
            .spi_ok("reading the search index");
        for r in heads {
            let term = r.get::<String>(1).spi_ok("reading the search index");
            let head = r.get::<Vec<u8>>(2).spi_ok("reading the search index");
            *rows.entry(term.unwrap_or_default()).or_default() +=
                doc_freq(&head.unwrap_or_default()) as i64;
        }
    });
    TableIterator::new(rows)
}

/// The search index's statistics row, if the index is built and holds
/// issues. Without it every issue is pending (an index built on an empty
/// corpus, as at install). A restore rebuilds the index once the issues are
/// loaded (see `restore`); pg_upgrade copies it with the transaction ids it
/// was stamped with (the next xid and epoch carry over), so it stays usable.
pub fn current_meta() -> Option<Meta> {
    let bytes = crate::db::read_one::<Vec<u8>>(STATISTICS_SQL, &[], "reading the search index")?;
    usable_meta(&bytes)
}

/// The statistics row (`''`) as `current_meta` takes it.
pub fn usable_meta(bytes: &[u8]) -> Option<Meta> {
    Meta::decode(bytes).filter(|m| m.docs > 0 && m.snapshot.xmax > 0)
}

/// The SQL condition on issues `i` that are pending: stamped by a
/// transaction the newest build's snapshot did not see committed (at or
/// after its xmax, the parameter named by `xmax`, as text, or one of its
/// `xip`, a text array), when the index is usable (the boolean parameter
/// named by `built`); all of them when it is not. Shared by searches, the
/// pending count and segment builds (`pending_args` gives the values).
pub fn pending_predicate(xmax: &str, xip: &str, built: &str) -> String {
    format!(
        "(((i.search_version >= {xmax}::text::pg_catalog.xid8
                OR i.search_version = ANY ({xip}::text[]::pg_catalog.xid8[]))
               -- A stamp from beyond this cluster's transaction ids came with a
               -- restore; the lists, built after it, hold that issue.
               AND (NOT {built} OR i.search_version < pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())
                    -- this transaction's own writes (its id may be past xmax)
                    OR i.search_version = pg_catalog.pg_current_xact_id_if_assigned()))
              OR i.issue_pk < 0 /* the lists hold issue_pk >= 0 only */)"
    )
}

/// The values of `pending_predicate`'s xmax, xip and built for the newest
/// build's snapshot (None: not built).
pub fn pending_args(newest: Option<&Snapshot>) -> [DatumWithOid<'static>; 3] {
    [
        newest.map_or(0, |s| s.xmax).to_string().into(),
        newest.map_or_else(Vec::new, Snapshot::xip_text).into(),
        newest.is_some().into(),
    ]
}

/// Whether any issue may be pending after the newest build (None: not
/// built): the newest stamp is at or after its xmax, an issue carries one
/// of its running transactions' ids, or an issue_pk is negative. Searches
/// ask first, since usually nothing is: index probes through a plan
/// prepared once per backend, where the query that scores pending issues
/// costs a planning each time. (After a restore that brought stamps from
/// beyond this cluster's ids, it says yes until the cluster's ids pass
/// them; the pending query then decides.)
pub fn any_pending(newest: Option<&Snapshot>) -> bool {
    let Some(newest) = newest else {
        return true;
    };
    let what = "finding pending issues";
    let (newest_stamp, lowest, running) = Spi::connect(|c| {
        let row = crate::db::select_kept(
            &c,
            // i.search_version, qualified: a bare name in ORDER BY would be
            // the output column, its text, sorted as text.
            "SELECT (SELECT i.search_version::text FROM ims.issues i WHERE i.search_version IS NOT NULL
                      ORDER BY i.search_version DESC LIMIT 1),
                    (SELECT issue_pk FROM ims.issues ORDER BY issue_pk LIMIT 1),
                    EXISTS (SELECT FROM ims.issues i
                             WHERE i.search_version = ANY ($1::text[]::pg_catalog.xid8[]))",
            &[crate::db::builtin(PgBuiltInOids::TEXTARRAYOID)],
            &[newest.xip_text().into()],
            what,
        )
        .first();
        (
            row.get::<String>(1).spi_ok(what),
            row.get::<i64>(2).spi_ok(what),
            row.get::<bool>(3).spi_ok(what),
        )
    });
    newest_stamp.is_some_and(|v| v.parse::<u64>().map_or(true, |v| v >= newest.xmax))
        || lowest.is_some_and(|pk| pk < 0)
        || running == Some(true)
}

/// Issues written since the search index was last built or extended: searches
/// score them from their vectors. Many means the index lags behind.
#[pg_extern(stable, parallel_safe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_pending() -> i64 {
    let newest = crate::search::segments::newest_snapshot();
    crate::db::read_one::<i64>(
        &format!(
            "SELECT count(*) FROM ims.issues i WHERE {}",
            pending_predicate("$1", "$2", "$3")
        ),
        &pending_args(newest.as_ref()),
        "counting pending issues",
    )
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let m = Meta {
            docs: 7,
            avg_length: 12.5,
            snapshot: Snapshot {
                xmin: 900,
                xmax: 950,
                xip: vec![900, 903],
            },
            system_id: 42,
            build_id: 77,
            seq: 5,
        };
        assert_eq!(Meta::decode(&m.encode()), Some(m.clone()));
        assert_eq!(Meta::decode(&[1, 2, 3]), None);
        assert_eq!(Meta::decode(&[]), None);
        // A damaged row (its xip count past the end) is refused.
        let mut short = m.encode();
        short.truncate(short.len() - 8);
        assert_eq!(Meta::decode(&short), None);
        // Rows of formats 2 and 3 (0.6.0's and 0.7.0's builds) are read: their
        // snapshot is their xmin, no build identity in format 2.
        let old = Meta {
            snapshot: Snapshot {
                xmin: 900,
                xmax: 900,
                xip: Vec::new(),
            },
            seq: 0,
            ..m.clone()
        };
        let mut v3 = Vec::new();
        v3.push(3u8);
        for w in [7u64, 12.5f64.to_bits(), 900, 42, 77] {
            v3.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(Meta::decode(&v3), Some(old.clone()));
        let mut v2 = v3.clone();
        v2.truncate(33);
        v2[0] = 2;
        assert_eq!(Meta::decode(&v2), Some(Meta { build_id: 0, ..old }));
        assert_ne!(build_id(), 0);
    }

    #[test]
    fn snapshots_parse() {
        let s = Snapshot::parse("10:20:10,14").unwrap();
        assert_eq!(
            s,
            Snapshot {
                xmin: 10,
                xmax: 20,
                xip: vec![10, 14]
            }
        );
        assert_eq!(Snapshot::parse("10:10:").unwrap().xip, Vec::<u64>::new());
        assert_eq!(Snapshot::parse("10:x:"), None);
        // Later snapshots sort after earlier ones.
        let order = |t: &str| Snapshot::parse(t).unwrap().order();
        assert!(order("10:20:10,14") < order("10:20:14"));
        assert!(order("10:20:14") < order("14:21:14"));
        assert!(order("20:20:") < order("20:21:"));
    }
}

/// Rebuild the search index's base (`ims.mv_search_postings`) from every
/// issue and drop the segments it replaces (see `segments`).
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn refresh_search_index() {
    crate::db::require_writable("ims.refresh_search_index");
    crate::operations::views::refresh("ims.mv_search_postings");
}
