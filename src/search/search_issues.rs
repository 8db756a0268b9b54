//! `ims.search_issues`: ranked search over titles, descriptions, comments
//! and attachment text.
//!
//! Issues are ranked with BM25 from the posting lists of each source of
//! the index, the base (`ims.mv_search_postings`, see `index_build`,
//! `list_format`) and each segment built after it (`segments`), with the
//! statistics of all of them; in each, the issues a newer source holds are
//! skipped, and the best `k` of every source are merged:
//! - a one-word query reads the word's champion list (its best issues in
//!   rank order) and stops at the first `k` that pass the filters;
//! - any other query first scores the issues in its terms' champion lists
//!   (a threshold algorithm: exact when the k-th best beats what any other
//!   issue could score), else walks the shortest list it requires (or, for
//!   a natural question of optional words, the union of the few lists one
//!   of which every result holds), or, once the champions gave a k-th best
//!   score, only the issues that could reach it (`block_bounds`), and looks
//!   each up in the other lists (dense lists answer in O(1)); then checks
//!   the best candidates still exist (and, for phrases, match the stored
//!   vector);
//! - issues written since the newest build ("pending") are scored from
//!   their stored vectors, with the same one-byte impacts, and skipped in
//!   the lists; until the first build every issue is pending.
//!
//! It writes nothing, so it runs on a read-only hot standby. It is
//! SECURITY DEFINER only to read the search index (materialized views are
//! not granted to ims_user); it reads nothing but the shared issue corpus.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use pgrx::prelude::*;

use pgrx::datum::DatumWithOid;

use crate::db::{builtin, read_one, read_two};
use crate::errors::{invalid_parameter, null_argument, raise, SpiOk, SpiValue};
use crate::search::block_bounds::{self, BlockView};
use crate::search::doc_sets::{self, Skip};
use crate::search::index_build::{
    any_pending, attribute_key, champions_key, pending_args, pending_predicate, usable_meta, Meta,
    Snapshot,
};
use crate::search::list_cache::{self, CachedList, Row, COVERS_KEY};
use crate::search::list_format::{Champions, Cursor, List, CHAMPIONS};
use crate::search::query::{parse, Clause, Field, ParsedQuery};
use crate::search::ranking::{
    idf, score_table, term_score, top_after, Coord, Scored, FIELD_WEIGHTS,
};
use crate::search::snippet::{make_snippet, Marks};
use crate::search::vectors::read_doc_impacts;

/// The most rows one search returns.
pub const MAX_RESULTS: i32 = 1000;

/// Text form of the tsquery for a search query's words (filters such as
/// `product:X` are not part of it). `ims.to_search_query` casts it.
#[pg_extern(immutable, parallel_safe)]
pub fn search_query_text(query: &str) -> String {
    check_query_length(query);
    parse(query).tsquery_text()
}

/// An error for a query longer than MAX_QUERY_BYTES, checked before the
/// query is normalised (NFKC can make text 18 times longer).
pub(crate) fn check_query_length(query: &str) {
    if query.len() > crate::limits::MAX_QUERY_BYTES {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "query is too long ({} bytes; the limit is {})",
                query.len(),
                crate::limits::MAX_QUERY_BYTES
            ),
            None,
        );
    }
}

/// Field filters: (values one of which must hold, values that must not).
struct Filters {
    product: (Vec<String>, Vec<String>),
    status: (Vec<String>, Vec<String>),
    priority: (Vec<String>, Vec<String>),
}

impl Filters {
    /// $2..$7 of `matches_sql!`.
    fn args(&self) -> [DatumWithOid<'static>; 6] {
        [
            self.product.0.clone().into(),
            self.product.1.clone().into(),
            self.status.0.clone().into(),
            self.status.1.clone().into(),
            self.priority.0.clone().into(),
            self.priority.1.clone().into(),
        ]
    }

    fn by_field(&self) -> [(&'static str, &Vec<String>, &Vec<String>); 3] {
        [
            ("product", &self.product.0, &self.product.1),
            ("status", &self.status.0, &self.status.1),
            ("priority", &self.priority.0, &self.priority.1),
        ]
    }
}

fn filter_args(q: &ParsedQuery, product: Option<&str>) -> Filters {
    let (mut prod_yes, prod_no) = q.filter_values(Field::Product);
    if let Some(p) = product {
        prod_yes.push(p.to_lowercase());
        // The argument and product: agree; both given means both must hold.
        if prod_yes.len() > 1 && prod_yes.iter().any(|v| *v != prod_yes[0]) {
            prod_yes = vec!["\u{1}no product matches".into()];
        }
    }
    Filters {
        product: (prod_yes, prod_no),
        status: q.filter_values(Field::Status),
        priority: q.filter_values(Field::Priority),
    }
}

/// How a query's words match a stored vector: a tsquery every result
/// matches (required words, phrases and exclusions; None if there is none)
/// and the tsqueries of the words of which it must match `min_optional`.
struct Matching {
    required: Option<String>,
    optional: Vec<String>,
    min_optional: i32,
}

impl Matching {
    fn of(q: &ParsedQuery) -> Matching {
        Matching {
            required: q.required_tsquery(),
            optional: q.optional_tsqueries(),
            min_optional: q.min_should_match() as i32,
        }
    }

    /// The same, for vectors read in Rust: each tsquery parsed once.
    fn matcher(&self) -> WordMatcher {
        WordMatcher {
            required: self
                .required
                .as_deref()
                .filter(|q| !q.is_empty())
                .map(tsquery),
            optional: self.optional.iter().map(|q| tsquery(q)).collect(),
            min_optional: self.min_optional.max(0) as usize,
        }
    }

