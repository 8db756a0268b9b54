//! Ranking: the BM25 model, shared by the posting-list build
//! (`index_build`) and query time (`search_issues`), so that an issue scores
//! the same whether it is read from the posting lists or from its vector;
//! and picking the top k of the scored candidates.
//!
//! An issue's contribution for one term is split in two: its *impact*
//! (term-frequency saturation and length normalisation, fixed when the
//! posting lists are built and stored in one byte) and the term's inverse
//! document frequency (applied at query time).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::search::query::ParsedQuery;

/// BM25 parameters: term-frequency saturation and length normalisation.
pub const K1: f32 = 1.2;
pub const B: f32 = 0.75;
/// Field weights by tsvector weight bits: D attachments, C comments,
/// B description, A title.
pub const FIELD_WEIGHTS: [f32; 4] = [0.5, 0.7, 1.0, 3.0];
/// Impacts are stored in one byte: `IMPACT_STEPS` steps of (K1 + 1).
const IMPACT_STEPS: f32 = 254.0;

/// The stored impact (1..=254) of a term with field-weighted frequency `tf`
/// in a document of `length` distinct lexemes; 0 if the term is absent.
pub fn impact(tf: f32, length: u32, avg_length: f32) -> u8 {
    if tf <= 0.0 {
        return 0;
    }
    let norm = K1 * (1.0 - B + B * length as f32 / avg_length.max(1.0));
    let saturated = tf / (tf + norm); // in (0, 1)
    (saturated * IMPACT_STEPS).ceil().clamp(1.0, IMPACT_STEPS) as u8
}

/// The BM25 term score for a stored impact.
pub fn term_score(impact: u8, idf: f32) -> f32 {
    idf * (K1 + 1.0) * impact as f32 / IMPACT_STEPS
}

/// The term score of every impact, for one idf.
pub fn score_table(idf: f32) -> [f32; 256] {
    std::array::from_fn(|q| term_score(q as u8, idf))
}

/// Inverse document frequency of a term in `doc_freq` of `docs` documents.
pub fn idf(docs: f32, doc_freq: f32) -> f32 {
    (1.0 + (docs - doc_freq + 0.5) / (doc_freq + 0.5))
        .ln()
        .max(0.01)
}

/// Picking the best k: results ordered best first.
/// A scored issue. Ties go to the issue stored first (smaller issue_pk).
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    pub rank: f32,
    pub issue_pk: i64,
}

impl Scored {
    /// Best first.
    pub fn order(a: &Scored, b: &Scored) -> Ordering {
        b.rank
            .total_cmp(&a.rank)
            .then_with(|| a.issue_pk.cmp(&b.issue_pk))
    }
}

/// Orders a heap so that its top is the worst kept result.
struct Worst(Scored);

impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        Scored::order(&self.0, &o.0)
    }
}

/// The best `n` candidates ranking after `after` (all, if None), best
/// first. One comparison rejects most candidates once `n` are kept.
pub fn top_after(
    candidates: &[i64],
    ranks: &[f32],
    n: usize,
    after: Option<Scored>,
) -> Vec<Scored> {
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(n + 1);
    for (i, (&pk, &rank)) in candidates.iter().zip(ranks).enumerate() {
        if i % 4096 == 0 {
            crate::limits::check_for_interrupts();
        }
        let s = Scored {
            rank: rank.max(f32::MIN_POSITIVE),
            issue_pk: pk,
        };
        if after.is_some_and(|a| Scored::order(&s, &a) != Ordering::Greater) {
            continue; // returned by an earlier batch
        }
        if heap.len() == n {
            if heap
                .peek()
                .is_some_and(|w| Scored::order(&s, &w.0) != Ordering::Less)
            {
                continue;
            }
            heap.pop();
        }
        heap.push(Worst(s));
    }
    let mut out: Vec<Scored> = heap.into_iter().map(|w| w.0).collect();
    out.sort_by(Scored::order);
    out
}

