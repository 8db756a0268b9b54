//! Set algebra on ascending issue_pk lists, for OR clauses in
//! `ims.search_issues`.

/// First index `>= from` in `list` whose value is `>= target`: galloping
/// then binary search, so walking a short list through a long one costs
/// O(short × log(gap)).
pub fn seek(list: &[i64], from: usize, target: i64) -> usize {
    let mut step = 1;
    let mut hi = from;
    while hi < list.len() && list[hi] < target {
        hi = from + step;
        step *= 2;
    }
    let lo = from + step / 4;
    let hi = hi.min(list.len());
    lo.max(from) + list[lo.max(from)..hi].partition_point(|&v| v < target)
}

/// Issues in either list, merged in one pass (no copies of the inputs).
pub fn merge(a: &[i64], b: &[i64]) -> Vec<i64> {
    merge_with(a, b, |&d| d, |x, _| x)
}

/// Two lists ascending by issue (`key`) merged in one pass: an issue in
/// both once, as `both` makes it of the two.
pub fn merge_with<T: Copy>(
    a: &[T],
    b: &[T],
    key: impl Fn(&T) -> i64,
    both: impl Fn(T, T) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if i % 65536 == 0 {
            crate::limits::check_for_interrupts();
        }
        match key(&a[i]).cmp(&key(&b[j])) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(both(a[i], b[j]));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Issues in any of the lists, merged one list at a time: memory stays at
/// two lists of the union's size, however many lists come.
pub fn union(lists: impl IntoIterator<Item = Vec<i64>>) -> Vec<i64> {
    let mut acc: Vec<i64> = Vec::new();
    for l in lists {
        acc = if acc.is_empty() { l } else { merge(&acc, &l) };
    }
    acc
}

/// The issues a source of the search index skips: those in either of two
/// ascending lists (the pending issues; those newer sources hold).
#[derive(Clone, Copy)]
pub struct Skip<'a> {
    pub pending: &'a [i64],
    pub newer: &'a [i64],
}

impl<'a> Skip<'a> {
    pub fn contains(&self, d: i64) -> bool {
        self.pending.binary_search(&d).is_ok() || self.newer.binary_search(&d).is_ok()
    }

    /// For issues asked in ascending order.
    pub fn walker(self) -> SkipWalker<'a> {
        SkipWalker {
            skip: self,
            at: [0, 0],
        }
    }
}

/// `Skip::contains` for ascending issues, by seeking.
pub struct SkipWalker<'a> {
    skip: Skip<'a>,
    at: [usize; 2],
}

impl SkipWalker<'_> {
    pub fn contains(&mut self, d: i64) -> bool {
        let lists = [self.skip.pending, self.skip.newer];
        lists.iter().zip(&mut self.at).any(|(list, at)| {
            *at = seek(list, *at, d);
            list.get(*at) == Some(&d)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = vec![1, 3, 5, 7, 9, 200, 300];
        let b = vec![2, 3, 4, 9, 10, 300, 301];
        assert_eq!(
            union(vec![a.clone(), b.clone()]),
            vec![1, 2, 3, 4, 5, 7, 9, 10, 200, 300, 301]
        );
        assert_eq!(
            union(vec![a.clone(), b.clone(), a.clone(), vec![], b.clone()]),
            vec![1, 2, 3, 4, 5, 7, 9, 10, 200, 300, 301]
        );
    }

    #[test]
    fn skips_either_list() {
        let (pending, newer) = (vec![2, 8], vec![1, 5, 8, 40]);
        let skip = Skip {
            pending: &pending,
            newer: &newer,
        };
        let mut walker = skip.walker();
        for d in 0..50 {
            let want = [1, 2, 5, 8, 40].contains(&d);
            assert_eq!(skip.contains(d), want, "{d}");
            assert_eq!(walker.contains(d), want, "{d}");
        }
    }

    #[test]
    fn seek_finds_every_position() {
        let list: Vec<i64> = (0..1000).map(|i| i * 3).collect();
        for from in [0, 1, 17, 500] {
            for target in [0, 1, 3, 299, 300, 1500, 2997, 5000] {
                let want = from.max(list.partition_point(|&v| v < target));
                assert_eq!(
                    seek(&list, from, target),
                    want,
                    "from {from} target {target}"
                );
            }
        }
    }
}