    /// Values of `words_sql!`'s three parameters.
    fn args(&self) -> [DatumWithOid<'static>; 3] {
        [
            self.required.clone().unwrap_or_default().into(),
            self.optional.clone().into(),
            if self.optional.is_empty() {
                0
            } else {
                self.min_optional
            }
            .into(),
        ]
    }
}

/// `Matching` as parsed tsqueries, to match vectors read in Rust (what
/// `words_sql!` does in SQL).
struct WordMatcher {
    required: Option<pg_sys::Datum>,
    optional: Vec<pg_sys::Datum>,
    min_optional: usize,
}

impl WordMatcher {
    /// Whether a (detoasted) tsvector matches.
    fn matches(&self, vector: pg_sys::Datum) -> bool {
        let hit = |query: &pg_sys::Datum| {
            // SAFETY: a tsvector and a tsquery datum, as `@@` takes them.
            unsafe {
                pgrx::direct_function_call::<bool>(
                    pg_sys::ts_match_vq,
                    &[Some(vector), Some(*query)],
                )
            }
            .unwrap_or(false)
        };
        self.required.as_ref().is_none_or(hit)
            && (self.optional.is_empty()
                || self.optional.iter().filter(|q| hit(q)).count() >= self.min_optional)
    }
}

/// A tsquery datum from its text (our parser's output), in the current
/// memory context.
fn tsquery(text: &str) -> pg_sys::Datum {
    let text = std::ffi::CString::new(text).expect("a tsquery's text holds no NUL");
    // SAFETY: tsqueryin takes a cstring; an invalid text raises an ERROR.
    unsafe {
        pgrx::direct_function_call_as_datum(
            pg_sys::tsqueryin,
            &[Some(pg_sys::Datum::from(text.as_ptr()))],
        )
    }
    .expect("tsqueryin returns a query")
}

/// A query's words over `ims.issues i` (see `Matching`), with the
/// parameter numbers of the required tsquery, the optional ones and how
/// many of those must match.
macro_rules! words_sql {
    ($required:literal, $optional:literal, $min:literal) => {
        concat!(
            "(NULLIF(",
            $required,
            ", '') IS NULL OR i.search_vector @@ NULLIF(",
            $required,
            ", '')::pg_catalog.tsquery)
             AND (SELECT count(*) FROM unnest(",
            $optional,
            "::text[]) AS o(q)
                   WHERE i.search_vector @@ o.q::pg_catalog.tsquery) >= ",
            $min
        )
    };
}

/// A query's field filters as SQL over `ims.issues i`: $1..$6 the filter
/// values (see `Filters::args`). The words are matched in Rust
/// (`WordMatcher`): in SQL each tsquery would be parsed and the vector
/// read again for every row.
macro_rules! filters_sql {
    () => {
        "(cardinality($1::text[]) = 0 OR lower(i.product) = ANY ($1))
             AND NOT (coalesce(lower(i.product), '') = ANY ($2))
             AND (cardinality($3::text[]) = 0 OR lower(i.status) = ANY ($3))
             AND NOT (coalesce(lower(i.status), '') = ANY ($4))
             AND (cardinality($5::text[]) = 0 OR lower(i.priority) = ANY ($5))
             AND NOT (coalesce(lower(i.priority), '') = ANY ($6))"
    };
}

/// Issues written since the posting lists were built ("pending"): all of
/// them, so the lists' older copies are skipped, and the search vector of
/// those that pass the filters, to match and score. Planned on every call
/// (a search of a fresh install, or of many pending issues, uses it).
fn pending_sql() -> String {
    format!(
        concat!(
            "SELECT i.issue_pk, CASE WHEN ",
            filters_sql!(),
            " THEN i.search_vector END FROM ims.issues i WHERE {}"
        ),
        pending_predicate("$7", "$8", "$9")
    )
}

/// At most this many pending issues are read through `PENDING_KEPT`.
const PENDING_KEPT_LIMIT: usize = 100_000;

/// The same for an index that is built, as a plan kept by the backend: the
/// pending issues found through the stamps' index (at most
/// `PENDING_KEPT_LIMIT` past xmax), so that the plan made once for any
/// parameters still reads a handful of rows (with a bare `>=` it would scan
/// the table). Under a steady writer every search has some pending issues:
/// planning `pending_sql` each time cost about 0.4 ms.
static PENDING_KEPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn pending_kept_sql() -> &'static str {
    PENDING_KEPT.get_or_init(|| {
        format!(
            concat!(
                "SELECT i.issue_pk, CASE WHEN ",
                filters_sql!(),
                " THEN i.search_vector END FROM ims.issues i
                  WHERE i.issue_pk = ANY (
                          ARRAY(SELECT j.issue_pk FROM ims.issues j
                                 WHERE j.search_version >= $7::text::pg_catalog.xid8
                                 ORDER BY j.search_version LIMIT {limit})
                          || ARRAY(SELECT j.issue_pk FROM ims.issues j
                                    WHERE j.search_version = ANY ($8::text[]::pg_catalog.xid8[]))
                          || ARRAY(SELECT j.issue_pk FROM ims.issues j WHERE j.issue_pk < 0))
                    AND {predicate}"
            ),
            limit = PENDING_KEPT_LIMIT,
            predicate = pending_predicate("$7", "$8", "$9")
        )
    })
}

/// Which of the lists' best issues still exist (a deleted issue stays in
/// the lists until the next build).
const EXISTING: &str = "SELECT issue_pk FROM ims.issues WHERE issue_pk = ANY ($1)";
/// The same, for a query whose phrases the lists cannot check: the stored
/// vector decides.
const EXISTING_AND_MATCHING: &str = concat!(
    "SELECT issue_pk FROM ims.issues i WHERE issue_pk = ANY ($1) AND ",
    words_sql!("$2", "$3", "$4")
);

const DETAILS: &str = "\
SELECT i.issue_pk, i.issue_id, i.title, i.product, i.status, left(i.description, $2)
  FROM ims.issues i WHERE i.issue_pk = ANY ($1)";

const CHILD_TEXT: &str = "\
SELECT k.issue_pk,
       left((SELECT string_agg(c.content, E'\\n' ORDER BY c.comment_pk) FROM ims.issue_comments c WHERE c.issue_pk = k.issue_pk), $2),
       left((SELECT string_agg(a.extracted_text, E'\\n' ORDER BY a.attachment_id) FROM ims.attachments a WHERE a.issue_pk = k.issue_pk), $2)
  FROM unnest($1::bigint[]) AS k(issue_pk)";

/// The posting lists a search reads, by key, decoded (shared with the
/// backend's cache).
type Lists = HashMap<String, Rc<CachedList>>;

/// The lists and champion lists a query reads of one source of the index
/// (the base or a segment), by key (a term's champion list by the term),
/// with its statistics and, for a segment, every issue it holds.
struct Index {
    meta: Meta,
    lists: Lists,
    champions: HashMap<String, Rc<Champions>>,
    holds: Option<Rc<Vec<i64>>>,
}

impl Index {
    /// How many of its issues hold `term` (0 if neither its list nor its
    /// champion list was read).
    fn doc_freq(&self, term: &str) -> u64 {
        match (self.champions.get(term), self.lists.get(term)) {
            (Some(c), _) => c.doc_freq,
            (None, Some(l)) => l.list.len() as u64,
            (None, None) => 0,
        }
    }
}

/// The sources of the index, oldest first, with the posting lists a query
/// needs (`keys`: terms, single-word exclusions, filter values; and
/// `segment_keys` of segments only), its terms' champion lists; none when
/// the index has not been built in this cluster: every issue is pending
/// then.
fn load_index(keys: &[String], segment_keys: &[String], terms: &[String]) -> Vec<Index> {
    let mut keys = keys.to_vec();
    keys.extend(terms.iter().map(|t| champions_key(t)));
    keys.push(COVERS_KEY.to_string());
    list_cache::read(&keys, segment_keys)
        .into_iter()
        .filter_map(|source| {
            let meta = usable_meta(&source.meta).or_else(|| {
                // A segment may hold only issues without text (docs 0).
                Meta::decode(&source.meta).filter(|_| source.segment != 0)
            })?;
            let mut index = Index {
                meta,
                lists: HashMap::new(),
                champions: HashMap::new(),
                holds: None,
            };
            for (key, row) in source.rows {
                match row {
                    Row::List(list) => {
                        index.lists.insert(key, list);
                    }
                    // No term holds ':' (the tokenizer splits there): `top:` is a champion list.
                    Row::Champions(c) => {
                        let term = key.strip_prefix("top:").unwrap_or(&key).to_string();
                        index.champions.insert(term, c);
                    }
                    Row::Issues(docs) => index.holds = Some(docs),
                }
            }
            Some(index)
        })
        .collect()
}

/// The sources' builds, and for each the issues newer sources hold.
type NewerHolds = (Vec<u64>, Vec<Rc<Vec<i64>>>);

thread_local! {
    /// Of the last state of the index searched (see `newer_holds`).
    static NEWER_HOLDS: RefCell<NewerHolds> = RefCell::new(Default::default());
}

/// For each source, oldest first, the issues the newer sources hold (their
/// copies are later): the union, kept by the backend while the index stays
/// as it is (after a bulk load, segments hold hundreds of thousands).
fn newer_holds(sources: &[Index]) -> Vec<Rc<Vec<i64>>> {
    let builds: Vec<u64> = sources.iter().map(|s| s.meta.build_id).collect();
    if let Some(kept) = NEWER_HOLDS.with(|n| {
        let n = n.borrow();
        (n.0 == builds).then(|| n.1.clone())
    }) {
        return kept;
    }
    let mut out = vec![Rc::new(Vec::new()); sources.len()];
    for i in (0..sources.len().saturating_sub(1)).rev() {
        out[i] = match &sources[i + 1].holds {
            Some(holds) => Rc::new(doc_sets::merge(&out[i + 1], holds)),
            None => out[i + 1].clone(),
        };
    }
    NEWER_HOLDS.with(|n| *n.borrow_mut() = (builds, out.clone()));
    out
}

/// The k-th best rank of `ranked` (None: fewer than k).
fn kth_best(ranked: &[Scored], k: usize) -> Option<f32> {
    if ranked.len() < k {
        return None;
    }
    let mut ranks: Vec<f32> = ranked.iter().map(|s| s.rank).collect();
    let (_, kth, _) = ranks.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    Some(*kth)
}

/// Corpus statistics counted live, while the index has never been built
/// (fresh install): documents, average length, documents per term.
fn live_stats(terms: &[String]) -> (f32, f32, Vec<f32>) {
    let (docs, avg_length) = read_two::<i64, f64>(
        "SELECT count(*), avg(length(search_vector))::float8 FROM ims.issues WHERE search_vector IS NOT NULL",
        &[],
        "counting the corpus",
    );
    let doc_freq = terms
        .iter()
        .map(|t| {
            read_one::<i64>(
                "SELECT count(*) FROM ims.issues WHERE search_vector @@ $1::pg_catalog.tsquery",
                &[crate::search::query::term_tsquery(t).into()],
                "counting a term",
            )
            .unwrap_or(1)
            .max(1) as f32
        })
        .collect();
    (
        docs.unwrap_or(0).max(1) as f32,
        avg_length.unwrap_or(1.0).max(1.0) as f32,
        doc_freq,
    )
}

/// Ranked search over issue titles, descriptions, comments and attachment
/// text. Syntax: words (AND), "phrases", -exclusions, OR,
/// product:/status:/priority: filters. Best first; ties by issue_pk.
#[pg_extern(stable, parallel_restricted, security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)]
pub fn search_issues(
    query: Option<&str>,
    product: default!(Option<&str>, "NULL"),
    max_results: default!(Option<i32>, 50),
) -> TableIterator<
    'static,
    (
        name!(issue_id, String),
        name!(title, Option<String>),
        name!(product, Option<String>),
        name!(status, Option<String>),
        name!(rank, f32),
        name!(snippet, Option<String>),
    ),
> {
    let Some(query) = query else {
        null_argument("query")
    };
    let Some(max_results) = max_results else {
        null_argument("max_results")
    };
    if max_results < 0 {
        invalid_parameter(format!(
            "max_results must not be negative, got {max_results}"
        ));
    }
    if let Some(p) = product.filter(|p| p.len() > crate::limits::MAX_PRODUCT_ARG_BYTES) {
        raise(
            PgSqlErrorCode::ERRCODE_STRING_DATA_RIGHT_TRUNCATION,
            format!(
                "product is too long ({} bytes; the limit is {})",
                p.len(),
                crate::limits::MAX_PRODUCT_ARG_BYTES
            ),
            None,
        );
    }
    let parsed = crate::search::synonyms::apply(parse_checked(query));
    let k = max_results.min(MAX_RESULTS) as usize;
    if k == 0 {
        return TableIterator::new(Vec::new());
    }

    let filters = filter_args(&parsed, product);
    let (mut ranked, unknown) = ranked_by(&parsed, &filters, k);
    // Words no issue holds may be typos: searched again with the indexed
    // words closest to them (`typos`).
    let parsed = match crate::search::typos::correct(&parsed, &unknown.0, &unknown.1) {
        Some(corrected) => {
            ranked = ranked_by(&corrected, &filters, k).0;
            corrected
        }
        None => parsed,
    };
    if ranked.len() < k && parsed.min_should_match() > 1 {
        // Fewer than `k` issues hold half of the words (a question seldom
        // uses an issue's own words): issues holding any of them are
        // ranked instead, those holding more still first at equal weight.
        let any_word = ParsedQuery {
            any_word: true,
            ..parsed.clone()
        };
        ranked = ranked_by(&any_word, &filters, k).0;
    }
    TableIterator::new(with_details(ranked, &parsed, k))
}

/// The best `k` issues for a parsed query and its filters, the terms no
/// issue holds, and the builds of the index that says so.
fn ranked_by(
    parsed: &ParsedQuery,
    filters: &Filters,
    k: usize,
) -> (Vec<Scored>, (Vec<String>, Vec<u64>)) {
    let terms = parsed.scoring_terms();
    let matching = Matching::of(parsed);
    let query = Query {
        parsed,
        terms: &terms,
        matching: &matching,
        filters,
        k,
        unknown: RefCell::new((Vec::new(), Vec::new())),
    };
    let ranked = match single_term(parsed) {
        Some(term) => query.rank(Some(term)),
        None => None,
    }
    .or_else(|| query.rank(None))
    .unwrap_or_default();
    (ranked, query.unknown.into_inner())
}

/// The query parsed; an error for a query that is too long, empty, has too
/// many terms, or no word to search for.
fn parse_checked(query: &str) -> ParsedQuery {
    check_query_length(query);
    if query.trim().is_empty() {
        invalid_parameter("query must not be empty");
    }
    let parsed = parse(query);
    if parsed.distinct_terms() > crate::limits::MAX_QUERY_TERMS {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "query has {} distinct terms and filters; the limit is {}",
                parsed.distinct_terms(),
                crate::limits::MAX_QUERY_TERMS
            ),
            Some("Search for fewer words; repeated words and filters count once."),
        );
    }
    if parsed.clauses.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("query {query:?} has no words to search for"),
            Some("Give at least one word or \"phrase\" that is not excluded (-word); OR and field filters alone do not search."),
        );
    }
    parsed
}

