//! Synonyms: loanwords spelled in Hangul or in Latin letters (세션 /
//! session, 데드락 / deadlock), Korean and English words for one thing (에러
//! / 오류 / error). They live in `ims_index.search_synonyms` (the rows the
//! extension ships and an administrator's own): a query word with
//! synonyms is searched as one spelling group (`spellings`) of the word
//! and its synonyms, so an issue scores once by whichever spelling it
//! holds. Rows are matched by stem, as the index knows words (`Sessions`
//! and `세션을` find the rows of `session` and `세션`, `느려요` the row of
//! `느림`). Quoted phrases and exclusions are searched as typed.
//!
//! Each backend reads the table once and keeps it until it changes: a
//! statement trigger on the table sends a relcache invalidation, which
//! every backend receives before its next search.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use pgrx::prelude::*;

use crate::errors::SpiOk;
use crate::search::query::{Clause, ParsedQuery};
use crate::search::spellings::{
    group_term, members, other_word, spellings, weighted_spellings, MAX_MEMBERS,
};
use crate::search::tokenize::query_forms;

/// By a word's term, the terms of its synonyms.
type Table = HashMap<String, Vec<String>>;

/// The most synonym rows a backend keeps (more are left out, with a WARNING).
const MAX_ROWS: i64 = 100_000;

const READ: &str = "SELECT word, synonym, 'ims_index.search_synonyms'::regclass::oid \
                    FROM ims_index.search_synonyms ORDER BY word, synonym LIMIT $1";

thread_local! {
    static TABLE: RefCell<Option<Rc<Table>>> = const { RefCell::new(None) };
    /// Set by the invalidation callback: the table changed.
    static STALE: Cell<bool> = const { Cell::new(false) };
    static LISTENING: Cell<bool> = const { Cell::new(false) };
}

/// The table's oid, for the invalidation callback.
static TABLE_OID: AtomicU32 = AtomicU32::new(0);

/// Relcache invalidation callback: any invalidation of the table (or of
/// every relation) makes the kept copy stale. It only sets a flag: it may
/// run in the middle of any catalog access.
unsafe extern "C-unwind" fn forget(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let oid = TABLE_OID.load(Ordering::Relaxed);
    if relid == pg_sys::InvalidOid || relid.to_u32() == oid {
        STALE.with(|s| s.set(true));
    }
}

/// The term a word is known by: its first one-term form (a Latin word's
/// stem, a Hangul word's marked stem, a code whole). Of a spelling group
/// (a short Hangul word's stem and bigram), the stem: the bigram is the
/// form as written (`느림`, `느린`), the stem what they share (`=느리`).
pub fn key_term(word: &str) -> Option<String> {
    let form = query_forms(word).into_iter().find(|f| f.len() == 1)?;
    let term = &form[0].term;
    Some(
        weighted_spellings(term)
            .into_iter()
            .find(|&(_, other)| !other)
            .map_or_else(|| term.clone(), |(t, _)| t.to_string()),
    )
}

/// Every one-term form of a word (a group's members, as marked there):
/// what an issue writing it holds.
fn spelling_terms(word: &str) -> Vec<String> {
    query_forms(word)
        .into_iter()
        .filter(|f| f.len() == 1)
        .flat_map(|f| match members(&f[0].term) {
            Some(m) => m.into_iter().map(str::to_string).collect(),
            None => vec![f[0].term.clone()],
        })
        .collect()
}

fn read_table() -> Rc<Table> {
    if !LISTENING.with(Cell::get) {
        // SAFETY: registering a callback with a static function; once per backend.
        unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(forget), pg_sys::Datum::from(0)) };
        LISTENING.with(|l| l.set(true));
    }
    STALE.with(|s| s.set(false));
    let what = "reading ims_index.search_synonyms";
    let mut table: Table = HashMap::new();
    let mut rows = 0;
    Spi::connect(|c| {
        let read = c.select(READ, None, &[(MAX_ROWS + 1).into()]).spi_ok(what);
        for r in read {
            rows += 1;
            if rows > MAX_ROWS {
                warning!("ims_index.search_synonyms has more than {MAX_ROWS} rows: searches use the first {MAX_ROWS}");
                break;
            }
            let (Some(word), Some(synonym), Some(oid)) = (
                r.get::<String>(1).spi_ok(what),
                r.get::<String>(2).spi_ok(what),
                r.get::<pg_sys::Oid>(3).spi_ok(what),
            ) else {
                continue;
            };
            TABLE_OID.store(oid.to_u32(), Ordering::Relaxed);
            if let Some(key) = key_term(&word) {
                let terms = table.entry(key).or_default();
                // A synonym's forms, unmarked: all of them are another word.
                for t in spelling_terms(&synonym) {
                    let t = spellings(&t)[0].to_string();
                    if !terms.contains(&t) {
                        terms.push(t);
                    }
                }
            }
        }
    });
    Rc::new(table)
}

