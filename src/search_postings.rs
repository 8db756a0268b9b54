//! The posting lists `ims.search_issues` ranks from: the materialized view
//! `ims.mv_search_postings`, one row per term with every issue that holds
//! it and its one-byte BM25 impact (see `ranking`), plus one row per
//! product, status and priority value (`product:openframe`) for filters.
//!
//! The view is a snapshot, rebuilt by `ims.refresh_materialized_views()`.
//! Every write to an issue's searchable content stamps the issue with the
//! writing transaction's id (`issues.search_version`, set by a trigger).
//! The build records the oldest transaction still running when it started
//! (its snapshot's xmin): an issue stamped at or after that id may be
//! missing from the lists or be there in an older form, so searches score
//! those few "pending" issues from their stored vectors instead, and skip
//! them in the lists. Any write the build did not see was made by a
//! transaction at or after that xmin, so nothing is lost between builds.
//!
//! Row `''` holds the corpus statistics and that xmin. A list is a varint
//! count, then per issue (ascending `issue_pk`) a varint gap and an impact
//! byte: about 2.5 bytes per (issue, term).

use std::collections::HashMap;
use std::sync::OnceLock;

use pgrx::prelude::*;

use crate::db::read_two;
use crate::errors::SpiOk;
use crate::ranking::{impact, FIELD_WEIGHTS};
use crate::search_index::for_each_lexeme;

const FORMAT_VERSION: u8 = 1;
/// Issues read per cursor fetch while building.
const BUILD_FETCH: i64 = 2000;

/// Corpus statistics and the snapshot the lists were built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meta {
    pub docs: u64,
    pub avg_length: f64,
    /// Issues with `search_version >= xmin` are pending (scored from their vectors).
    pub xmin: u64,
    /// The cluster that built the lists (a copy made by pg_upgrade is another).
    pub system_id: u64,
}

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT_VERSION];
        out.extend_from_slice(&self.docs.to_le_bytes());
        out.extend_from_slice(&self.avg_length.to_le_bytes());
        out.extend_from_slice(&self.xmin.to_le_bytes());
        out.extend_from_slice(&self.system_id.to_le_bytes());
        out
    }

    pub fn decode(b: &[u8]) -> Option<Meta> {
        if b.len() != 33 || b[0] != FORMAT_VERSION {
            return None;
        }
        let word = |i: usize| u64::from_le_bytes(b[1 + 8 * i..9 + 8 * i].try_into().unwrap());
        Some(Meta {
            docs: word(0),
            avg_length: f64::from_bits(word(1)),
            xmin: word(2),
            system_id: word(3),
        })
    }
}

/// The posting-list key of a filter value: `product:openframe`. The
/// tokenizer splits words at ':', so no term looks like this.
pub fn attribute_key(field: &str, value: &str) -> String {
    format!("{field}:{value}")
}

/// The issues holding one term, ascending, with their impacts.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Postings {
    pub docs: Vec<i64>,
    pub impacts: Vec<u8>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// The number of issues in an encoded list, read from its head.
pub fn doc_freq(b: &[u8]) -> u64 {
    get_varint(b, &mut 0).unwrap_or(0)
}

/// Decode a list; a damaged tail is dropped, never read past.
pub fn decode(b: &[u8]) -> Postings {
    let mut at = 0;
    let n = get_varint(b, &mut at).unwrap_or(0) as usize;
    let mut p = Postings {
        docs: Vec::with_capacity(n.min(b.len())),
        impacts: Vec::with_capacity(n.min(b.len())),
    };
    let mut doc = 0u64;
    for _ in 0..n {
        let Some(gap) = get_varint(b, &mut at) else {
            break;
        };
        let Some(&imp) = b.get(at) else { break };
        at += 1;
        doc = doc.wrapping_add(gap);
        p.docs.push(doc as i64);
        p.impacts.push(imp);
    }
    p
}

/// A list being built: issues arrive in ascending order.
#[derive(Default)]
struct ListBuilder {
    count: u64,
    last: u64,
    body: Vec<u8>,
}

impl ListBuilder {
    fn push(&mut self, doc: u64, imp: u8) {
        put_varint(&mut self.body, doc - self.last);
        self.body.push(imp);
        self.last = doc;
        self.count += 1;
    }

    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        put_varint(&mut out, self.count);
        out.extend_from_slice(&self.body);
        out
    }

    /// The champion list of a long list (None for a short one).
    fn champions(&self) -> Option<Vec<u8>> {
        if self.count <= CHAMPIONS as u64 {
            return None;
        }
        let mut body = Vec::with_capacity(self.body.len() + 5);
        put_varint(&mut body, self.count);
        body.extend_from_slice(&self.body);
        let list = decode(&body);
        // The impact the CHAMPIONS-th best issue has.
        let mut histogram = [0usize; 256];
        for &q in &list.impacts {
            histogram[q as usize] += 1;
        }
        let mut above = 0;
        let mut threshold = 0u8;
        for q in (0..=255u8).rev() {
            if above + histogram[q as usize] >= CHAMPIONS {
                threshold = q;
                break;
            }
            above += histogram[q as usize];
        }
        let mut at_threshold = CHAMPIONS - above;
        let mut best: Vec<(u8, i64)> = Vec::with_capacity(CHAMPIONS);
        for (&doc, &q) in list.docs.iter().zip(&list.impacts) {
            if q > threshold {
                best.push((q, doc));
            } else if q == threshold && at_threshold > 0 {
                best.push((q, doc)); // the smallest issue_pks of the tie
                at_threshold -= 1;
            }
        }
        best.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out = Vec::with_capacity(best.len() * 5 + 10);
        put_varint(&mut out, self.count);
        put_varint(&mut out, best.len() as u64);
        for (q, doc) in best {
            out.push(q);
            put_varint(&mut out, doc as u64);
        }
        Some(out)
    }
}

