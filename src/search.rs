//! `ims.search_issues`: ranked search over titles, descriptions, comments
//! and attachment text.
//!
//! Candidates come from the GIN index on `issues.search_vector` (the
//! query's words as a tsquery, so phrases, OR and exclusions are exact).
//! Each candidate is scored with BM25 over its field-weighted term
//! frequencies, read straight from the stored tsvector; inverse document
//! frequencies and the average document length come from
//! `ims.mv_search_stats` (refreshed by `ims.refresh_materialized_views()`),
//! or are counted live while that view is empty. It writes nothing, so it
//! runs on a read-only hot standby. It is SECURITY DEFINER only to read that
//! view (materialized views are not granted to ims_user); it reads nothing
//! but the shared issue corpus.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use pgrx::prelude::*;

use crate::db::{read_one, read_two};
use crate::errors::{invalid_parameter, null_argument, raise, SpiOk};
use crate::search_index::{prefix, read_doc_terms, INDEXED_BYTES};
use crate::search_query::{parse, Field, ParsedQuery};
use crate::tokenize::{tokenize, Mode};

/// BM25 parameters: term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Field weights by tsvector weight bits: D attachments, C comments,
/// B description, A title.
const FIELD_WEIGHTS: [f32; 4] = [0.5, 0.7, 1.0, 3.0];
/// The most rows one search returns.
pub const MAX_RESULTS: i32 = 1000;
/// Snippet size around the best match, in bytes of source text.
const SNIPPET_BEFORE: usize = 80;
const SNIPPET_AFTER: usize = 160;

/// Text form of the tsquery for a search query's words (filters such as
/// `product:X` are not part of it). `ims.to_search_query` casts it.
#[pg_extern(immutable, parallel_safe)]
pub fn search_query_text(query: &str) -> String {
    parse(query).tsquery_text()
}

struct Corpus {
    docs: f32,
    avg_length: f32,
    doc_freq: Vec<f32>,
}

fn corpus_stats(terms: &[String]) -> Corpus {
    let (docs, avg_length) = read_two::<i64, f64>(
        "SELECT doc_freq, avg_length FROM ims.mv_search_stats WHERE term = ''",
        &[],
        "reading search statistics",
    );
    let docs = docs.unwrap_or(0);
    if docs > 0 {
        let known: HashMap<String, i64> = Spi::connect(|c| {
            c.select(
                "SELECT term, doc_freq FROM ims.mv_search_stats WHERE term = ANY($1)",
                None,
                &[terms.to_vec().into()],
            )
            .spi_ok("reading search statistics")
            .map(|r| {
                (
                    r.get::<String>(1)
                        .spi_ok("reading search statistics")
                        .unwrap_or_default(),
                    r.get::<i64>(2)
                        .spi_ok("reading search statistics")
                        .unwrap_or(0),
                )
            })
            .collect()
        });
        return Corpus {
            docs: docs as f32,
            avg_length: avg_length.unwrap_or(1.0).max(1.0) as f32,
            // A term new since the last refresh counts as rare.
            doc_freq: terms
                .iter()
                .map(|t| known.get(t).copied().unwrap_or(1) as f32)
                .collect(),
        };
    }
    // Statistics not built yet (fresh install, restore): count live.
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
                &[crate::search_query::quote_lexeme(t).into()],
                "counting a term",
            )
            .unwrap_or(1)
            .max(1) as f32
        })
        .collect();
    Corpus {
        docs: docs.unwrap_or(0).max(1) as f32,
        avg_length: avg_length.unwrap_or(1.0).max(1.0) as f32,
        doc_freq,
    }
}

/// A scored candidate; the heap keeps the best `k`.
struct Scored {
    rank: f32,
    issue_id: String,
    issue_pk: i64,
}

