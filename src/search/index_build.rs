//! The posting lists `ims.search_issues` ranks from: the materialized view
//! `ims.mv_search_postings`, one row per term with every issue that holds
//! it and its one-byte BM25 impact (see `ranking`), plus one row per
//! product, status and priority value (`product:openframe`) for filters.
//!
//! The view is a snapshot, rebuilt by `ims.refresh_materialized_views()`.
//! Every write to an issue's searchable content stamps the issue with the
//! writing transaction's id (`issues.search_version`, set by a trigger, or
//! by the upsert as the trigger would).
//! The build records the oldest transaction still running when it started
//! (its snapshot's xmin): an issue stamped at or after that id may be
//! missing from the lists or be there in an older form, so searches score
//! those few "pending" issues from their stored vectors instead, and skip
//! them in the lists. Any write the build did not see was made by a
//! transaction at or after that xmin, so nothing is lost between builds.
//!
//! Row `''` holds the corpus statistics and that xmin; `top:<term>` rows
//! hold champion lists. Formats: `list_format`.

use std::collections::HashMap;
use std::sync::OnceLock;

use pgrx::prelude::*;

use crate::db::read_two;
use crate::errors::{SpiOk, SpiValue};
use crate::search::list_format::{doc_freq, ListBuilder};
use crate::search::ranking::{impact, FIELD_WEIGHTS};
use crate::search::tsvector::for_each_lexeme;

/// Of the statistics row and the lists (see `list_format`). Version 3 adds
/// the build's identity to version 2's statistics row; both are read.
const FORMAT_VERSION: u8 = 3;
/// Issues read per cursor fetch while building.
const BUILD_FETCH: i64 = 2000;

/// Corpus statistics and the snapshot the lists were built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meta {
    pub docs: u64,
    pub avg_length: f64,
    /// Issues with `search_version >= xmin` are pending (scored from their vectors).
    pub xmin: u64,
    /// The cluster that built the lists (for diagnosis only: pg_upgrade
    /// gives the copy another system identifier but carries the transaction
    /// ids over, so its lists and stamps stay valid).
    pub system_id: u64,
    /// Different for every build (0 in rows of format 2), so that the row
    /// tells builds apart even when their statistics agree (backends key
    /// their decoded lists by it: `list_cache`).
    pub build_id: u64,
}

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT_VERSION];
        out.extend_from_slice(&self.docs.to_le_bytes());
        out.extend_from_slice(&self.avg_length.to_le_bytes());
        out.extend_from_slice(&self.xmin.to_le_bytes());
        out.extend_from_slice(&self.system_id.to_le_bytes());
        out.extend_from_slice(&self.build_id.to_le_bytes());
        out
    }

    pub fn decode(b: &[u8]) -> Option<Meta> {
        match (b.len(), b.first()) {
            (33, Some(2)) | (41, Some(3)) => {}
            _ => return None,
        }
        let word = |i: usize| u64::from_le_bytes(b[1 + 8 * i..9 + 8 * i].try_into().unwrap());
        Some(Meta {
            docs: word(0),
            avg_length: f64::from_bits(word(1)),
            xmin: word(2),
            system_id: word(3),
            build_id: if b.len() == 41 { word(4) } else { 0 },
        })
    }
}

/// The posting-list key of a filter value: `product:openframe`. The
/// tokenizer splits words at ':', so no term looks like this.
pub fn attribute_key(field: &str, value: &str) -> String {
    format!("{field}:{value}")
}

/// The champion-list key of a term.
pub fn champions_key(term: &str) -> String {
    format!("top:{term}")
}

/// An identity for one build: the time in nanoseconds mixed with the
/// backend's process id (two builds in one nanosecond are in two backends).
fn build_id() -> u64 {
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

const BUILD_ISSUES: &str = "\
SELECT issue_pk, search_vector, lower(product), lower(status), lower(priority)
  FROM ims.issues WHERE search_vector IS NOT NULL ORDER BY issue_pk";

/// Build the posting lists from every issue's search vector (the query of
/// `ims.mv_search_postings`).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_postings_build(
) -> TableIterator<'static, (name!(term, String), name!(postings, Vec<u8>))> {
    // Taken before reading: any write the read misses is at or after it.
    let xmin = crate::db::read_one::<i64>(
        "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint",
        &[],
        "reading the snapshot",
    )
    .unwrap_or(0) as u64;
    let (docs, total_length) = read_two::<i64, i64>(
        "SELECT count(*), coalesce(sum(pg_catalog.length(search_vector)), 0)::bigint
           FROM ims.issues WHERE search_vector IS NOT NULL",
        &[],
        "measuring the corpus",
    );
    let docs = docs.unwrap_or(0).max(0) as u64;
    let avg_length = total_length.unwrap_or(0) as f64 / docs.max(1) as f64;

    let lists = build_lists(avg_length.max(1.0) as f32);
    let meta = Meta {
        docs,
        avg_length,
        xmin,
        system_id: system_id(),
        build_id: build_id(),
    };
    let mut out = Vec::with_capacity(lists.len() + 1);
    out.push((String::new(), meta.encode()));
    for (key, list) in lists {
        let key = String::from_utf8_lossy(&key).into_owned();
        if let Some(c) = list.champions() {
            out.push((champions_key(&key), c));
        }
        out.push((key, list.finish()));
    }
    TableIterator::new(out)
}

