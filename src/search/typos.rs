//! Typos in English words (`conection timout`, `deadlcok`): a typed word
//! the search index does not know is searched as a spelling group
//! (`spellings`) of itself and the indexed words closest to it, within
//! one edit for a word of 4 to 7 letters and two from 8 (an edit: a letter
//! added, removed, changed, or two neighbours swapped); the first letter
//! must be right (as most engines' fuzzy queries ask), shorter words and
//! words with digits (codes) are left as typed. `ims.did_you_mean` gives
//! the query with such words corrected.

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::index_build::current_meta;
use crate::search::list_format::doc_freq;
use crate::search::query::{parse, ParsedQuery};
use crate::search::synonyms::{join_spellings, key_term};

/// Corrections kept per word, the closest (then the most used) first.
const MAX_CORRECTIONS: usize = 3;

/// Indexed English words (letters only) of a length, starting with a
/// letter, with the head of their lists (for their document frequency):
/// in the base and in the segments built after it.
const CANDIDATES: &str = "\
SELECT term, substring(postings FROM 1 FOR 10) FROM ims.mv_search_postings
 WHERE term >= $1 AND term < $2 AND length(term) BETWEEN $3 AND $4 AND term ~ '^[a-z]+$'
UNION ALL
SELECT term, substring(postings FROM 1 FOR 10) FROM ims_index.search_segments
 WHERE term >= $1 AND term < $2 AND length(term) BETWEEN $3 AND $4 AND term ~ '^[a-z]+$' AND segment > $5";

const KNOWN: &str = "\
SELECT term FROM ims.mv_search_postings WHERE term = ANY ($1)
UNION
SELECT term FROM ims_index.search_segments WHERE term = ANY ($1) AND segment > $2";

/// How many edits a typed word of `letters` letters may be away from the
/// word meant.
pub fn max_edits(letters: usize) -> usize {
    match letters {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Optimal string alignment distance (a swap of neighbours is one edit),
/// or `limit + 1` when it is larger than `limit`.
pub fn distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for j in 0..w {
        d[j] = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > limit {
            return limit + 1;
        }
    }
    d[a.len() * w + b.len()].min(limit + 1)
}

/// A typed word that may be a typo: English letters only, its term (the
/// stem the distance is measured on) long enough to correct; with that
/// term and how many edits it may need.
fn correctable(word: &str) -> Option<(String, usize)> {
    if !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let term = key_term(word)?;
    let edits = max_edits(term.len());
    (edits > 0 && term.bytes().all(|b| b.is_ascii_lowercase())).then_some((term, edits))
}

/// The segments newer than the base (whose rows are current).
fn base_seq() -> i64 {
    current_meta().map_or(i64::MAX, |m| m.seq as i64)
}

/// The indexed terms closest to `term`, the closest first, then the most
/// used: at most `MAX_CORRECTIONS`.
fn corrections(term: &str, edits: usize) -> Vec<String> {
    let first = term.as_bytes()[0];
    let (from, to) = (
        (first as char).to_string(),
        ((first + 1) as char).to_string(),
    );
    let (shortest, longest) = (term.len().saturating_sub(edits).max(1), term.len() + edits);
    let mut found: Vec<(usize, std::cmp::Reverse<u64>, String)> = Vec::new();
    let what = "looking up words close to a typo";
    Spi::connect(|c| {
        let text = crate::db::builtin(PgBuiltInOids::TEXTOID);
        let int4 = crate::db::builtin(PgBuiltInOids::INT4OID);
        let rows = crate::db::select_kept(
            &c,
            CANDIDATES,
            &[
                text,
                text,
                int4,
                int4,
                crate::db::builtin(PgBuiltInOids::INT8OID),
            ],
            &[
                from.into(),
                to.into(),
                (shortest as i32).into(),
                (longest as i32).into(),
                base_seq().into(),
            ],
            what,
        );
        for r in rows {
            let (Some(t), Some(head)) = (
                r.get::<String>(1).spi_ok(what),
                r.get::<Vec<u8>>(2).spi_ok(what),
            ) else {
                continue;
            };
            let d = distance(term.as_bytes(), t.as_bytes(), edits);
            if d == 0 || d > edits {
                continue;
            }
            let df = doc_freq(&head);
            match found.iter_mut().find(|f| f.2 == t) {
                Some(f) => f.1 .0 += df, // in the base and in segments
                None => found.push((d, std::cmp::Reverse(df), t)),
            }
        }
    });
    found.sort();
    found
        .into_iter()
        .take(MAX_CORRECTIONS)
        .map(|f| f.2)
        .collect()
}

thread_local! {
    /// Corrections looked up by this backend, by term, for the builds of
    /// the index they were read from (a query retried finds them here).
    static KEPT: RefCell<(Vec<u64>, HashMap<String, Vec<String>>)> = RefCell::new(Default::default());
}

/// The most terms whose corrections a backend keeps.
const MAX_KEPT: usize = 4096;

/// `corrections`, kept while the index's builds stay the same.
fn kept_corrections(term: &str, edits: usize, builds: &[u64]) -> Vec<String> {
    let kept = KEPT.with(|k| {
        let k = k.borrow();
        (k.0 == builds).then(|| k.1.get(term).cloned()).flatten()
    });
    if let Some(fixes) = kept {
        return fixes;
    }
    let fixes = corrections(term, edits);
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        if k.0 != builds || k.1.len() >= MAX_KEPT {
            *k = (builds.to_vec(), HashMap::new());
        }
        k.1.insert(term.to_string(), fixes.clone());
    });
    fixes
}