/// The scoring term of a query with one word, if that is all it scores
/// (exclusions and filters may come with it).
fn single_term(q: &ParsedQuery) -> Option<&str> {
    match q.clauses.as_slice() {
        [c] if c.alts.len() == 1 && c.alts[0].len() == 1 => Some(c.alts[0][0].term.as_str()),
        _ => None,
    }
}

/// A search: the query parsed, its scoring terms, how stored vectors
/// match it, its filters, and how many results it wants.
struct Query<'a> {
    parsed: &'a ParsedQuery,
    terms: &'a [String],
    matching: &'a Matching,
    filters: &'a Filters,
    k: usize,
    /// Set by `rank`: the terms no issue holds, and the index's builds
    /// that says so.
    unknown: RefCell<(Vec<String>, Vec<u64>)>,
}

impl Query<'_> {
    /// The best `k` of every source of the index and of the pending
    /// issues. With `single` (a query of one word), from the champion
    /// lists only: None when some source needs the full lists.
    fn rank(&self, single: Option<&str>) -> Option<Vec<Scored>> {
        let (parsed, terms, filters) = (self.parsed, self.terms, self.filters);
        let keys = list_keys(parsed, if single.is_some() { &[] } else { terms }, filters);
        // A segment's lists are short: a word's is read whole.
        let segment_keys = if single.is_some() { terms } else { &[] };
        let sources = load_index(&keys, segment_keys, terms);
        let coord = Coord::of(parsed, terms);
        let Some(base) = sources.first() else {
            // Not built: every issue is pending, scored with live statistics.
            let (docs, avg_length, doc_freq) = live_stats(terms);
            let idf: Vec<f32> = doc_freq.iter().map(|&df| idf(docs, df)).collect();
            return Some(self.score_pending(&coord, &idf, avg_length, None).1);
        };
        // Statistics of the whole index: every source's documents and, per
        // term, the issues holding it (a term new since the builds counts as rare).
        let docs: u64 = sources.iter().map(|s| s.meta.docs).sum();
        let doc_freq: Vec<u64> = terms
            .iter()
            .map(|t| sources.iter().map(|s| s.doc_freq(t)).sum())
            .collect();
        let idf: Vec<f32> = doc_freq
            .iter()
            .map(|&df| idf(docs.max(1) as f32, df.max(1) as f32))
            .collect();
        let avg_length = base.meta.avg_length.max(1.0) as f32;
        let newest = sources.last().map(|s| &s.meta.snapshot);
        let (pending, mut ranked, held) = self.score_pending(&coord, &idf, avg_length, newest);
        // Neither in the lists nor in a pending issue that matched.
        *self.unknown.borrow_mut() = (
            terms
                .iter()
                .zip(&doc_freq)
                .enumerate()
                .filter(|&(i, (_, &df))| df == 0 && held >> i & 1 == 0)
                .map(|(_, (t, _))| t.clone())
                .collect(),
            sources.iter().map(|s| s.meta.build_id).collect(),
        );
        let needs_check = parsed
            .clauses
            .iter()
            .flat_map(|c| &c.alts)
            .chain(&parsed.excluded)
            .any(|p| p.len() > 1);
        let check = Checks::new(needs_check.then_some(self.matching));
        let scoring = Scoring {
            terms,
            idf: &idf,
            coord: &coord,
        };
        // The base first: its k-th best score is a floor the (smaller)
        // segments' issues must reach, which most cannot.
        for (source, newer) in sources.iter().zip(newer_holds(&sources)) {
            let skip = Skip {
                pending: &pending,
                newer: &newer,
            };
            let floor = kth_best(&ranked, self.k);
            let started = std::time::Instant::now();
            let best = match single {
                Some(term) if source.champions.contains_key(term) => {
                    self.best_champions(term, source, skip, idf[0], floor, &check)?
                }
                // A segment's list of the word, read whole.
                Some(_) if source.holds.is_some() => {
                    self.ranked_in(source, skip, &scoring, floor, &check)
                }
                Some(_) => return None,
                None => self.ranked_in(source, skip, &scoring, floor, &check),
            };
            debug1!(
                "ims.search_issues: source {} ({} issues, floor {floor:?}): {} results in {:?}",
                source.meta.seq,
                source.meta.docs,
                best.len(),
                started.elapsed()
            );
            ranked.extend(best);
        }
        Some(ranked)
    }

    /// One word, in one source: its champion list holds its best issues
    /// there in rank order, so the first `k` of them that match and are not
    /// skipped are its best (only those reaching `floor` can count). None
    /// (rank from the full lists) when too few of the champions match the
    /// filters.
    fn best_champions(
        &self,
        term: &str,
        index: &Index,
        skip: Skip,
        idf: f32,
        floor: Option<f32>,
        check: &Checks,
    ) -> Option<Vec<Scored>> {
        let champions = index.champions.get(term)?;
        let passes = ListedFilters {
            lists: &index.lists,
            parsed: self.parsed,
            filters: self.filters,
        };
        let phrases = self.parsed.excluded.iter().any(|p| p.len() > 1);
        // Champions below the floor, and every issue after them, cannot count.
        let reach = floor.map_or(champions.best.len(), |f| {
            champions
                .best
                .partition_point(|&(q, _)| term_score(q, idf) >= f)
        });
        let listed: Vec<(u8, i64)> = champions.best[..reach]
            .iter()
            .copied()
            .filter(|&(_, pk)| !skip.contains(pk) && passes.pass(pk))
            .collect();
        let best = first_existing(&listed, self.k, phrases, check);
        (best.len() >= self.k || reach < champions.best.len()).then(|| {
            best.into_iter()
                .map(|(q, pk)| Scored {
                    rank: term_score(q, idf).max(f32::MIN_POSITIVE),
                    issue_pk: pk,
                })
                .collect()
        })
    }

    /// Score the pending issues that match (see `score_pending`).
    fn score_pending(
        &self,
        coord: &Coord,
        idf: &[f32],
        avg_length: f32,
        newest: Option<&Snapshot>,
    ) -> (Vec<i64>, Vec<Scored>, u64) {
        score_pending(
            self.matching,
            coord,
            self.terms,
            idf,
            avg_length,
            self.filters,
            newest,
        )
    }
}

