//! The indexed form of an issue: `ims.issues.search_vector`, a tsvector of
//! this extension's tokens with field weights (A title, B description,
//! C comments, D attachments' extracted text), with positions for
//! phrases. The posting lists are built from it (`index_build`), and
//! searches score issues written since then straight from it.
//!
//! It is kept current by statement-level triggers on issues, comments and
//! attachments, which call `ims.refresh_search_vectors`. Inside an upsert
//! the triggers only collect issue ids; the upsert refreshes each affected
//! issue once at its end.

use std::cell::RefCell;
use std::collections::HashSet;

use foldhash::HashMap as FastMap;
use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::query::quote_lexeme;
use crate::search::tokenize::{for_each_token, Mode};
use crate::search::tsvector::{
    lexeme_frequencies, normalize_positions, weighted_position, TsVector, MAX_POSITION,
};

/// How much of each field is indexed (bytes); the rest is stored but not
/// searchable. Keeps every vector far below tsvector's 1 MB limit.
pub const INDEXED_BYTES: [usize; 4] = [64 * 1024, 256 * 1024, 256 * 1024, 256 * 1024];
/// tsvector weights of title, description, comments, attachments (A..D),
/// and their letters (indexed by weight: D=0 .. A=3).
const FIELD_WEIGHT_BITS: [u16; 4] = [3, 2, 1, 0];
const WEIGHT_LETTERS: [char; 4] = ['D', 'C', 'B', 'A'];
/// Positions kept per lexeme (tsvector keeps at most 256).
const MAX_POSITIONS_PER_LEXEME: usize = 255;

/// The longest prefix of `s` that fits in `max` bytes, on a char boundary.
pub fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An issue's lexemes in tsvector order, each with its weighted positions
/// as tsvector keeps them: what both forms below are made of.
fn lexemes(fields: [Option<&str>; 4]) -> Vec<(String, Vec<u16>)> {
    let mut lexemes: FastMap<String, Vec<u16>> = FastMap::default();
    let mut next_pos = 1u32;
    for (i, field) in fields.iter().enumerate() {
        let Some(text) = field else { continue };
        let mut last = None;
        let mut add = |term: &str, pos: u32, _: usize, _: usize| {
            let position = weighted_position(pos, FIELD_WEIGHT_BITS[i]);
            last = Some(pos);
            match lexemes.get_mut(term) {
                Some(list) if list.len() < MAX_POSITIONS_PER_LEXEME => list.push(position),
                Some(_) => {}
                None => {
                    lexemes.insert(term.to_string(), vec![position]);
                }
            }
        };
        for_each_token(
            prefix(text, INDEXED_BYTES[i]),
            Mode::Index,
            next_pos,
            &mut add,
        );
        // A gap between fields keeps phrases from spanning two of them.
        next_pos = last.map_or(next_pos, |p| p + 8);
    }
    let mut out: Vec<(String, Vec<u16>)> = lexemes.into_iter().collect();
    out.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (_, positions) in &mut out {
        normalize_positions(positions);
    }
    out
}

/// An issue's search vector, built in its binary form.
pub fn vector(fields: [Option<&str>; 4]) -> TsVector {
    TsVector::from_lexemes(&lexemes(fields))
}

/// The text form of the same vector.
pub fn vector_text(fields: [Option<&str>; 4]) -> String {
    let mut out = String::new();
    for (term, positions) in lexemes(fields) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&quote_lexeme(&term));
        out.push(':');
        for (k, p) in positions.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&(p & MAX_POSITION).to_string());
            out.push(WEIGHT_LETTERS[(p >> 14) as usize]);
        }
    }
    out
}

/// The weighted search tsvector of an issue's title, description,
/// comments and attachment text, as `ims.search_issues` indexes it.
#[pg_extern(immutable, parallel_safe)]
pub fn to_search_vector(
    title: Option<&str>,
    description: default!(Option<&str>, "NULL"),
    comments: default!(Option<&str>, "NULL"),
    attachments: default!(Option<&str>, "NULL"),
) -> TsVector {
    vector([title, description, comments, attachments])
}