/// The query with each correctable word among `unknown` (terms no issue
/// holds, in the index of `builds`) searched together with its
/// corrections; None when no word has any.
pub fn correct(q: &ParsedQuery, unknown: &[String], builds: &[u64]) -> Option<ParsedQuery> {
    if unknown.is_empty() {
        return None;
    }
    let mut q = q.clone();
    let mut changed = false;
    for c in &mut q.clauses {
        for word in c.words.clone() {
            let Some((term, edits)) = correctable(&word).filter(|(t, _)| unknown.contains(t))
            else {
                continue;
            };
            let fixes = kept_corrections(&term, edits, builds);
            if fixes.is_empty() {
                continue;
            }
            let own = vec![term];
            let mut members = own.clone();
            members.extend(fixes);
            join_spellings(c, &own, &members);
            changed = true;
        }
    }
    changed.then_some(q)
}

/// An issue's text holding `fix`: the first issue of its posting list.
const TEXT_OF: &str = "\
SELECT concat_ws(' ', i.title, i.description,
                 (SELECT string_agg(c.content, ' ') FROM ims.issue_comments c WHERE c.issue_pk = i.issue_pk))
  FROM ims.issues i WHERE i.issue_pk = $1";

/// How `fix` (a term: an English stem) is written: a word of an issue
/// holding it, the typed word's closest (`certficate` -> `certificate`,
/// not `certifate`); else the typed word's ending moved onto it.
fn written(typed: &str, term: &str, fix: &str) -> String {
    let first = crate::search::list_cache::read(&[fix.to_string()], &[fix.to_string()])
        .iter()
        .find_map(|s| match s.rows.get(fix) {
            Some(crate::search::list_cache::Row::List(l)) => l.list.first_doc(),
            _ => None,
        });
    let text = first.and_then(|pk| {
        crate::db::read_one::<String>(TEXT_OF, &[pk.into()], "reading an issue's text")
    });
    let typed_lower = typed.to_ascii_lowercase();
    let best = text.as_deref().and_then(|t| {
        t.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty() && key_term(w).as_deref() == Some(fix))
            .map(str::to_ascii_lowercase)
            .min_by_key(|w| distance(w.as_bytes(), typed_lower.as_bytes(), usize::MAX - 1))
    });
    best.unwrap_or_else(|| written_like(typed, term, fix))
}