/// Filters and one-word exclusions checked in their posting lists; longer
/// exclusions need the stored vectors (see `existing`).
struct ListedFilters<'a> {
    lists: &'a Lists,
    parsed: &'a ParsedQuery,
    filters: &'a Filters,
}

impl ListedFilters<'_> {
    fn has(&self, key: &str, pk: i64) -> bool {
        self.lists
            .get(key)
            .is_some_and(|l| l.list.cursor().find(pk).is_some())
    }

    fn pass(&self, pk: i64) -> bool {
        self.filters.by_field().iter().all(|(field, yes, no)| {
            (yes.is_empty() || yes.iter().any(|v| self.has(&attribute_key(field, v), pk)))
                && !no.iter().any(|v| self.has(&attribute_key(field, v), pk))
        }) && !self
            .parsed
            .excluded
            .iter()
            .any(|p| p.len() == 1 && self.has(&p[0].term, pk))
    }
}

/// The first `k` of `listed` (in their order) that still exist (and, with
/// `matching`, match the query on their stored vectors), asking in growing
/// batches.
fn first_existing(
    listed: &[(u8, i64)],
    k: usize,
    matching: bool,
    check: &Checks,
) -> Vec<(u8, i64)> {
    let mut found = Vec::with_capacity(k);
    let mut done = 0;
    let mut want = k + 16;
    while found.len() < k && done < listed.len() {
        let batch = &listed[done..(done + want).min(listed.len())];
        let pks: Vec<i64> = batch.iter().map(|c| c.1).collect();
        let alive = check.alive(&pks, matching && check.matching.is_some());
        let room = k - found.len();
        found.extend(batch.iter().filter(|c| alive.contains(&c.1)).take(room));
        done += batch.len();
        want *= 4;
    }
    found
}

