//! Block-max bounds (in the spirit of Lucene's and Tantivy's block-max
//! WAND): which listed issues could still score at least a floor, the
//! k-th best score already found. A search whose champion lists could not
//! prove its top k scores only those, so the result stays exact while most
//! issues of frequent words are never looked up.
//!
//! The issue_pks are cut into blocks of 64 (one bitmap word). In a block,
//! an issue's score is at most the sum of every term's highest score there
//! times the coordination factor of the clauses it holds; that factor is
//! known per issue from the lists' bitmaps, with a few word operations per
//! block: the issues holding too few clauses for the block's sum to reach
//! the floor are dropped together; each issue left is then bounded by the
//! maxima of the terms it holds (its own impacts, for lists read back as
//! one byte per issue) and its own factor. The maxima and bitmaps come from the
//! decoded lists when a search first needs them (`list_cache` keeps them
//! with the lists), so the stored format stays as it is.

use crate::search::list_format::List;
use crate::search::ranking::Coord;

/// Blocks are 64 issue_pks, from 0: a list with issue_pks past this many
/// blocks is not bounded (its bitmap would be too large).
const MAX_BLOCKS: u64 = 1 << 22;
/// Clause counts are kept in this many bit planes (up to 15 clauses).
const PLANES: usize = 4;

/// Per-issue counters, one bit plane per binary digit, 64 issues a word.
#[derive(Clone, Copy, Default)]
struct Count([u64; PLANES]);

impl Count {
    /// Add one to the issues of `bits`.
    fn add(&mut self, bits: u64) {
        let mut carry = bits;
        for plane in &mut self.0 {
            let sum = *plane ^ carry;
            carry &= *plane;
            *plane = sum;
        }
    }

    /// The issues whose count is at least `n`.
    fn at_least(&self, n: usize) -> u64 {
        if n >= 1 << PLANES {
            return 0;
        }
        let (mut greater, mut equal) = (0u64, !0u64);
        for (p, &plane) in self.0.iter().enumerate().rev() {
            if n >> p & 1 == 1 {
                equal &= plane;
            } else {
                greater |= equal & plane;
                equal &= !plane;
            }
        }
        greater | equal
    }
}

/// A list as bitmap words aligned on issue_pk 0 and its highest impact in
/// each (1 + impact; 0 where it holds no issue): what bounds read of it,
/// from the block of its first issue to that of its last (a segment's
/// lists hold a narrow range of issue_pks).
pub struct BlockView {
    /// The block of `bitmap[0]`.
    first: usize,
    bitmap: Vec<u64>,
    maxima: Vec<u16>,
    /// False when its issue_pks run too far to be cut this way.
    bounded: bool,
}

impl BlockView {
    pub fn of(list: &List) -> BlockView {
        let block = |d: i64| d.max(0) as u64 >> 6;
        let (first, end) = match (list.first_doc(), list.last_doc()) {
            (Some(a), Some(b)) => (block(a), block(b) + 1),
            _ => (0, 0),
        };
        if end > MAX_BLOCKS {
            return BlockView {
                first: 0,
                bitmap: Vec::new(),
                maxima: Vec::new(),
                bounded: false,
            };
        }
        let (first, blocks) = (first as usize, (end - first) as usize);
        BlockView {
            first,
            bitmap: list.aligned_bitmap(first, blocks),
            maxima: list.block_maxima(6, first, blocks),
            bounded: true,
        }
    }

    /// The memory it takes.
    pub fn heap_bytes(&self) -> usize {
        self.bitmap.capacity() * 8 + self.maxima.capacity() * 2
    }

    /// The blocks it covers.
    fn blocks(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.bitmap.len()
    }

    fn bits(&self, block: usize) -> u64 {
        block
            .checked_sub(self.first)
            .and_then(|b| self.bitmap.get(b))
            .copied()
            .unwrap_or(0)
    }

    fn max(&self, block: usize) -> u16 {
        block
            .checked_sub(self.first)
            .and_then(|b| self.maxima.get(b))
            .copied()
            .unwrap_or(0)
    }
}