impl PartialEq for Scored {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scored {
    /// "Greater" is better: higher rank, then smaller issue_id.
    fn cmp(&self, o: &Self) -> Ordering {
        self.rank
            .total_cmp(&o.rank)
            .then_with(|| o.issue_id.cmp(&self.issue_id))
    }
}

fn filter_args(q: &ParsedQuery, product: Option<&str>) -> [Vec<String>; 6] {
    let (mut prod_yes, prod_no) = q.filter_values(Field::Product);
    if let Some(p) = product {
        prod_yes.push(p.to_lowercase());
        // The argument and product: agree; both given means both must hold.
        if prod_yes.len() > 1 && prod_yes.iter().any(|v| *v != prod_yes[0]) {
            prod_yes = vec!["\u{0}no product matches".into()];
        }
    }
    let (status_yes, status_no) = q.filter_values(Field::Status);
    let (prio_yes, prio_no) = q.filter_values(Field::Priority);
    [prod_yes, prod_no, status_yes, status_no, prio_yes, prio_no]
}

const CANDIDATES: &str = "\
SELECT i.issue_pk, i.issue_id, i.search_vector
  FROM ims.issues i
 WHERE i.search_vector @@ $1::pg_catalog.tsquery
   AND (cardinality($2::text[]) = 0 OR lower(i.product) = ANY ($2))
   AND NOT (coalesce(lower(i.product), '') = ANY ($3))
   AND (cardinality($4::text[]) = 0 OR lower(i.status) = ANY ($4))
   AND NOT (coalesce(lower(i.status), '') = ANY ($5))
   AND (cardinality($6::text[]) = 0 OR lower(i.priority) = ANY ($6))
   AND NOT (coalesce(lower(i.priority), '') = ANY ($7))";

const DETAILS: &str = "\
SELECT i.issue_pk, i.issue_id, i.title, i.product, i.status, i.description,
       (SELECT string_agg(c.content, E'\\n' ORDER BY c.comment_pk) FROM ims.issue_comments c WHERE c.issue_pk = i.issue_pk),
       (SELECT string_agg(a.extracted_text, E'\\n' ORDER BY a.attachment_id) FROM ims.attachments a WHERE a.issue_pk = i.issue_pk)
  FROM ims.issues i WHERE i.issue_pk = ANY ($1)";

/// Ranked search over issue titles, descriptions, comments and attachment
/// text. Syntax: words (AND), "phrases", -exclusions, OR,
/// product:/status:/priority: filters. Best first; ties by issue_id.
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
    if query.trim().is_empty() {
        invalid_parameter("query must not be empty");
    }
    let parsed = parse(query);
    let tsquery = parsed.tsquery_text();
    if tsquery.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("query {query:?} has no words to search for"),
            Some("Give at least one word or \"phrase\" that is not excluded (-word); OR and field filters alone do not search."),
        );
    }
    let k = max_results.min(MAX_RESULTS) as usize;
    if k == 0 {
        return TableIterator::new(Vec::new());
    }

    let terms = parsed.scoring_terms();
    let corpus = corpus_stats(&terms);
    let idf: Vec<f32> = corpus
        .doc_freq
        .iter()
        .map(|&df| (1.0 + (corpus.docs - df + 0.5) / (df + 0.5)).ln().max(0.01))
        .collect();
    let term_index: HashMap<Vec<u8>, usize> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_bytes().to_vec(), i))
        .collect();

    let [p_yes, p_no, s_yes, s_no, r_yes, r_no] = filter_args(&parsed, product);
    let mut best: BinaryHeap<std::cmp::Reverse<Scored>> = BinaryHeap::with_capacity(k + 1);
    Spi::connect(|c| {
        let rows = c
            .select(
                CANDIDATES,
                None,
                &[
                    tsquery.clone().into(),
                    p_yes.into(),
                    p_no.into(),
                    s_yes.into(),
                    s_no.into(),
                    r_yes.into(),
                    r_no.into(),
                ],
            )
            .spi_ok("finding candidates");
        for row in rows {
            let pk = row
                .get::<i64>(1)
                .spi_ok("reading a candidate")
                .unwrap_or_default();
            let id = row
                .get::<String>(2)
                .spi_ok("reading a candidate")
                .unwrap_or_default();
            let Some(vector) = row.get::<pgrx::AnyElement>(3).spi_ok("reading a candidate") else {
                continue;
            };
            // SAFETY: column 3 is issues.search_vector, a non-null tsvector.
            let doc = unsafe { read_doc_terms(vector.datum(), &term_index, &FIELD_WEIGHTS) };
            let norm = K1 * (1.0 - B + B * doc.length as f32 / corpus.avg_length);
            let rank: f32 = doc
                .tf
                .iter()
                .zip(&idf)
                .filter(|(tf, _)| **tf > 0.0)
                .map(|(tf, idf)| idf * tf * (K1 + 1.0) / (tf + norm))
                .sum();
            let candidate = Scored {
                rank: rank.max(f32::MIN_POSITIVE),
                issue_id: id,
                issue_pk: pk,
            };
            if best.len() < k {
                best.push(std::cmp::Reverse(candidate));
            } else if best.peek().is_some_and(|w| candidate > w.0) {
                best.pop();
                best.push(std::cmp::Reverse(candidate));
            }
        }
    });
    let mut ranked: Vec<Scored> = best.into_iter().map(|r| r.0).collect();
    ranked.sort_by(|a, b| b.cmp(a));

    let pks: Vec<i64> = ranked.iter().map(|s| s.issue_pk).collect();
    let marks: HashSet<String> = terms.into_iter().collect();
    let mut details: HashMap<
        i64,
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    > = Spi::connect(|c| {
        c.select(DETAILS, None, &[pks.into()])
            .spi_ok("reading results")
            .map(|r| {
                let text = |i: usize| r.get::<String>(i).spi_ok("reading results");
                let snippet = make_snippet(
                    [
                        text(6).as_deref(),
                        text(7).as_deref(),
                        text(8).as_deref(),
                        text(3).as_deref(),
                    ],
                    &marks,
                );
                (
                    r.get::<i64>(1)
                        .spi_ok("reading results")
                        .unwrap_or_default(),
                    (text(3), text(4), text(5), snippet),
                )
            })
            .collect()
    });
    let out: Vec<_> = ranked
        .into_iter()
        .map(|s| {
            let (title, product, status, snippet) = details.remove(&s.issue_pk).unwrap_or_default();
            (s.issue_id, title, product, status, s.rank, snippet)
        })
        .collect();
    TableIterator::new(out)
}