/// The table, as this backend keeps it.
fn table() -> Rc<Table> {
    // Invalidations sent by transactions committed since are read first.
    // SAFETY: plain catalog-cache maintenance, allowed in a transaction.
    unsafe { pg_sys::AcceptInvalidationMessages() };
    if let Some(t) = TABLE
        .with(|t| t.borrow().clone())
        .filter(|_| !STALE.with(Cell::get))
    {
        return t;
    }
    let t = read_table();
    TABLE.with(|k| *k.borrow_mut() = Some(t.clone()));
    t
}

/// The query with each typed word that has synonyms searched as one
/// spelling group of its one-term forms and its synonyms' (its other
/// forms, such as a Hangul word's bigrams, stay alternatives beside it).
pub fn apply(mut q: ParsedQuery) -> ParsedQuery {
    if q.clauses.iter().all(|c| c.words.is_empty()) {
        return q;
    }
    let table = table();
    if table.is_empty() {
        return q;
    }
    // Each group is one more term: the query stays within the term limit
    // (a word past it is searched as typed).
    let mut terms = q.distinct_terms();
    for c in &mut q.clauses {
        for word in c.words.clone() {
            if terms >= crate::limits::MAX_QUERY_TERMS {
                return q;
            }
            let Some(synonyms) = key_term(&word).and_then(|k| table.get(&k)) else {
                continue;
            };
            let own = spelling_terms(&word);
            let own_terms: Vec<&str> = own.iter().flat_map(|t| spellings(t)).collect();
            let mut members = own.clone();
            for s in synonyms.iter().filter(|s| !own_terms.contains(&s.as_str())) {
                let s = other_word(s);
                if members.len() == MAX_MEMBERS {
                    break;
                }
                if !members.contains(&s) {
                    members.push(s);
                }
            }
            if members.len() > own.len() {
                join_spellings(c, &own, &members);
                terms += 1;
            }
        }
    }
    q
}

/// Replace the clause's one-term alternative spelling `own` (a term or a
/// group's members, as marked there) by the group of `members`.
pub fn join_spellings(c: &mut Clause, own: &[String], members: &[String]) {
    let is_own = |a: &Vec<crate::search::tokenize::Token>| {
        a.len() == 1
            && match crate::search::spellings::members(&a[0].term) {
                Some(m) => m.iter().all(|t| own.iter().any(|o| o == t)),
                None => own.contains(&a[0].term),
            }
    };
    let Some(first) = c.alts.iter().position(is_own) else {
        return;
    };
    let mut token = c.alts[first][0].clone();
    token.term = group_term(members);
    c.alts.retain(|a| !is_own(a));
    c.alts.insert(first.min(c.alts.len()), vec![token]);
}

/// Statement trigger on `ims_index.search_synonyms`: every backend reads
/// the table again before its next search (the invalidation is sent when
/// the transaction commits, and not if it rolls back).
#[pg_trigger]
fn search_synonyms_changed<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, PgTriggerError> {
    let relation = trigger.relation()?;
    // SAFETY: the oid of the trigger's own table.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relation.oid()) };
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    #[test]
    fn a_word_and_its_synonyms_become_one_alternative() {
        let mut q = parse("Sessions 끊김");
        assert_eq!(key_term("Sessions").as_deref(), Some("session"));
        assert_eq!(key_term("세션을").as_deref(), Some("=세션"));
        // Every form of a verb finds its rows: the key is the stem.
        for w in ["느림", "느린", "느려요", "느려졌어요"] {
            assert_eq!(key_term(w).as_deref(), Some("=느리"), "{w}");
        }
        let members = vec!["session".to_string(), "=세션".into(), "세션".into()];
        join_spellings(&mut q.clauses[0], &["session".to_string()], &members);
        assert_eq!(q.clauses[0].alts.len(), 1);
        assert_eq!(q.clauses[0].alts[0][0].term, "any:=세션|session|세션");
        // A Hangul word's one-term forms join; its bigram phrase stays beside.
        let mut q = parse("타임아웃");
        let own = spelling_terms("타임아웃");
        let mut members = own.clone();
        members.push("timeout".into());
        join_spellings(&mut q.clauses[0], &own, &members);
        let terms: Vec<&str> = q.clauses[0]
            .alts
            .iter()
            .map(|a| a[0].term.as_str())
            .collect();
        assert_eq!(terms[0], "any:=타임아웃|timeout");
        assert!(q.clauses[0].alts.iter().any(|a| a.len() > 1), "{terms:?}");
        // A two-syllable word's stem and bigram are one spelling already.
        assert_eq!(spelling_terms("세션을"), vec!["=세션", "~세션"]);
        let q = parse("세션을");
        assert_eq!(q.clauses[0].alts[0][0].term, "any:=세션|~세션");
    }
}