/// The listed issues, ascending, that could score at least `floor`, with
/// the most each could score: `views`
/// and `scores` are the scoring terms' lists and score tables in the order
/// a score sums them; `coord` the query's clauses over those terms. An
/// issue is kept when it holds every required clause, enough optional ones,
/// and enough clauses for its block's bound to reach the floor (the bound
/// is summed the same way from parts no smaller, so it is never below the
/// issue's score). None when the query has too many clauses or terms, or
/// the issue_pks run too far, to be bounded this way.
pub fn reaching(
    lists: &[&List],
    views: &[&BlockView],
    scores: &[[f32; 256]],
    coord: &Coord,
    floor: f32,
) -> Option<Vec<(i64, f32)>> {
    let clauses = coord.clauses.len();
    // (A query has at most 64 terms: the bit masks hold them.)
    if clauses == 0
        || clauses >= 1 << PLANES
        || views.len() > 64
        || views.iter().any(|v| !v.bounded)
    {
        return None;
    }
    // The blocks any list covers.
    let covered = views.iter().map(|v| v.blocks()).filter(|r| !r.is_empty());
    let (lo, hi) = covered.fold((usize::MAX, 0), |(lo, hi), r| {
        (lo.min(r.start), hi.max(r.end))
    });
    if lo >= hi {
        return Some(Vec::new());
    }
    let blocks = hi - lo;
    // Per clause, per alternative, the terms it needs.
    let alternatives: Vec<Vec<Vec<usize>>> = coord
        .clauses
        .iter()
        .map(|alts| {
            alts.iter()
                .map(|&alt| (0..views.len()).filter(|t| alt >> t & 1 == 1).collect())
                .collect()
        })
        .collect();
    let mut docs = Vec::new();
    // Per block, the issues of any term and the sum of the terms' maxima
    // (added term by term, in the order a score adds them).
    let mut anys = vec![0u64; blocks];
    let mut sums = vec![0.0f32; blocks];
    for (view, table) in views.iter().zip(scores) {
        crate::limits::check_for_interrupts();
        let at = view.first.saturating_sub(lo);
        for ((any, sum), (&bits, &max)) in anys[at..]
            .iter_mut()
            .zip(sums[at..].iter_mut())
            .zip(view.bitmap.iter().zip(&view.maxima))
        {
            *any |= bits;
            if max > 0 {
                *sum += table[usize::from(max - 1)];
            }
        }
    }
    // Lists in the byte form give each issue's own impact, not the block's
    // highest: its exact score, when all are.
    let direct: Vec<Option<(i64, &[u8])>> = lists.iter().map(|l| l.as_bytes()).collect();
    // The block's bitmaps and best term scores, for its issues.
    let (mut bits, mut best) = (vec![0u64; views.len()], vec![0.0f32; views.len()]);
    for b in lo..hi {
        if b % 4096 == 0 {
            crate::limits::check_for_interrupts();
        }
        let (any, bound) = (anys[b - lo], sums[b - lo]);
        if any == 0 {
            continue;
        }
        // The fewest clauses an issue here needs to reach the floor, with
        // the factor computed as `Coord::factor` computes it.
        let Some(needed) = (1..=clauses)
            .find(|&n| (bound * (n as f32 / clauses as f32)).max(f32::MIN_POSITIVE) >= floor)
        else {
            continue;
        };
        for (t, view) in views.iter().enumerate() {
            bits[t] = view.bits(b);
        }
        let mut all = Count::default();
        let mut optional = Count::default();
        let mut keep = any;
        for (alts, &required) in alternatives.iter().zip(&coord.required) {
            let holds = alts.iter().fold(0u64, |acc, terms| {
                acc | terms.iter().fold(!0u64, |m, &t| m & bits[t])
            });
            all.add(holds);
            if required {
                keep &= holds;
            } else {
                optional.add(holds);
            }
        }
        keep &= all.at_least(needed) & optional.at_least(coord.min_optional);
        // Each issue left: its own terms' maxima, its own factor.
        if keep == 0 {
            continue;
        }
        for (t, (view, table)) in views.iter().zip(scores).enumerate() {
            best[t] = table[usize::from(view.max(b).max(1) - 1)];
        }
        while keep != 0 {
            let bit = keep.trailing_zeros();
            keep &= keep - 1;
            let mut found = 0u64;
            let mut bound = 0.0f32;
            let doc = b as i64 * 64 + i64::from(bit);
            for (t, (&bits, &best)) in bits.iter().zip(&best).enumerate() {
                if bits >> bit & 1 == 1 {
                    found |= 1 << t;
                    bound += match direct[t] {
                        Some((base, bytes)) => {
                            let q = usize::try_from(doc - base).ok().and_then(|i| bytes.get(i));
                            scores[t][usize::from(q.map_or(1, |&q| q.max(1)) - 1)]
                        }
                        None => best,
                    };
                }
            }
            let bound = (bound * coord.factor(found)).max(f32::MIN_POSITIVE);
            if bound >= floor {
                docs.push((doc, bound));
            }
        }
    }
    Some(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::list_format::{decode, ListBuilder};
    use crate::search::ranking::score_table;

    fn list(docs: &[(u64, u8)]) -> BlockView {
        BlockView::of(&decoded(docs))
    }

    fn decoded(docs: &[(u64, u8)]) -> List {
        let mut b = ListBuilder::default();
        for &(d, q) in docs {
            b.push(d, q);
        }
        decode(&b.finish())
    }

    /// `reaching` over sparse lists (bounded by block maxima).
    fn bounds(
        views: &[&BlockView],
        scores: &[[f32; 256]],
        coord: &Coord,
        floor: f32,
    ) -> Option<Vec<(i64, f32)>> {
        let none = List::empty();
        reaching(&vec![&none; views.len()], views, scores, coord, floor)
    }

    #[test]
    fn counts_in_bit_planes() {
        let mut c = Count::default();
        for bits in [0b1111u64, 0b0111, 0b0011, 0b0001] {
            c.add(bits);
        }
        // Issue 0 counted 4 times, issue 1 three, issue 2 twice, issue 3 once.
        assert_eq!(c.at_least(0), !0);
        assert_eq!(c.at_least(1), 0b1111);
        assert_eq!(c.at_least(3), 0b0011);
        assert_eq!(c.at_least(4), 0b0001);
        assert_eq!(c.at_least(5), 0);
        assert_eq!(c.at_least(16), 0);
    }

    fn docs(bounded: Option<Vec<(i64, f32)>>) -> Option<Vec<i64>> {
        bounded.map(|b| b.into_iter().map(|(d, _)| d).collect())
    }

    /// Optional clauses of one term each, at least one to match.
    fn either(terms: usize) -> Coord {
        Coord {
            clauses: (0..terms).map(|t| vec![1u64 << t]).collect(),
            required: vec![false; terms],
            min_optional: 1,
            single_words: (0..terms).map(|t| 1u64 << t).collect(),
        }
    }

    #[test]
    fn views_cover_only_the_blocks_of_their_issues() {
        // A segment's lists hold issue_pks far from 0; another term's list
        // holds issues in other blocks still.
        let far = list(&[(640_000, 250), (640_100, 10)]);
        assert_eq!(far.blocks(), 10_000..10_002);
        assert!(far.heap_bytes() < 64);
        let near = list(&[(3, 250), (640_000, 250)]);
        let tables = [score_table(1.0), score_table(1.0)];
        let coord = either(2);
        assert_eq!(
            docs(bounds(&[&far, &near], &tables, &coord, 0.0)),
            Some(vec![3, 640_000, 640_100])
        );
        let both = tables[0][250] + tables[1][250];
        assert_eq!(
            bounds(&[&far, &near], &tables, &coord, both),
            Some(vec![(640_000, both)])
        );
        let none = list(&[]);
        assert_eq!(
            docs(bounds(&[&none, &none], &tables, &coord, 0.0)),
            Some(vec![])
        );
    }

    #[test]
    fn keeps_the_issues_that_can_reach_the_floor() {
        // Block 0: issue 10 holds both terms, weakly; 20 only term 1.
        // Block 1: issue 70 holds both, strongly; 80 only term 0, strongly.
        let a = list(&[(10, 10), (70, 250), (80, 250)]);
        let b = list(&[(10, 10), (20, 10), (70, 250)]);
        let tables = [score_table(1.0), score_table(1.0)];
        let coord = either(2);
        let both_strong = tables[0][250] + tables[1][250];
        assert_eq!(
            docs(bounds(&[&a, &b], &tables, &coord, both_strong)),
            Some(vec![70])
        );
        // The bound of an issue holding both strong terms is their sum.
        assert_eq!(
            bounds(&[&a, &b], &tables, &coord, both_strong),
            Some(vec![(70, both_strong)])
        );
        // Issue 80 holds one clause of two: half its one strong term.
        let half_strong = tables[0][250] * 0.5;
        assert_eq!(
            docs(bounds(&[&a, &b], &tables, &coord, half_strong)),
            Some(vec![70, 80])
        );
        // Just above it, only issue 70 (a block bound alone would keep 80).
        let above = tables[0][250] * 0.5 + 0.001;
        assert_eq!(
            docs(bounds(&[&a, &b], &tables, &coord, above)),
            Some(vec![70])
        );
        // No floor: every issue that matches.
        assert_eq!(
            docs(bounds(&[&a, &b], &tables, &coord, 0.0)),
            Some(vec![10, 20, 70, 80])
        );
        // A required clause: only issues holding it.
        let required = Coord {
            required: vec![true, false],
            min_optional: 0,
            ..either(2)
        };
        assert_eq!(
            docs(bounds(&[&a, &b], &tables, &required, 0.0)),
            Some(vec![10, 70, 80])
        );
    }

    #[test]
    fn lists_in_the_byte_form_bound_each_issue_by_its_own_impact() {
        // Every issue below 640 holds the term with impact 10, issue 70 with 200.
        let held: Vec<(u64, u8)> = (0..640)
            .map(|d| (d, if d == 70 { 200 } else { 10 }))
            .collect();
        let l = decoded(&held);
        assert!(l.as_bytes().is_some());
        let v = BlockView::of(&l);
        let tables = [score_table(1.0)];
        let floor = tables[0][200];
        assert_eq!(
            docs(reaching(&[&l], &[&v], &tables, &either(1), floor)),
            Some(vec![70])
        );
        // By the block's highest impact alone, all 64 issues of its block.
        assert_eq!(
            docs(bounds(&[&v], &tables, &either(1), floor)).map(|d| d.len()),
            Some(64)
        );
    }

    #[test]
    fn an_alternative_holds_when_all_its_terms_do() {
        // One clause: term 0 alone, or terms 1 and 2 together.
        let coord = Coord {
            clauses: vec![vec![0b001, 0b110]],
            required: vec![true],
            min_optional: 0,
            single_words: vec![0b001],
        };
        let t0 = list(&[(1, 5)]);
        let t1 = list(&[(2, 5), (3, 5)]);
        let t2 = list(&[(3, 5), (4, 5)]);
        let tables = [score_table(1.0); 3];
        assert_eq!(
            docs(bounds(&[&t0, &t1, &t2], &tables, &coord, 0.0)),
            Some(vec![1, 3])
        );
    }

    #[test]
    fn unbounded_queries_say_so() {
        let a = list(&[(1, 5), (1 << 40, 5)]);
        assert_eq!(bounds(&[&a], &[score_table(1.0)], &either(1), 0.0), None);
        let many = either(16);
        let lists: Vec<BlockView> = (0..16).map(|_| list(&[(1, 5)])).collect();
        let refs: Vec<&BlockView> = lists.iter().collect();
        assert_eq!(bounds(&refs, &[score_table(1.0); 16], &many, 0.0), None);
    }
}