/// Which clauses a result matched, from the terms it holds: a clause
/// matches when every term of one of its alternatives is there (phrase
/// order is checked on the stored vector). Scores are BM25 times the share
/// of clauses matched, so an issue holding more of the words ranks higher.
pub struct Coord {
    /// Per clause, per alternative, a bit per term of `terms`.
    pub clauses: Vec<Vec<u64>>,
    /// Per clause, whether every result holds it.
    pub required: Vec<bool>,
    /// How many of the other clauses a result holds at least.
    pub min_optional: usize,
    /// Per clause, the bits of its one-word alternatives.
    pub single_words: Vec<u64>,
}

impl Coord {
    pub fn of(q: &ParsedQuery, terms: &[String]) -> Coord {
        let bit = |t: &str| terms.iter().position(|x| x == t).map_or(0, |i| 1u64 << i);
        let all_required = q.all_required();
        Coord {
            required: q
                .clauses
                .iter()
                .map(|c| all_required || c.required)
                .collect(),
            min_optional: if all_required {
                0
            } else {
                q.min_should_match()
            },
            single_words: q
                .clauses
                .iter()
                .map(|c| {
                    c.alts
                        .iter()
                        .filter(|p| p.len() == 1)
                        .fold(0, |m, p| m | bit(&p[0].term))
                })
                .collect(),
            clauses: q
                .clauses
                .iter()
                .map(|c| {
                    // Phrases at other distances hold the same terms: once.
                    let mut alts: Vec<u64> = c
                        .alts
                        .iter()
                        .map(|p| p.iter().fold(0, |m, t| m | bit(&t.term)))
                        .collect();
                    alts.sort_unstable();
                    alts.dedup();
                    alts
                })
                .collect(),
        }
    }

    pub fn holds(alts: &[u64], found: u64) -> bool {
        alts.iter().any(|&m| found & m == m)
    }

    pub fn factor(&self, found: u64) -> f32 {
        let matched = self
            .clauses
            .iter()
            .filter(|alts| Coord::holds(alts, found))
            .count();
        matched as f32 / self.clauses.len().max(1) as f32
    }

    /// Whether an issue holding the terms of `found` holds every required
    /// clause and enough optional ones (phrases as their words).
    pub fn matches(&self, found: u64) -> bool {
        let mut optional = 0;
        for (alts, &required) in self.clauses.iter().zip(&self.required) {
            match (Coord::holds(alts, found), required) {
                (false, true) => return false,
                (true, false) => optional += 1,
                _ => {}
            }
        }
        optional >= self.min_optional
    }

    /// Whether an issue holding the terms of `found` matches for certain:
    /// every required clause and enough optional ones held through a
    /// one-word alternative (a phrase's word order is known only from the
    /// stored vector).
    pub fn surely_holds(&self, found: u64) -> bool {
        let mut optional = 0;
        for (&words, &required) in self.single_words.iter().zip(&self.required) {
            match (found & words != 0, required) {
                (false, true) => return false,
                (true, false) => optional += 1,
                _ => {}
            }
        }
        optional >= self.min_optional
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_grows_with_frequency_and_saturates() {
        let a = impact(1.0, 100, 100.0);
        let b = impact(3.0, 100, 100.0);
        let c = impact(300.0, 100, 100.0);
        assert!(0 < a && a < b && b < c && c <= 254, "{a} {b} {c}");
        assert_eq!(impact(0.0, 100, 100.0), 0);
    }

    #[test]
    fn longer_documents_get_smaller_impacts() {
        assert!(impact(2.0, 400, 100.0) < impact(2.0, 50, 100.0));
    }

    #[test]
    fn rarer_terms_weigh_more() {
        assert!(idf(1000.0, 3.0) > idf(1000.0, 300.0));
        assert!(idf(10.0, 10.0) > 0.0);
    }
}