/// A short passage around the best match, matched words in <b></b>. Fields
/// in order of preference: description, comments, attachments, title.
pub fn make_snippet(fields: [Option<&str>; 4], terms: &HashSet<String>) -> Option<String> {
    let indexed = [
        INDEXED_BYTES[1],
        INDEXED_BYTES[2],
        INDEXED_BYTES[3],
        INDEXED_BYTES[0],
    ];
    let mut best: Option<(usize, &str, usize, usize)> = None; // (score, text, from, to)
    for (i, field) in fields.iter().enumerate() {
        let Some(text) = field else { continue };
        let text = prefix(text, indexed[i]);
        let hits: Vec<(usize, usize, &String)> = tokenize(text, Mode::Index)
            .into_iter()
            .filter_map(|t| terms.get(&t.term).map(|term| (t.start, t.end, term)))
            .collect();
        for (j, &(start, _, _)) in hits.iter().enumerate() {
            let from = start.saturating_sub(SNIPPET_BEFORE);
            let to = (start + SNIPPET_AFTER).min(text.len());
            let distinct: HashSet<&String> = hits[j..]
                .iter()
                .take_while(|h| h.1 <= to)
                .map(|h| h.2)
                .collect();
            if best.is_none_or(|b| distinct.len() > b.0) {
                best = Some((distinct.len(), text, from, to));
            }
        }
    }
    let (_, text, from, to) = best?;
    let from = (0..=from)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let to = (to..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    let window = &text[from..to];
    // Mark matched tokens; overlapping spans (a code and its parts) merge.
    let mut spans: Vec<(usize, usize)> = tokenize(window, Mode::Index)
        .into_iter()
        .filter(|t| terms.contains(&t.term))
        .map(|t| (t.start, t.end))
        .collect();
    spans.sort();
    spans.dedup();
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&window[at..s]);
        out.push_str("<b>");
        out.push_str(&window[s..e]);
        out.push_str("</b>");
        at = e;
    }
    out.push_str(&window[at..]);
    if to < text.len() {
        out.push('…');
    }
    Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
}