/// Every term's and filter value's list, from every issue's stored vector
/// and attributes, read in issue_pk order through a cursor.
fn build_lists(avg_length: f32) -> HashMap<Vec<u8>, ListBuilder> {
    let mut lists: HashMap<Vec<u8>, ListBuilder> = HashMap::new();
    let mut add = |key: &[u8], doc: u64, imp: u8| match lists.get_mut(key) {
        Some(l) => l.push(doc, imp),
        None => {
            let mut l = ListBuilder::default();
            l.push(doc, imp);
            lists.insert(key.to_vec(), l);
        }
    };
    Spi::connect(|c| {
        let mut cursor = c.open_cursor(BUILD_ISSUES, &[]);
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
                if let Some(vector) = row.get::<pgrx::AnyElement>(2).spi_ok("reading issues") {
                    // SAFETY: column 2 is issues.search_vector, a non-null tsvector.
                    unsafe {
                        for_each_lexeme(vector.datum(), &FIELD_WEIGHTS, |length, lexeme, tf| {
                            add(lexeme, doc, impact(tf, length, avg_length));
                        });
                    }
                }
                for (col, field) in [(3, "product"), (4, "status"), (5, "priority")] {
                    if let Some(v) = row.get::<String>(col).spi_ok("reading issues") {
                        add(attribute_key(field, &v).as_bytes(), doc, 0);
                    }
                }
            }
        }
    });
    lists
}

/// Terms of the search index and how many issues hold each (as of its last
/// refresh).
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_terms() -> TableIterator<'static, (name!(term, String), name!(doc_freq, i64))> {
    let rows: Vec<(String, i64)> = Spi::connect(|c| {
        c.select(
            "SELECT term, substring(postings FROM 1 FOR 10) FROM ims.mv_search_postings
              WHERE term <> '' AND term NOT LIKE 'top:%'",
            None,
            &[],
        )
        .spi_ok("reading the search index")
        .map(|r| {
            let term = r.get::<String>(1).spi_ok("reading the search index");
            let head = r.get::<Vec<u8>>(2).spi_ok("reading the search index");
            (
                term.unwrap_or_default(),
                doc_freq(&head.unwrap_or_default()) as i64,
            )
        })
        .collect()
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
    Meta::decode(bytes).filter(|m| m.docs > 0 && m.xmin > 0)
}

/// The SQL condition on issues `i` that are pending: stamped at or after
/// the build's xmin (the parameter named by `xmin`, as text), when the index
/// is usable (the boolean parameter named by `built`); all of them when it
/// is not. Shared by searches and the pending count.
pub fn pending_predicate(xmin: &str, built: &str) -> String {
    format!(
        "((i.search_version >= {xmin}::text::pg_catalog.xid8
               -- A stamp from beyond this cluster's transaction ids came with a
               -- restore; the lists, built after it, hold that issue.
               AND (NOT {built} OR i.search_version < pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())
                    -- this transaction's own writes (its id may be past xmax)
                    OR i.search_version = pg_catalog.pg_current_xact_id_if_assigned()))
              OR i.issue_pk < 0)  -- the lists hold issue_pk >= 0 only"
    )
}

/// Whether any issue may be pending for an index built at `xmin` (0: not
/// built): the newest stamp is at or after it, or an issue_pk is negative.
/// Searches ask first, since usually nothing is: two index probes through
/// a plan prepared once per backend (it has no parameter), where the query
/// that scores pending issues costs a planning each time. (After a restore
/// that brought stamps from beyond this cluster's ids, it says yes until
/// the cluster's ids pass them; the pending query then decides.)
pub fn any_pending(xmin: u64) -> bool {
    if xmin == 0 {
        return true;
    }
    let what = "finding pending issues";
    let (newest, lowest) = Spi::connect(|c| {
        crate::db::select_kept(
            &c,
            // i.search_version, qualified: a bare name in ORDER BY would be
            // the output column, its text, sorted as text.
            "SELECT (SELECT i.search_version::text FROM ims.issues i WHERE i.search_version IS NOT NULL
                      ORDER BY i.search_version DESC LIMIT 1),
                    (SELECT issue_pk FROM ims.issues ORDER BY issue_pk LIMIT 1)",
            &[],
            &[],
            what,
        )
        .first()
        .get_two::<String, i64>()
        .spi_ok(what)
    });
    newest.is_some_and(|v| v.parse::<u64>().map_or(true, |v| v >= xmin))
        || lowest.is_some_and(|pk| pk < 0)
}

/// Issues written since the search index was built: searches score them
/// from their vectors. A large number means the index wants a refresh.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_pending() -> i64 {
    let xmin = current_meta().map_or(0, |m| m.xmin);
    crate::db::read_one::<i64>(
        &format!(
            "SELECT count(*) FROM ims.issues i WHERE {}",
            pending_predicate("$1", "$2")
        ),
        &[xmin.to_string().into(), (xmin > 0).into()],
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
            xmin: 900,
            system_id: 42,
            build_id: 77,
        };
        assert_eq!(Meta::decode(&m.encode()), Some(m));
        assert_eq!(Meta::decode(&[1, 2, 3]), None);
        // A row of format 2 (0.6.0's builds) is read, with no build identity.
        let mut v2 = m.encode();
        v2.truncate(33);
        v2[0] = 2;
        assert_eq!(Meta::decode(&v2), Some(Meta { build_id: 0, ..m }));
        assert_ne!(build_id(), 0);
    }
}

/// Rebuild only the search index (`ims.mv_search_postings`), as the hourly
/// maintenance job does: issues written since the last rebuild are scored
/// one by one until then.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn refresh_search_index() {
    crate::db::require_writable("ims.refresh_search_index");
    crate::operations::views::refresh("ims.mv_search_postings");
}
