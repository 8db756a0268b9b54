//! Block-max bounds (as in Lucene's and Tantivy's block-max WAND): the
//! issue_pks are cut into blocks, and a block's bound is the best score an
//! issue in it could reach, from each term's highest impact there. A
//! search whose champion lists could not prove its top k walks only the
//! blocks whose bound reaches the k-th best score already found, so the
//! result stays exact while most issues of frequent words are never scored.
//!
//! The maxima come from the decoded lists at query time (one pass over
//! their impacts, a small part of what scoring every issue costs), so the
//! stored format stays as it is.

use crate::search::list_format::List;

/// A bitmap word of a dense list: the smallest block.
const MIN_SHIFT: u32 = 6;
/// Blocks are made larger rather than more numerous than this.
const MAX_BLOCKS: u64 = 1 << 20;

/// The blocks a search walks: 2^`shift` issue_pks each, from 0.
pub struct BlockSet {
    pub shift: u32,
    keep: Vec<bool>,
}

impl BlockSet {
    pub fn keeps(&self, block: usize) -> bool {
        self.keep.get(block).copied().unwrap_or(false)
    }

    /// The share of blocks kept (for diagnosis).
    pub fn kept(&self) -> usize {
        self.keep.iter().filter(|&&k| k).count()
    }

    pub fn len(&self) -> usize {
        self.keep.len()
    }
}

/// The blocks in which some issue could score at least `floor`: `lists`
/// and `scores` are the scoring terms' lists and score tables in the order
/// scores are summed; `coord(present)` gives, for a block holding the
/// terms of mask `present`, None if no issue there can match the query,
/// else the highest coordination factor it can get. A score is the sum of
/// its terms' scores in that order times that factor, so the bound, summed
/// the same way from larger parts, is never below it.
pub fn reaching(
    lists: &[&List],
    scores: &[[f32; 256]],
    floor: f32,
    coord: impl Fn(u64) -> Option<f32>,
) -> BlockSet {
    let last = lists.iter().filter_map(|l| l.last_doc()).max().unwrap_or(0).max(0) as u64;
    let mut shift = MIN_SHIFT;
    while last >> shift >= MAX_BLOCKS {
        shift += 1;
    }
    let count = (last >> shift) as usize + 1;
    let maxima: Vec<Vec<u16>> = lists.iter().map(|l| l.block_maxima(shift, count)).collect();
    let keep = (0..count)
        .map(|b| {
            let mut present = 0u64;
            let mut bound = 0.0f32;
            for (i, (m, table)) in maxima.iter().zip(scores).enumerate() {
                if m[b] > 0 {
                    present |= 1 << i;
                    bound += table[usize::from(m[b] - 1)];
                }
            }
            present != 0
                && coord(present).is_some_and(|f| (bound * f).max(f32::MIN_POSITIVE) >= floor)
        })
        .collect();
    BlockSet { shift, keep }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::list_format::{decode, ListBuilder};
    use crate::search::ranking::score_table;

    fn list(docs: &[(u64, u8)]) -> List {
        let mut b = ListBuilder::default();
        for &(d, q) in docs {
            b.push(d, q);
        }
        decode(&b.finish())
    }

    #[test]
    fn keeps_exactly_the_blocks_that_can_reach_the_floor() {
        // Term 0 strong in block 1, term 1 strong in block 2; both weak elsewhere.
        let a = list(&[(10, 10), (70, 250), (150, 10), (200, 10)]);
        let b = list(&[(20, 10), (80, 10), (140, 250), (210, 10)]);
        let tables = [score_table(1.0), score_table(1.0)];
        let both = |present: u64| Some(if present == 3 { 1.0 } else { 0.5 });
        let strong = tables[0][250] + tables[1][10];
        let blocks = reaching(&[&a, &b], &tables, strong, both);
        assert_eq!(blocks.shift, 6);
        assert_eq!(blocks.len(), 4);
        assert_eq!(
            (0..4).map(|b| blocks.keeps(b)).collect::<Vec<_>>(),
            [false, true, true, false]
        );
        // A block holding one term only is kept if its halved bound reaches the floor.
        let c = list(&[(300, 250)]);
        let blocks = reaching(&[&a, &c], &tables, tables[0][250] * 0.5, both);
        assert!(blocks.keeps(4) && blocks.keeps(1) && !blocks.keeps(0));
        // No block where the query cannot match.
        let none = reaching(&[&a, &b], &tables, 0.0, |p| (p == 3).then_some(1.0));
        assert_eq!(none.kept(), 4);
        let only_a = reaching(&[&a, &c], &tables, 0.0, |p| (p == 3).then_some(1.0));
        assert_eq!(only_a.kept(), 0);
    }

    #[test]
    fn far_issue_pks_make_larger_blocks_not_more() {
        let a = list(&[(1, 5), (1 << 40, 5)]);
        let blocks = reaching(&[&a], &[score_table(1.0)], 0.0, |_| Some(1.0));
        assert!(blocks.len() as u64 <= MAX_BLOCKS);
        assert_eq!(blocks.kept(), 2);
    }
}