/// A segment of at most this many issues is scored whole: cheaper than
/// bounding its issues, whose issue_pks (re-crawled issues among them)
/// spread over the whole range.
const SMALL_SEGMENT: u64 = 4096;

impl Query<'_> {
    /// The best `k` of one source, ranked from its posting lists of every
    /// word, exclusion and filter, skipping `skip`; none that scores below
    /// `floor` (the k-th best found in the sources before) need be.
    fn ranked_in(
        &self,
        index: &Index,
        skip: Skip,
        scoring: &Scoring,
        floor: Option<f32>,
        check: &Checks,
    ) -> Vec<Scored> {
        let (parsed, filters, k) = (self.parsed, self.filters, self.k);
        let lists = &index.lists;
        let score = |docs| score_listed(parsed, lists, filters, skip, scoring, docs);
        if index.holds.is_some() && index.meta.docs <= SMALL_SEGMENT {
            let listed = score(Driver::Lists);
            let listed = match floor {
                Some(f) => listed.reaching(f),
                None => listed,
            };
            return best_listed(&listed, k, check);
        }
        // In a segment (short lists, and a floor the base set high), the few
        // issues whose bounds reach the floor are found at once. The base's
        // floor comes only from pending issues, often too low to prune its
        // long lists: its champions raise it first.
        let segment_floor = floor.filter(|_| index.holds.is_some());
        if let Some(bounded) = segment_floor.and_then(|f| bounded_candidates(lists, scoring, f)) {
            return best_bounded(bounded, floor.unwrap_or_default(), score, k, check);
        }
        match best_from_champions(parsed, index, filters, skip, scoring, check, k, floor) {
            Ok(best) => best,
            // Only the issues that could reach the k-th best score the
            // champions gave, when that can be told from the lists.
            Err(floor) => {
                let bounded = floor.and_then(|f| Some((f, bounded_candidates(lists, scoring, f)?)));
                match bounded {
                    Some((floor, bounded)) => {
                        debug1!(
                            "ims.search_issues: {} issues can reach the floor {floor}",
                            bounded.len()
                        );
                        best_bounded(bounded, floor, score, k, check)
                    }
                    None => best_listed(&score(Driver::Lists), k, check),
                }
            }
        }
    }
}

/// The terms a query scores, their idf, and its clauses for coordination.
struct Scoring<'a> {
    terms: &'a [String],
    idf: &'a [f32],
    coord: &'a Coord,
}

/// The listed issues that could score at least `floor`, with the most each
/// could score (see `block_bounds`); None when the lists cannot tell.
fn bounded_candidates(lists: &Lists, scoring: &Scoring, floor: f32) -> Option<Vec<(i64, f32)>> {
    let empty = List::empty();
    let empty_view = BlockView::of(&empty);
    let (term_lists, views): (Vec<&List>, Vec<&BlockView>) = scoring
        .terms
        .iter()
        .map(|t| {
            lists
                .get(t)
                .map_or((&empty, &empty_view), |l| (&l.list, l.view()))
        })
        .unzip();
    let tables: Vec<[f32; 256]> = scoring.idf.iter().map(|&idf| score_table(idf)).collect();
    block_bounds::reaching(&term_lists, &views, &tables, scoring.coord, floor)
}

/// How many of the most promising bounded issues are scored first.
const FIRST_SCORED: usize = 512;

/// The best `k` of issues with bounds (ascending), all reaching `floor`,
/// scored by `score`: the most promising first; of the others, only those
/// whose bound reaches the k-th best score found. Exact: should results
/// have been deleted, so that the k-th best left is below that score, the
/// rest are scored too.
fn best_bounded(
    bounded: Vec<(i64, f32)>,
    floor: f32,
    score: impl Fn(Driver) -> Listed,
    k: usize,
    check: &Checks,
) -> Vec<Scored> {
    let first = FIRST_SCORED.max(4 * k);
    // Issues scoring below the floor cannot be among the best: k others
    // that exist score at least that much.
    let score = |docs: Vec<i64>| score(Driver::Candidates(docs)).reaching(floor);
    if bounded.len() <= first {
        let listed = score(bounded.into_iter().map(|b| b.0).collect());
        return best_listed(&listed, k, check);
    }
    let mut by_bound: Vec<f32> = bounded.iter().map(|b| b.1).collect();
    let (_, &mut cut, _) = by_bound.select_nth_unstable_by(first - 1, |a, b| b.total_cmp(a));
    let (promising, rest): (Vec<(i64, f32)>, Vec<(i64, f32)>) =
        bounded.into_iter().partition(|b| b.1 >= cut);
    let mut listed = score(promising.iter().map(|b| b.0).collect());
    // The floor holds too: it is the k-th best of the champions' issues
    // (all of them among `bounded`, scored in one round or the other).
    let kth = top_after(&listed.docs, &listed.ranks, k, None)
        .get(k - 1)
        .map_or(floor, |s| s.rank.max(floor));
    let (contenders, below): (Vec<(i64, f32)>, Vec<(i64, f32)>) =
        rest.into_iter().partition(|b| b.1 >= kth);
    debug1!(
        "ims.search_issues: scored {} first, then {} of {} (k-th best {kth})",
        promising.len(),
        contenders.len(),
        contenders.len() + below.len()
    );
    listed.extend(score(contenders.into_iter().map(|b| b.0).collect()));
    let best = best_listed(&listed, k, check);
    if best.get(k - 1).is_some_and(|s| s.rank >= kth) || below.is_empty() {
        return best;
    }
    listed.extend(score(below.into_iter().map(|b| b.0).collect()));
    best_listed(&listed, k, check)
}

/// The best `k` listed issues, found among the terms' champion lists (a
/// short list counts whole): every issue in any of them is checked and
/// scored in full. Exact when the k-th best scores above what any other
/// issue could (each term at most its champions' lowest impact); otherwise
/// the error holds the k-th best score found (a floor for the full walk),
/// if k were found.
fn best_from_champions(
    q: &ParsedQuery,
    index: &Index,
    f: &Filters,
    skip: Skip,
    scoring: &Scoring,
    check: &Checks,
    k: usize,
    floor: Option<f32>,
) -> Result<Vec<Scored>, Option<f32>> {
    // `bound`: the most an issue outside the champion lists could score;
    // `top`: the most any issue of this source could.
    let (mut bound, mut top) = (0.0f32, 0.0f32);
    let mut sets = Vec::with_capacity(scoring.terms.len());
    for (t, &idf) in scoring.terms.iter().zip(scoring.idf) {
        let list = index.lists.get(t).map(|l| &l.list);
        match index.champions.get(t) {
            Some(c) => {
                let (Some(best), Some(last)) = (c.best.first(), c.best.last()) else {
                    return Err(floor);
                };
                bound += term_score(last.0, idf);
                top += term_score(best.0, idf);
                let mut docs: Vec<i64> = c.best.iter().map(|b| b.1).collect();
                docs.sort_unstable();
                sets.push(docs);
            }
            None if list.is_some_and(|l| l.len() > CHAMPIONS) => return Err(floor),
            None => {
                let postings = list.map(|l| l.postings()).unwrap_or_default();
                let most = postings.impacts.iter().copied().max();
                top += most.map_or(0.0, |q| term_score(q, idf));
                sets.push(postings.docs);
            }
        }
    }
    // Nothing here can join the results found in other sources.
    if floor.is_some_and(|f| top < f) {
        return Ok(Vec::new());
    }
    let candidates = doc_sets::union(sets);
    let driver = Driver::Candidates(candidates);
    let listed = score_listed(q, &index.lists, f, skip, scoring, driver);
    let best = best_listed(&listed, k, check);
    // What an issue must score to count: the k-th best here, or found elsewhere.
    let need = match (best.get(k - 1).map(|s| s.rank), floor) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match need {
        Some(need) if need > bound => Ok(best),
        need => Err(need),
    }
}