/// Text form of `ims.to_search_vector`.
#[pg_extern(immutable, parallel_safe)]
pub fn search_vector_text(
    title: Option<&str>,
    description: default!(Option<&str>, "NULL"),
    comments: default!(Option<&str>, "NULL"),
    attachments: default!(Option<&str>, "NULL"),
) -> String {
    vector_text([title, description, comments, attachments])
}

thread_local! {
    /// Issue ids collected while an upsert defers refreshing.
    static DEFERRED: RefCell<Option<HashSet<i64>>> = const { RefCell::new(None) };
}

/// While alive, refresh_search_vectors only collects ids. Dropping it
/// (also on error) ends the deferral.
pub struct Deferral(());

impl Deferral {
    pub fn begin() -> Deferral {
        DEFERRED.with(|d| *d.borrow_mut() = Some(HashSet::new()));
        Deferral(())
    }

    /// End the deferral and refresh what was collected, except issues whose
    /// vector is already current (`done`).
    pub fn finish(self, done: &HashSet<i64>) -> i32 {
        let ids: Vec<i64> = DEFERRED
            .with(|d| d.borrow_mut().take())
            .unwrap_or_default()
            .into_iter()
            .filter(|id| !done.contains(id))
            .collect();
        refresh(&ids)
    }
}

impl Drop for Deferral {
    fn drop(&mut self) {
        DEFERRED.with(|d| *d.borrow_mut() = None);
    }
}

const REFRESH: &str = "\
UPDATE ims.issues i
   SET search_vector = ims.to_search_vector(i.title, i.description, c.txt, a.txt)
  FROM (SELECT DISTINCT unnest($1::bigint[]) AS issue_pk) k
  LEFT JOIN LATERAL (SELECT string_agg(content, E'\\n' ORDER BY comment_pk) AS txt
                       FROM ims.issue_comments WHERE issue_pk = k.issue_pk) c ON true
  LEFT JOIN LATERAL (SELECT string_agg(extracted_text, E'\\n' ORDER BY attachment_id) AS txt
                       FROM ims.attachments WHERE issue_pk = k.issue_pk) a ON true
 WHERE i.issue_pk = k.issue_pk";

fn refresh(ids: &[i64]) -> i32 {
    if ids.is_empty() {
        return 0;
    }
    Spi::connect_mut(|c| {
        c.update(REFRESH, None, &[ids.to_vec().into()])
            .spi_ok("refreshing search vectors")
            .len() as i32
    })
}

/// Recompute the search vectors of these issues (called by the triggers on
/// issues, comments and attachments; an administrator can pass every
/// issue_pk to rebuild the index). Returns how many were recomputed.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
pub fn refresh_search_vectors(issue_pks: Option<Vec<Option<i64>>>) -> i32 {
    crate::db::require_writable("ims.refresh_search_vectors");
    let ids: Vec<i64> = issue_pks
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let deferred = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_mut() {
            Some(set) => {
                set.extend(ids.iter().copied());
                true
            }
            None => false,
        }
    });
    if deferred {
        0
    } else {
        refresh(&ids)
    }
}

/// The BM25 impact (`ranking::impact`) of each of `terms` in a tsvector
/// datum, as the posting lists store it: a spelling group's is its best
/// member's (`spellings`, another word's discounted), as its list keeps.
///
/// # Safety
/// `datum` must be a non-null tsvector datum.
pub unsafe fn read_doc_impacts(
    datum: pg_sys::Datum,
    terms: &[String],
    weights: &[f32; 4],
    avg_length: f32,
) -> Vec<u8> {
    let mut lexemes: Vec<&[u8]> = Vec::with_capacity(terms.len());
    let mut of_term: Vec<(usize, bool)> = Vec::with_capacity(terms.len());
    for (i, t) in terms.iter().enumerate() {
        for (m, other) in crate::search::spellings::weighted_spellings(t) {
            lexemes.push(m.as_bytes());
            of_term.push((i, other));
        }
    }
    let (length, member_tf) = lexeme_frequencies(datum, &lexemes, weights);
    let mut impacts = vec![0u8; terms.len()];
    for (&(i, other), tf) in of_term.iter().zip(member_tf) {
        let q = crate::search::spellings::member_impact(
            crate::search::ranking::impact(tf, length, avg_length),
            other,
        );
        impacts[i] = impacts[i].max(q);
    }
    impacts
}