/// How many of a term's best issues its champion list holds: enough for
/// any page of results, after filters drop most of them.
pub const CHAMPIONS: usize = 2048;

/// The champion-list key of a term (the tokenizer splits words at ':').
pub fn champions_key(term: &str) -> String {
    format!("top:{term}")
}

/// A term's best issues, best first (impact descending, then issue_pk),
/// and how many issues hold the term in all.
pub struct Champions {
    pub doc_freq: u64,
    pub best: Vec<(u8, i64)>,
}

pub fn decode_champions(b: &[u8]) -> Champions {
    let mut at = 0;
    let doc_freq = get_varint(b, &mut at).unwrap_or(0);
    let n = get_varint(b, &mut at).unwrap_or(0) as usize;
    let mut best = Vec::with_capacity(n.min(CHAMPIONS));
    for _ in 0..n {
        let Some(&q) = b.get(at) else { break };
        at += 1;
        let Some(doc) = get_varint(b, &mut at) else {
            break;
        };
        best.push((q, doc as i64));
    }
    Champions { doc_freq, best }
}

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
    let avg = avg_length.max(1.0) as f32;

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
                let pk = row.get::<i64>(1).spi_ok("reading issues").unwrap_or(0);
                let Ok(doc) = u64::try_from(pk) else { continue };
                if let Some(vector) = row.get::<pgrx::AnyElement>(2).spi_ok("reading issues") {
                    // SAFETY: column 2 is issues.search_vector, a non-null tsvector.
                    unsafe {
                        for_each_lexeme(vector.datum(), &FIELD_WEIGHTS, |length, lexeme, tf| {
                            add(lexeme, doc, impact(tf, length, avg));
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

    let meta = Meta {
        docs,
        avg_length,
        xmin,
        system_id: system_id(),
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

/// Terms of the search index and how many issues hold each (as of its last
/// refresh).
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_terms(
) -> TableIterator<'static, (name!(term, String), name!(doc_freq, i64))> {
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

/// The search index's statistics row, if the index is built, holds
/// issues, and belongs to this cluster. Without it every issue is pending
/// (an index built on an empty corpus, as at install and restore, or a
/// copy whose transaction ids mean something else).
pub fn current_meta() -> Option<Meta> {
    let bytes = crate::db::read_one::<Vec<u8>>(
        "SELECT postings FROM ims.mv_search_postings WHERE term = ''",
        &[],
        "reading the search index",
    )?;
    Meta::decode(&bytes).filter(|m| m.docs > 0 && m.xmin > 0 && m.system_id == system_id())
}

/// Issues written since the search index was built: searches score them
/// from their vectors. A large number means the index wants a refresh.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_pending() -> i64 {
    let xmin = current_meta().map_or(0, |m| m.xmin);
    crate::db::read_one::<i64>(
        "SELECT count(*) FROM ims.issues WHERE search_version >= $1::text::xid8
            AND (NOT $2 OR search_version < pg_snapshot_xmax(pg_current_snapshot()))",
        &[xmin.to_string().into(), (xmin > 0).into()],
        "counting pending issues",
    )
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip() {
        let mut b = ListBuilder::default();
        let docs = [1u64, 2, 130, 70_000, 1 << 40];
        for (i, d) in docs.iter().enumerate() {
            b.push(*d, i as u8 * 50);
        }
        let bytes = b.finish();
        assert_eq!(doc_freq(&bytes), 5);
        let p = decode(&bytes);
        assert_eq!(p.docs, docs.iter().map(|&d| d as i64).collect::<Vec<_>>());
        assert_eq!(p.impacts, vec![0, 50, 100, 150, 200]);
    }

    #[test]
    fn damaged_lists_are_cut_short() {
        let mut b = ListBuilder::default();
        b.push(5, 1);
        b.push(9, 2);
        let bytes = b.finish();
        assert_eq!(decode(&bytes[..bytes.len() - 1]).docs, vec![5]);
        assert_eq!(decode(&[]).docs, Vec::<i64>::new());
        assert_eq!(decode(&[0xFF; 12]).docs, Vec::<i64>::new());
    }

    #[test]
    fn champions_are_the_best_with_ties_to_the_first_stored() {
        let mut b = ListBuilder::default();
        let n = CHAMPIONS as u64 * 3;
        for d in 1..=n {
            // Impacts cycle 1..=100; many issues tie at each.
            b.push(d, (d % 100 + 1) as u8);
        }
        let c = decode_champions(&b.champions().unwrap());
        assert_eq!(c.doc_freq, n);
        assert_eq!(c.best.len(), CHAMPIONS);
        let mut all: Vec<(u8, i64)> = (1..=n).map(|d| ((d % 100 + 1) as u8, d as i64)).collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(c.best, all[..CHAMPIONS].to_vec());
        let mut short = ListBuilder::default();
        short.push(1, 1);
        assert!(short.champions().is_none());
    }

    #[test]
    fn meta_round_trips() {
        let m = Meta {
            docs: 7,
            avg_length: 12.5,
            xmin: 900,
            system_id: 42,
        };
        assert_eq!(Meta::decode(&m.encode()), Some(m));
        assert_eq!(Meta::decode(&[1, 2, 3]), None);
    }
}