/// A result row: issue_id, title, product, status, rank, snippet.
type ResultRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    f32,
    Option<String>,
);

/// The best `k` with their titles, products, statuses and snippets.
fn with_details(mut ranked: Vec<Scored>, q: &ParsedQuery, k: usize) -> Vec<ResultRow> {
    if ranked.is_empty() {
        return Vec::new();
    }
    ranked.sort_by(Scored::order);
    ranked.truncate(k);
    let pks: Vec<i64> = ranked.iter().map(|s| s.issue_pk).collect();
    let words = q.clauses.iter().map(|c| {
        c.alts
            .iter()
            .flatten()
            .flat_map(|t| crate::search::spellings::spellings(&t.term))
            .map(str::to_string)
            .collect()
    });
    let required = q.clauses.iter().filter(|c| c.required).count();
    let enough = (!q.all_required()).then(|| required + q.min_should_match());
    let marks = Marks::new(words, enough);
    let mut rows = read_details(pks, &marks);
    // Snippets prefer the description: comments and attachments are read
    // only for issues whose description lacks some of the words.
    let incomplete: Vec<i64> = rows
        .iter()
        .filter(|(_, r)| !r.snippet_complete)
        .map(|(pk, _)| *pk)
        .collect();
    if !incomplete.is_empty() {
        snippets_from_children(&mut rows, incomplete, &marks);
    }
    ranked
        .into_iter()
        .filter_map(|s| {
            let r = rows.remove(&s.issue_pk)?;
            Some((r.issue_id, r.title, r.product, r.status, s.rank, r.snippet))
        })
        .collect()
}

/// A result's details while its snippet is made.
struct Details {
    issue_id: String,
    title: Option<String>,
    product: Option<String>,
    status: Option<String>,
    description: Option<String>,
    snippet: Option<String>,
    /// The description held every word.
    snippet_complete: bool,
}

/// In characters, at least SCANNED_BYTES bytes.
const SCANNED_CHARS: i32 = crate::search::snippet::SCANNED_BYTES as i32;

/// The results' titles, products, statuses and snippets from their
/// descriptions, by issue_pk.
fn read_details(pks: Vec<i64>, marks: &Marks) -> HashMap<i64, Details> {
    Spi::connect(|c| {
        crate::db::select_kept(
            &c,
            DETAILS,
            &[
                builtin(PgBuiltInOids::INT8ARRAYOID),
                builtin(PgBuiltInOids::INT4OID),
            ],
            &[pks.into(), SCANNED_CHARS.into()],
            "reading results",
        )
        .map(|r| {
            let text = |i: usize| r.get::<String>(i).spi_ok("reading results");
            let pk = r.get::<i64>(1).value("issue_pk of a result");
            let description = text(6);
            let (snippet, snippet_complete) =
                make_snippet([description.as_deref(), None, None, None], marks);
            let details = Details {
                issue_id: r.get::<String>(2).value("issue_id of a result"),
                title: text(3),
                product: text(4),
                status: text(5),
                description,
                snippet,
                snippet_complete,
            };
            (pk, details)
        })
        .collect()
    })
}

/// Snippets of these results from their description, comments, attachment
/// text and title.
fn snippets_from_children(rows: &mut HashMap<i64, Details>, pks: Vec<i64>, marks: &Marks) {
    Spi::connect(|c| {
        for r in crate::db::select_kept(
            &c,
            CHILD_TEXT,
            &[
                builtin(PgBuiltInOids::INT8ARRAYOID),
                builtin(PgBuiltInOids::INT4OID),
            ],
            &[pks.into(), SCANNED_CHARS.into()],
            "reading results",
        ) {
            let text = |i: usize| r.get::<String>(i).spi_ok("reading results");
            let pk = r.get::<i64>(1).value("issue_pk of a result");
            if let Some(row) = rows.get_mut(&pk) {
                let (comments, attachments) = (text(2), text(3));
                let fields = [
                    row.description.as_deref(),
                    comments.as_deref(),
                    attachments.as_deref(),
                    row.title.as_deref(),
                ];
                row.snippet = make_snippet(fields, marks).0;
            }
        }
    });
}

/// The posting-list keys a query reads: its terms, its single-word
/// exclusions and its filter values.
fn list_keys(q: &ParsedQuery, terms: &[String], f: &Filters) -> Vec<String> {
    let mut keys: Vec<String> = terms.to_vec();
    keys.extend(
        q.excluded
            .iter()
            .filter(|p| p.len() == 1)
            .map(|p| p[0].term.clone()),
    );
    for (field, yes, no) in f.by_field() {
        keys.extend(yes.iter().chain(no).map(|v| attribute_key(field, v)));
    }
    keys
}

/// Score the pending issues that match. Returns every pending issue_pk
/// (sorted), the scored matches, and a bit per term of `terms` that one of
/// them holds.
fn score_pending(
    matching: &Matching,
    coord: &Coord,
    terms: &[String],
    idf: &[f32],
    avg_length: f32,
    f: &Filters,
    newest: Option<&Snapshot>,
) -> (Vec<i64>, Vec<Scored>, u64) {
    let mut pending = Vec::new();
    let mut scored = Vec::new();
    let mut held = 0u64;
    if !any_pending(newest) {
        return (pending, scored, held);
    }
    let mut args: Vec<DatumWithOid<'static>> = f.args().into();
    args.extend(pending_args(newest));
    let words = matching.matcher();
    let mut take = |row: pgrx::spi::SpiHeapTupleData| {
        crate::limits::check_for_interrupts();
        let pk = row.get::<i64>(1).value("issue_pk of a pending issue");
        pending.push(pk);
        let Some(vector) = row
            .get::<pgrx::AnyElement>(2)
            .spi_ok("reading a pending issue")
        else {
            return;
        };
        // SAFETY: column 2 is issues.search_vector, a non-null tsvector,
        // read whole once for matching and scoring.
        let doc = unsafe {
            let raw = vector.datum().cast_mut_ptr::<pg_sys::varlena>();
            let plain = pg_sys::pg_detoast_datum(raw);
            let vector = pg_sys::Datum::from(plain);
            let doc = words
                .matches(vector)
                .then(|| read_doc_impacts(vector, terms, &FIELD_WEIGHTS, avg_length));
            if plain != raw {
                pg_sys::pfree(plain.cast());
            }
            doc
        };
        let Some(doc) = doc else {
            return;
        };
        let rank: f32 = doc
            .iter()
            .zip(idf)
            .map(|(&q, &idf)| term_score(q, idf))
            .sum();
        let found = doc
            .iter()
            .enumerate()
            .filter(|(_, &q)| q > 0)
            .fold(0u64, |m, (i, _)| m | 1 << i);
        held |= found;
        scored.push(Scored {
            rank: (rank * coord.factor(found)).max(f32::MIN_POSITIVE),
            issue_pk: pk,
        });
    };
    let what = "finding pending issues";
    Spi::connect(|c| {
        // Through the kept plan, unless that may have left some out: the
        // stamps past xmax are read in order, so a cut there leaves out
        // only stamps beyond the first PENDING_KEPT_LIMIT (a restore's
        // stamps from another cluster, not pending, sort last), and then
        // at least that many rows come back.
        let kept = newest.is_some().then(|| {
            let text = builtin(PgBuiltInOids::TEXTOID);
            let texts = builtin(PgBuiltInOids::TEXTARRAYOID);
            let types = [
                texts,
                texts,
                texts,
                texts,
                texts,
                texts,
                text,
                texts,
                builtin(PgBuiltInOids::BOOLOID),
            ];
            crate::db::select_kept(&c, pending_kept_sql(), &types, &args, what)
        });
        match kept {
            Some(rows) if rows.len() < PENDING_KEPT_LIMIT => rows.for_each(&mut take),
            _ => c
                .select(&pending_sql(), None, &args)
                .spi_ok(what)
                .for_each(&mut take),
        }
    });
    pending.sort_unstable();
    if !pending.is_empty() {
        crate::search::indexer::ensure_running();
    }
    (pending, scored, held)
}

