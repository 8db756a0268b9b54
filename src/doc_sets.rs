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

/// Issues in both lists.
pub fn intersect(a: &[i64], b: &[i64]) -> Vec<i64> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(short.len());
    let mut at = 0;
    for &d in short {
        at = seek(long, at, d);
        if at == long.len() {
            break;
        }
        if long[at] == d {
            out.push(d);
        }
    }
    out
}

/// Issues in any of the lists.
pub fn union(mut lists: Vec<Vec<i64>>) -> Vec<i64> {
    if lists.len() == 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut out: Vec<i64> = lists.concat();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = vec![1, 3, 5, 7, 9, 200, 300];
        let b = vec![2, 3, 4, 9, 10, 300, 301];
        assert_eq!(intersect(&a, &b), vec![3, 9, 300]);
        assert_eq!(intersect(&b, &a), vec![3, 9, 300]);
        assert_eq!(intersect(&a, &[]), Vec::<i64>::new());
        assert_eq!(
            union(vec![a.clone(), b.clone()]),
            vec![1, 2, 3, 4, 5, 7, 9, 10, 200, 300, 301]
        );
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