/// The word as it would be written with `fix`'s stem: the typed word's
/// ending moved onto it (`conection` -> `connection`), else the stem
/// itself.
fn written_like(typed: &str, term: &str, fix: &str) -> String {
    let typed = typed.to_ascii_lowercase();
    let same = typed
        .bytes()
        .zip(term.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let (term_end, typed_end) = (&term[same..], &typed[same..]);
    if let Some(stem) = fix.strip_suffix(term_end) {
        let word = format!("{stem}{typed_end}");
        if key_term(&word).as_deref() == Some(fix) {
            return word;
        }
    }
    fix.to_string()
}

/// The query with its misspelt English words corrected to the closest word
/// the search index holds (the rest as typed); NULL when no word needs it.
#[pg_extern(stable, parallel_safe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn did_you_mean(query: &str) -> Option<String> {
    crate::search::search_issues::check_query_length(query);
    let words: Vec<(String, String, usize)> = parse(query)
        .clauses
        .iter()
        .flat_map(|c| c.words.iter())
        .filter_map(|w| correctable(w).map(|(t, e)| (w.clone(), t, e)))
        .collect();
    if words.is_empty() {
        return None;
    }
    let terms: Vec<String> = words.iter().map(|w| w.1.clone()).collect();
    let known: Vec<String> = Spi::connect(|c| {
        c.select(KNOWN, None, &[terms.into(), base_seq().into()])
            .spi_ok("looking up the query's words")
            .filter_map(|r| r.get::<String>(1).ok().flatten())
            .collect()
    });
    let mut out = query.to_string();
    let mut changed = false;
    for (word, term, edits) in words.iter().filter(|w| !known.contains(&w.1)) {
        let Some(fix) = corrections(term, *edits).into_iter().next() else {
            continue;
        };
        out = replace_word(&out, word, &written(word, term, &fix));
        changed = true;
    }
    changed.then_some(out)
}

/// `text` with the whitespace-separated word `word` replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|piece| {
            let bare = piece.trim_end();
            if bare == word {
                format!("{by}{}", &piece[bare.len()..])
            } else {
                piece.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_a_swap_as_one_edit() {
        assert_eq!(distance(b"deadlcok", b"deadlock", 2), 1);
        assert_eq!(distance(b"timout", b"timeout", 1), 1);
        assert_eq!(distance(b"conect", b"connect", 1), 1);
        assert_eq!(distance(b"abc", b"abc", 1), 0);
        assert_eq!(
            distance(b"session", b"version", 1),
            2,
            "beyond the limit: limit + 1"
        );
        assert_eq!(distance(b"a", b"abcd", 2), 3);
    }

    #[test]
    fn short_words_and_codes_are_not_corrected() {
        assert_eq!(max_edits(3), 0);
        assert_eq!(max_edits(6), 1);
        assert_eq!(max_edits(9), 2);
        assert!(correctable("ssl").is_none());
        assert!(correctable("v7x3").is_none());
        assert!(correctable("세션타임").is_none());
        assert_eq!(correctable("Conection"), Some(("conect".into(), 1)));
        assert_eq!(
            correctable("restored"),
            Some(("restor".into(), 1)),
            "edits by the stem's length"
        );
    }

    #[test]
    fn corrections_are_written_as_words() {
        assert_eq!(written_like("conection", "conect", "connect"), "connection");
        assert_eq!(written_like("timout", "timout", "timeout"), "timeout");
        assert_eq!(written_like("deadlcok", "deadlcok", "deadlock"), "deadlock");
        // Where moving the ending gives no word, the issue's own word is used (`written`).
        assert_eq!(written_like("memroy", "memroy", "memori"), "memori");
        assert_eq!(
            replace_word("tibero  conection timout", "conection", "connection"),
            "tibero  connection timout"
        );
    }
}