/// Score the issues in the posting lists that satisfy the query: every
/// required word (a phrase as all its words; an OR clause as either side),
/// enough of the optional ones, the filters and the exclusions, skipping
/// pending issues, driven by `driver`.
fn score_listed(
    q: &ParsedQuery,
    lists: &Lists,
    f: &Filters,
    skip: Skip,
    scoring: &Scoring,
    driver: Driver,
) -> Listed {
    let lists = QueryLists {
        lists,
        empty: List::empty(),
    };
    let all_required = q.all_required();
    let clause = |c: &Clause| {
        // The lists see an alternative as its set of terms: phrases at
        // other distances over the same terms are looked up once.
        let mut sets: Vec<Vec<&str>> = c
            .alts
            .iter()
            .map(|p| {
                let mut terms: Vec<&str> = p.iter().map(|t| t.term.as_str()).collect();
                terms.sort_unstable();
                terms.dedup();
                terms
            })
            .collect();
        sets.sort_unstable();
        sets.dedup();
        ClauseLists {
            alts: sets
                .iter()
                .map(|terms| terms.iter().map(|t| lists.get(t)).collect())
                .collect(),
        }
    };
    let mut required: Vec<ClauseLists> = q
        .clauses
        .iter()
        .filter(|c| all_required || c.required)
        .map(clause)
        .collect();
    // A filter is a clause whose alternatives are its values.
    let filters: Vec<ClauseLists> = f
        .by_field()
        .into_iter()
        .filter(|(_, yes, _)| !yes.is_empty())
        .map(|(field, yes, _)| ClauseLists {
            alts: yes
                .iter()
                .map(|v| vec![lists.get(&attribute_key(field, v))])
                .collect(),
        })
        .collect();
    required.extend(filters.iter().map(|c| ClauseLists {
        alts: c.alts.clone(),
    }));
    let mut optional: Vec<ClauseLists> = q
        .clauses
        .iter()
        .filter(|c| !(all_required || c.required))
        .map(clause)
        .collect();
    required.sort_by_key(ClauseLists::size);
    optional.sort_by_key(ClauseLists::size);
    let min_optional = if all_required {
        0
    } else {
        q.min_should_match()
    };
    let driver = match driver {
        Driver::Candidates(candidates) => candidates,
        Driver::Lists => match required.first() {
            Some(smallest) => smallest.docs(&lists),
            // A result is in at least one of the smallest n - m + 1 optional clauses.
            None if min_optional > 0 => doc_sets::union(
                optional[..optional.len() - min_optional + 1]
                    .iter()
                    .map(|c| c.docs(&lists)),
            ),
            None => return Listed::default(),
        },
    };
    let walk = Walk {
        filters: filters.iter().map(ClauseLists::cursors).collect(),
        excluded: lists.excluded(q, f),
        scoring: scoring
            .terms
            .iter()
            .zip(scoring.idf)
            .map(|(t, &idf)| (lists.get(t).cursor(), score_table(idf)))
            .collect(),
        coord: scoring.coord,
        phrase_excluded: q.excluded.iter().any(|p| p.len() > 1),
    };
    walk.run(driver, skip)
}

/// The issues a walk checks: given candidates, or those of the lists it
/// must read (the smallest required clause or, for a natural question of
/// optional words, the union of the few one of which every result holds).
enum Driver {
    Candidates(Vec<i64>),
    Lists,
}

/// The posting lists a query reads, by key; a key not in the index reads
/// as an empty list.
struct QueryLists<'a> {
    lists: &'a Lists,
    empty: List,
}

impl QueryLists<'_> {
    fn get(&self, key: &str) -> &List {
        self.lists.get(key).map_or(&self.empty, |l| &l.list)
    }

    /// The issues holding every one of these lists' terms: the shortest
    /// list, looked up in the others.
    fn all_of(&self, words: &[&List]) -> Vec<i64> {
        let mut words = words.to_vec();
        words.sort_by_key(|l| l.len());
        let Some((shortest, rest)) = words.split_first() else {
            return Vec::new();
        };
        let mut rest: Vec<Cursor> = rest.iter().map(|l| l.cursor()).collect();
        let mut docs = shortest.postings().docs;
        let mut seen = 0usize;
        docs.retain(|&d| {
            seen += 1;
            if seen % 4096 == 0 {
                crate::limits::check_for_interrupts();
            }
            rest.iter_mut().all(|c| c.find(d).is_some())
        });
        docs
    }

    /// The lists no result may be in: one-word exclusions and excluded
    /// filter values.
    fn excluded(&self, q: &ParsedQuery, f: &Filters) -> Vec<Cursor<'_>> {
        let mut excluded: Vec<Cursor> = q
            .excluded
            .iter()
            .filter(|p| p.len() == 1)
            .map(|p| self.get(&p[0].term).cursor())
            .collect();
        for (field, _, no) in f.by_field() {
            excluded.extend(
                no.iter()
                    .map(|v| self.get(&attribute_key(field, v)).cursor()),
            );
        }
        excluded
    }
}

/// A clause as posting lists: an issue holds it when it is in every list
/// of one of its alternatives (phrase order is checked on the stored
/// vector).
struct ClauseLists<'a> {
    alts: Vec<Vec<&'a List>>,
}

impl<'a> ClauseLists<'a> {
    /// At most how many issues hold it.
    fn size(&self) -> usize {
        self.alts
            .iter()
            .map(|a| a.iter().map(|l| l.len()).min().unwrap_or(0))
            .sum()
    }

    /// The issues holding it, ascending.
    fn docs(&self, lists: &QueryLists) -> Vec<i64> {
        match self.alts.as_slice() {
            [one] if one.len() == 1 => one[0].postings().docs,
            _ => doc_sets::union(self.alts.iter().map(|a| lists.all_of(a))),
        }
    }

    fn cursors(&self) -> Vec<Vec<Cursor<'a>>> {
        self.alts
            .iter()
            .map(|a| a.iter().map(|l| l.cursor()).collect())
            .collect()
    }
}

/// Whether a clause's cursors hold issue `d` (called with `d` ascending).
fn holds(alts: &mut [Vec<Cursor>], d: i64) -> bool {
    alts.iter_mut()
        .any(|alt| alt.iter_mut().all(|c| c.find(d).is_some()))
}

/// A walk along the driving issues: keep an issue that holds every
/// required clause, enough optional ones and no excluded list, and score it.
struct Walk<'a> {
    /// Field filters, as clauses of their values' lists (the query's own
    /// clauses are checked on the terms found: `Coord::matches`).
    filters: Vec<Vec<Vec<Cursor<'a>>>>,
    excluded: Vec<Cursor<'a>>,
    scoring: Vec<(Cursor<'a>, [f32; 256])>,
    coord: &'a Coord,
    /// A phrase is excluded: whether an issue holds it is known only from
    /// its stored vector.
    phrase_excluded: bool,
}

/// The issues a walk kept with their scores (ascending, for one walk), and
/// those of them, ascending, that match the query only if their stored
/// vectors say so (phrases).
#[derive(Default)]
struct Listed {
    docs: Vec<i64>,
    ranks: Vec<f32>,
    unsure: Vec<i64>,
}

impl Listed {
    /// Only the issues scoring at least `floor`.
    fn reaching(mut self, floor: f32) -> Listed {
        let mut kept = 0;
        for i in 0..self.docs.len() {
            if self.ranks[i] >= floor {
                self.docs[kept] = self.docs[i];
                self.ranks[kept] = self.ranks[i];
                kept += 1;
            }
        }
        self.docs.truncate(kept);
        self.ranks.truncate(kept);
        let docs = &self.docs;
        self.unsure.retain(|d| docs.binary_search(d).is_ok());
        self
    }

    /// Add another walk's issues (the two sets are disjoint).
    fn extend(&mut self, other: Listed) {
        self.docs.extend(other.docs);
        self.ranks.extend(other.ranks);
        self.unsure.extend(other.unsure);
        self.unsure.sort_unstable();
    }
}

impl Walk<'_> {
    fn run(mut self, driver: Vec<i64>, skip: Skip) -> Listed {
        let mut out = Listed::default();
        let mut skip = skip.walker();
        for (i, d) in driver.into_iter().enumerate() {
            if i % 4096 == 0 {
                crate::limits::check_for_interrupts();
            }
            if skip.contains(d) {
                continue;
            }
            let (rank, found) = self.score(d);
            if !self.coord.matches(found) || !self.keeps(d) {
                continue;
            }
            out.docs.push(d);
            out.ranks.push(rank);
            if self.phrase_excluded || !self.coord.surely_holds(found) {
                out.unsure.push(d);
            }
        }
        out
    }

    /// Whether `d` passes the filters and holds no excluded word.
    fn keeps(&mut self, d: i64) -> bool {
        self.filters.iter_mut().all(|c| holds(c, d))
            && !self.excluded.iter_mut().any(|c| c.find(d).is_some())
    }

    /// The score and the terms found (a bit per scoring term).
    fn score(&mut self, d: i64) -> (f32, u64) {
        let mut found = 0u64;
        let mut sum = 0.0;
        for (i, (c, score)) in self.scoring.iter_mut().enumerate() {
            if let Some(q) = c.find(d) {
                sum += score[q as usize];
                found |= 1 << i;
            }
        }
        (sum * self.coord.factor(found), found)
    }
}

/// The best `k` of the scored candidates that still exist (and, when the
/// query has phrases, those not sure to match from the lists match it on
/// their stored vectors).
fn best_listed(listed: &Listed, k: usize, check: &Checks) -> Vec<Scored> {
    // Take the best few, check they exist; take more if too many are gone.
    let mut found: Vec<Scored> = Vec::new();
    let mut last: Option<Scored> = None;
    let mut want = k + 16;
    loop {
        let batch = top_after(&listed.docs, &listed.ranks, want, last);
        let Some(&end) = batch.last() else { break };
        let (unsure, sure): (Vec<i64>, Vec<i64>) = batch
            .iter()
            .map(|s| s.issue_pk)
            .partition(|pk| check.matching.is_some() && listed.unsure.binary_search(pk).is_ok());
        let mut alive = check.alive(&sure, false);
        alive.extend(check.alive(&unsure, true));
        found.extend(batch.iter().filter(|s| alive.contains(&s.issue_pk)));
        if found.len() >= k || batch.len() < want {
            break;
        }
        last = Some(end);
        want *= 4;
    }
    found
}

/// Which listed issues still exist (a deleted issue stays in the lists until
/// the next build) and, asked with the matching, match the query on their
/// stored vectors: each issue asked once per search (the champion lists and
/// the bounded walk often propose the same ones).
struct Checks<'a> {
    matching: Option<&'a Matching>,
    known: RefCell<HashMap<(i64, bool), bool>>,
}

impl<'a> Checks<'a> {
    fn new(matching: Option<&'a Matching>) -> Checks<'a> {
        Checks {
            matching,
            known: RefCell::new(HashMap::new()),
        }
    }

    /// Of `pks`, those that exist (and, with `matching`, match).
    fn alive(&self, pks: &[i64], matching: bool) -> HashSet<i64> {
        let unknown: Vec<i64> = {
            let known = self.known.borrow();
            pks.iter()
                .copied()
                .filter(|&pk| !known.contains_key(&(pk, matching)))
                .collect()
        };
        if !unknown.is_empty() {
            let found = existing(&unknown, self.matching.filter(|_| matching));
            let mut known = self.known.borrow_mut();
            for pk in unknown {
                known.insert((pk, matching), found.contains(&pk));
            }
        }
        let known = self.known.borrow();
        pks.iter()
            .copied()
            .filter(|&pk| known.get(&(pk, matching)) == Some(&true))
            .collect()
    }
}

fn existing(pks: &[i64], check: Option<&Matching>) -> HashSet<i64> {
    if pks.is_empty() {
        return HashSet::new();
    }
    let what = "checking results";
    Spi::connect(|c| {
        let rows = match check {
            None => crate::db::select_kept(
                &c,
                EXISTING,
                &[builtin(PgBuiltInOids::INT8ARRAYOID)],
                &[pks.to_vec().into()],
                what,
            ),
            Some(m) => {
                let [required, optional, min] = m.args();
                let types = [
                    builtin(PgBuiltInOids::INT8ARRAYOID),
                    builtin(PgBuiltInOids::TEXTOID),
                    builtin(PgBuiltInOids::TEXTARRAYOID),
                    builtin(PgBuiltInOids::INT4OID),
                ];
                let args = [pks.to_vec().into(), required, optional, min];
                crate::db::select_kept(&c, EXISTING_AND_MATCHING, &types, &args, what)
            }
        };
        rows.filter_map(|r| r.get::<i64>(1).spi_ok(what)).collect()
    })
}
