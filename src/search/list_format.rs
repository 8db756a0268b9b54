//! The stored form of posting lists, and reading them at query time.
//!
//! A list holds the issues (by `issue_pk`, ascending) that contain one term,
//! each with its one-byte BM25 impact (see `ranking`), in one of two forms,
//! whichever is smaller:
//! - sparse: `[0] varint count`, then per issue a varint gap and the impact
//!   (about 2.5 bytes an issue);
//! - dense: `[1] varint count, varint base, varint words`, a bitmap of
//!   `words` little-endian u64 over `issue_pk - base`, then the impacts in
//!   bit order (about 1.1 bytes an issue when most issues hold the term).
//!   A dense list answers "does issue x hold it, with what impact" in O(1).
//!
//! Read back, a dense list that holds at least a quarter of the issues in
//! its range becomes one byte per issue_pk (impact + 1; 0: not held), so
//! that a lookup is one load, for the lists searches look issues up in the
//! most (at a quarter full, about 2.7 times the memory of the stored form;
//! less the fuller it is).
//!
//! A champion list holds a frequent term's best issues in rank order:
//! `varint doc_freq, varint n`, then n × (impact, varint issue_pk).

use crate::search::doc_sets::seek;

const SPARSE: u8 = 0;
const DENSE: u8 = 1;

/// How many of a term's best issues its champion list holds: enough for
/// any page of results, after filters drop most of them.
pub const CHAMPIONS: usize = 2048;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Issues, ascending, with their impacts.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Postings {
    pub docs: Vec<i64>,
    pub impacts: Vec<u8>,
}

/// A bitmap over `issue_pk - base` with impacts in bit order; `rank[w]` is
/// the number of issues before word `w`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    base: i64,
    words: Vec<u64>,
    rank: Vec<u32>,
    impacts: Vec<u8>,
}

/// One byte per issue_pk from `base`: the impact + 1, 0 where the list
/// does not hold the issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Bytes {
    base: i64,
    bytes: Vec<u8>,
    count: usize,
}

/// A decoded list.
#[derive(Debug, Clone, PartialEq)]
pub enum List {
    Sparse(Postings),
    Dense(Dense),
    Bytes(Bytes),
}

impl List {
    /// A list of no issue (what a term missing from the index reads as).
    pub fn empty() -> List {
        List::Sparse(Postings::default())
    }

    pub fn len(&self) -> usize {
        match self {
            List::Sparse(p) => p.docs.len(),
            List::Dense(d) => d.impacts.len(),
            List::Bytes(b) => b.count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The issues and impacts as plain arrays.
    pub fn postings(&self) -> Postings {
        match self {
            List::Sparse(p) => p.clone(),
            List::Bytes(b) => {
                let mut p = Postings::default();
                for (i, &q) in b.bytes.iter().enumerate() {
                    if q > 0 {
                        p.docs.push(b.base + i as i64);
                        p.impacts.push(q - 1);
                    }
                }
                p
            }
            List::Dense(d) => {
                let mut docs = Vec::with_capacity(d.impacts.len());
                for (w, &bits) in d.words.iter().enumerate() {
                    let mut b = bits;
                    while b != 0 {
                        let i = b.trailing_zeros() as i64;
                        docs.push(d.base + w as i64 * 64 + i);
                        b &= b - 1;
                    }
                }
                docs.truncate(d.impacts.len());
                let impacts = d.impacts[..docs.len()].to_vec();
                Postings { docs, impacts }
            }
        }
    }

    /// A list of issues (ascending, impacts all 0: membership only), in
    /// whichever form takes less memory: an OR clause's union.
    pub fn from_docs(docs: Vec<i64>) -> List {
        let (Some(&first), Some(&last)) = (docs.first(), docs.last()) else {
            return List::empty();
        };
        let words =
            usize::try_from((last.wrapping_sub(first) as u64) / 64 + 1).unwrap_or(usize::MAX);
        // Dense: 8 + 4 bytes a word and 1 an issue; sparse: 9 bytes an issue.
        if words.saturating_mul(12) >= docs.len() * 8 {
            let impacts = vec![0; docs.len()];
            return List::Sparse(Postings { docs, impacts });
        }
        let mut bits = vec![0u64; words];
        for &d in &docs {
            let off = (d - first) as usize;
            bits[off / 64] |= 1 << (off % 64);
        }
        let mut rank = Vec::with_capacity(words);
        let mut seen = 0u32;
        for w in &bits {
            rank.push(seen);
            seen += w.count_ones();
        }
        List::Dense(Dense {
            base: first,
            words: bits,
            rank,
            impacts: vec![0; docs.len()],
        })
    }

    /// The union of `lists`, each issue once with its best impact (the
    /// impacts of list i first mapped by `impact(i, q)`), as one byte per
    /// issue_pk, when the union's range is short enough for that (at most
    /// 4 bytes per member issue); None otherwise. One pass per list, no
    /// sorting: a frequent spelling group's list, made on a cold search.
    pub fn union_as_bytes(lists: &[&List], impact: impl Fn(usize, u8) -> u8) -> Option<List> {
        let lo = lists.iter().filter_map(|l| l.first_doc()).min()?;
        let hi = lists.iter().filter_map(|l| l.last_doc()).max()?;
        let total: usize = lists.iter().map(|l| l.len()).sum();
        let range = usize::try_from(hi.checked_sub(lo)?).ok()?.checked_add(1)?;
        if range > total.saturating_mul(4) {
            return None;
        }
        let mut bytes = vec![0u8; range];
        let mut put = |doc: i64, q: u8| {
            // A damaged list's issue outside the range is left out.
            if let Some(b) = usize::try_from(doc.wrapping_sub(lo))
                .ok()
                .and_then(|at| bytes.get_mut(at))
            {
                // Impacts are at most 254 (see `ranking`).
                *b = (*b).max(q.saturating_add(1));
            }
        };
        for (i, l) in lists.iter().enumerate() {
            match l {
                List::Sparse(p) => {
                    for (&d, &q) in p.docs.iter().zip(&p.impacts) {
                        put(d, impact(i, q));
                    }
                }
                List::Bytes(b) => {
                    for (at, &q) in b.bytes.iter().enumerate() {
                        if q > 0 {
                            put(b.base + at as i64, impact(i, q - 1));
                        }
                    }
                }
                List::Dense(d) => {
                    let mut next = d.impacts.iter();
                    'words: for (w, &bits) in d.words.iter().enumerate() {
                        let mut b = bits;
                        while b != 0 {
                            let Some(&q) = next.next() else { break 'words };
                            put(
                                d.base + w as i64 * 64 + b.trailing_zeros() as i64,
                                impact(i, q),
                            );
                            b &= b - 1;
                        }
                    }
                }
            }
        }
        let count = bytes.iter().filter(|&&q| q > 0).count();
        Some(List::Bytes(Bytes {
            base: lo,
            bytes,
            count,
        }))
    }

    /// The memory the decoded list takes, about.
    pub fn heap_bytes(&self) -> usize {
        match self {
            List::Sparse(p) => p.docs.capacity() * 8 + p.impacts.capacity(),
            List::Dense(d) => d.words.capacity() * 8 + d.rank.capacity() * 4 + d.impacts.capacity(),
            List::Bytes(b) => b.bytes.capacity(),
        }
    }

    /// The highest issue_pk the list may hold (None when empty).
    pub fn last_doc(&self) -> Option<i64> {
        match self {
            List::Sparse(p) => p.docs.last().copied(),
            List::Dense(d) => {
                let w = d.words.iter().rposition(|&bits| bits != 0)?;
                Some(d.base + w as i64 * 64 + 63 - d.words[w].leading_zeros() as i64)
            }
            List::Bytes(b) => Some(b.base + b.bytes.iter().rposition(|&q| q > 0)? as i64),
        }
    }

    /// The lowest issue_pk it holds.
    pub fn first_doc(&self) -> Option<i64> {
        match self {
            List::Sparse(p) => p.docs.first().copied(),
            List::Dense(d) => {
                let w = d.words.iter().position(|&bits| bits != 0)?;
                Some(d.base + w as i64 * 64 + d.words[w].trailing_zeros() as i64)
            }
            List::Bytes(b) => Some(b.base + b.bytes.iter().position(|&q| q > 0)? as i64),
        }
    }

    /// Per block of 2^`shift` issue_pks (`shift` >= 6; `count` blocks from
    /// block `from`), 1 + the highest impact the list holds in it; 0 where
    /// it holds no issue. A dense list's bitmap word is one run of impacts.
    pub fn block_maxima(&self, shift: u32, from: usize, count: usize) -> Vec<u16> {
        debug_assert!(
            shift >= 6,
            "a bitmap word must not span more than two blocks"
        );
        let mut max = vec![0u16; count];
        let mut raise = |doc: i64, m: u8| {
            if let Some(b) = usize::try_from(doc >> shift)
                .ok()
                .and_then(|b| b.checked_sub(from))
                .and_then(|b| max.get_mut(b))
            {
                *b = (*b).max(u16::from(m) + 1);
            }
        };
        match self {
            List::Sparse(p) => {
                for (&d, &q) in p.docs.iter().zip(&p.impacts) {
                    raise(d, q);
                }
            }
            List::Dense(d) => {
                for (w, &bits) in d.words.iter().enumerate() {
                    if bits == 0 {
                        continue;
                    }
                    let from = (d.rank[w] as usize).min(d.impacts.len());
                    let to = (from + bits.count_ones() as usize).min(d.impacts.len());
                    // A fold, not max(): it vectorises.
                    let m = d.impacts[from..to].iter().fold(0u8, |a, &q| a.max(q));
                    // The word's 64 issues span at most two blocks.
                    let first = d.base + w as i64 * 64;
                    raise(first, m);
                    raise(first + 63, m);
                }
            }
            List::Bytes(b) => {
                // Runs of 64 from base: each spans at most two blocks.
                for (c, run) in b.bytes.chunks(64).enumerate() {
                    let m = run.iter().fold(0u8, |a, &q| a.max(q));
                    if m > 0 {
                        let first = b.base + c as i64 * 64;
                        raise(first, m - 1);
                        raise(first + run.len() as i64 - 1, m - 1);
                    }
                }
            }
        }
        max
    }

    /// The list as `words` bitmap words aligned on issue_pk 0 (bit `d % 64`
    /// of word `d / 64 - from` for issue `d`); issues outside them are left
    /// out.
    pub fn aligned_bitmap(&self, from: usize, words: usize) -> Vec<u64> {
        let mut out = vec![0u64; words];
        let mut set = |word: i64, bits: u64| {
            if let Some(w) = usize::try_from(word)
                .ok()
                .and_then(|w| w.checked_sub(from))
                .and_then(|w| out.get_mut(w))
            {
                *w |= bits;
            }
        };
        match self {
            List::Sparse(p) => {
                for &d in &p.docs {
                    set(d >> 6, 1 << (d & 63));
                }
            }
            List::Dense(d) => {
                let off = d.base & 63;
                for (w, &bits) in d.words.iter().enumerate() {
                    let at = (d.base >> 6) + w as i64;
                    set(at, bits << off);
                    if off > 0 {
                        set(at + 1, bits >> (64 - off));
                    }
                }
            }
            List::Bytes(b) => {
                for (i, &q) in b.bytes.iter().enumerate() {
                    if q > 0 {
                        let d = b.base + i as i64;
                        set(d >> 6, 1 << (d & 63));
                    }
                }
            }
        }
        out
    }

    /// The byte form's base and bytes (impact + 1 per issue_pk from base),
    /// if the list is in it: lookups with no cursor.
    pub fn as_bytes(&self) -> Option<(i64, &[u8])> {
        match self {
            List::Bytes(b) => Some((b.base, &b.bytes)),
            _ => None,
        }
    }

    /// A reader for ascending lookups.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor { list: self, at: 0 }
    }
}

/// Looks issues up in a list, in ascending order of issue_pk.
pub struct Cursor<'a> {
    list: &'a List,
    at: usize,
}

impl Cursor<'_> {
    /// The impact of `doc` if the list holds it. Each call's `doc` must be
    /// at least the previous one's.
    pub fn find(&mut self, doc: i64) -> Option<u8> {
        match self.list {
            List::Sparse(p) => {
                self.at = seek(&p.docs, self.at, doc);
                (self.at < p.docs.len() && p.docs[self.at] == doc).then(|| p.impacts[self.at])
            }
            List::Dense(d) => {
                let off = u64::try_from(doc.checked_sub(d.base)?).ok()?;
                let (w, b) = (usize::try_from(off / 64).ok()?, off % 64);
                let bits = *d.words.get(w)?;
                if bits & (1u64 << b) == 0 {
                    return None;
                }
                let i = d.rank[w] as usize + (bits & ((1u64 << b) - 1)).count_ones() as usize;
                d.impacts.get(i).copied()
            }
            List::Bytes(b) => {
                let i = usize::try_from(doc.checked_sub(b.base)?).ok()?;
                b.bytes.get(i).and_then(|&q| q.checked_sub(1))
            }
        }
    }
}

/// The number of issues in an encoded list, read from its head.
pub fn doc_freq(b: &[u8]) -> u64 {
    get_varint(b, &mut 1).unwrap_or(0)
}

/// Decode a list; a damaged list decodes short, never past its end.
pub fn decode(b: &[u8]) -> List {
    let mut at = 1;
    let n = get_varint(b, &mut at).unwrap_or(0) as usize;
    match b.first() {
        Some(&DENSE) => decode_dense(b, at, n).unwrap_or_else(List::empty),
        _ => {
            let mut p = Postings {
                docs: Vec::with_capacity(n.min(b.len())),
                impacts: Vec::with_capacity(n.min(b.len())),
            };
            let mut doc = 0u64;
            for _ in 0..n {
                let Some(gap) = get_varint(b, &mut at) else {
                    break;
                };
                let Some(&imp) = b.get(at) else { break };
                at += 1;
                doc = doc.wrapping_add(gap);
                p.docs.push(doc as i64);
                p.impacts.push(imp);
            }
            List::Sparse(p)
        }
    }
}

fn decode_dense(b: &[u8], mut at: usize, n: usize) -> Option<List> {
    let base = i64::try_from(get_varint(b, &mut at)?).ok()?;
    let nwords = usize::try_from(get_varint(b, &mut at)?).ok()?;
    // A damaged base must not make the issue_pks overflow later.
    base.checked_add(i64::try_from(nwords).ok()?.checked_mul(64)?)?;
    let bitmap = b.get(at..at.checked_add(nwords.checked_mul(8)?)?)?;
    let words: Vec<u64> = bitmap
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let mut rank = Vec::with_capacity(words.len());
    let mut seen = 0u32;
    for w in &words {
        rank.push(seen);
        seen = seen.checked_add(w.count_ones())?;
    }
    let impacts = b.get(at + nwords * 8..)?;
    let n = n.min(impacts.len()).min(seen as usize);
    if n * 4 >= nwords * 64 {
        return Some(List::Bytes(to_bytes(base, &words, &impacts[..n])));
    }
    Some(List::Dense(Dense {
        base,
        words,
        rank,
        impacts: impacts[..n].to_vec(),
    }))
}

/// A bitmap and its impacts as one byte per issue_pk.
fn to_bytes(base: i64, words: &[u64], impacts: &[u8]) -> Bytes {
    let mut bytes = vec![0u8; words.len() * 64];
    let mut next = impacts.iter();
    let mut count = 0;
    'words: for (w, &bits) in words.iter().enumerate() {
        let mut b = bits;
        while b != 0 {
            let Some(&q) = next.next() else { break 'words };
            // Impacts are at most 254 (see `ranking`): a damaged 255 reads as 254.
            bytes[w * 64 + b.trailing_zeros() as usize] = q.saturating_add(1);
            count += 1;
            b &= b - 1;
        }
    }
    let end = bytes.iter().rposition(|&q| q > 0).map_or(0, |i| i + 1);
    bytes.truncate(end);
    Bytes { base, bytes, count }
}

/// A list being built: issues arrive in ascending order.
#[derive(Default)]
pub struct ListBuilder {
    count: u64,
    first: u64,
    last: u64,
    body: Vec<u8>,
}

impl ListBuilder {
    pub fn push(&mut self, doc: u64, imp: u8) {
        if self.count == 0 {
            self.first = doc;
        }
        put_varint(&mut self.body, doc - self.last);
        self.body.push(imp);
        self.last = doc;
        self.count += 1;
    }

    fn postings(&self) -> Postings {
        let mut sparse = vec![SPARSE];
        put_varint(&mut sparse, self.count);
        sparse.extend_from_slice(&self.body);
        match decode(&sparse) {
            List::Sparse(p) => p,
            List::Dense(_) | List::Bytes(_) => unreachable!("a sparse list decodes sparse"),
        }
    }

    /// The stored list, in its smaller form.
    pub fn finish(&self) -> Vec<u8> {
        let words = ((self.last - self.first) / 64 + 1) as usize;
        let mut out = Vec::new();
        if words * 8 + self.count as usize >= self.body.len() {
            out.reserve(self.body.len() + 10);
            out.push(SPARSE);
            put_varint(&mut out, self.count);
            out.extend_from_slice(&self.body);
            return out;
        }
        let p = self.postings();
        let mut bitmap = vec![0u64; words];
        for &d in &p.docs {
            let off = (d as u64 - self.first) as usize;
            bitmap[off / 64] |= 1 << (off % 64);
        }
        out.reserve(words * 8 + p.impacts.len() + 30);
        out.push(DENSE);
        put_varint(&mut out, self.count);
        put_varint(&mut out, self.first);
        put_varint(&mut out, words as u64);
        for w in bitmap {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&p.impacts);
        out
    }

    /// The champion list of a long list (None for a short one).
    pub fn champions(&self) -> Option<Vec<u8>> {
        if self.count <= CHAMPIONS as u64 {
            return None;
        }
        let list = self.postings();
        // The impact the CHAMPIONS-th best issue has.
        let mut histogram = [0usize; 256];
        for &q in &list.impacts {
            histogram[q as usize] += 1;
        }
        let mut above = 0;
        let mut threshold = 0u8;
        for q in (0..=255u8).rev() {
            if above + histogram[q as usize] >= CHAMPIONS {
                threshold = q;
                break;
            }
            above += histogram[q as usize];
        }
        let mut at_threshold = CHAMPIONS - above;
        let mut best: Vec<(u8, i64)> = Vec::with_capacity(CHAMPIONS);
        for (&doc, &q) in list.docs.iter().zip(&list.impacts) {
            if q > threshold {
                best.push((q, doc));
            } else if q == threshold && at_threshold > 0 {
                best.push((q, doc)); // the smallest issue_pks of the tie
                at_threshold -= 1;
            }
        }
        best.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out = Vec::with_capacity(best.len() * 5 + 10);
        put_varint(&mut out, self.count);
        put_varint(&mut out, best.len() as u64);
        for (q, doc) in best {
            out.push(q);
            put_varint(&mut out, doc as u64);
        }
        Some(out)
    }
}

/// A term's best issues, best first (impact descending, then issue_pk),
/// and how many issues hold the term in all.
pub struct Champions {
    pub doc_freq: u64,
    pub best: Vec<(u8, i64)>,
}

pub fn decode_champions(b: &[u8]) -> Champions {
    let mut at = 0;
    let doc_freq = get_varint(b, &mut at).unwrap_or(0);
    let n = get_varint(b, &mut at).unwrap_or(0) as usize;
    let mut best = Vec::with_capacity(n.min(CHAMPIONS));
    for _ in 0..n {
        let Some(&q) = b.get(at) else { break };
        at += 1;
        let Some(doc) = get_varint(b, &mut at) else {
            break;
        };
        best.push((q, doc as i64));
    }
    Champions { doc_freq, best }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(docs: &[(u64, u8)]) -> Vec<u8> {
        let mut b = ListBuilder::default();
        for &(d, q) in docs {
            b.push(d, q);
        }
        b.finish()
    }

    #[test]
    fn sparse_lists_round_trip() {
        let docs = [
            (1u64, 0u8),
            (2, 50),
            (130, 100),
            (70_000, 150),
            (1 << 40, 200),
        ];
        let bytes = build(&docs);
        assert_eq!(bytes[0], SPARSE);
        assert_eq!(doc_freq(&bytes), 5);
        let p = decode(&bytes).postings();
        assert_eq!(p.docs, vec![1, 2, 130, 70_000, 1 << 40]);
        assert_eq!(p.impacts, vec![0, 50, 100, 150, 200]);
    }

    #[test]
    fn dense_lists_round_trip_and_answer_lookups() {
        // Every issue but multiples of 7, from 1000 to 5000.
        let docs: Vec<(u64, u8)> = (1000..5000u64)
            .filter(|d| d % 7 != 0)
            .map(|d| (d, (d % 250) as u8 + 1))
            .collect();
        let bytes = build(&docs);
        assert_eq!(bytes[0], DENSE);
        assert!(bytes.len() < docs.len() * 2);
        assert_eq!(doc_freq(&bytes), docs.len() as u64);
        let list = decode(&bytes);
        assert_eq!(list.len(), docs.len());
        let p = list.postings();
        assert_eq!(p.docs, docs.iter().map(|d| d.0 as i64).collect::<Vec<_>>());
        assert_eq!(p.impacts, docs.iter().map(|d| d.1).collect::<Vec<_>>());
        let mut c = list.cursor();
        for d in 990..5010i64 {
            let want = (d >= 1000 && d < 5000 && d % 7 != 0).then(|| (d % 250) as u8 + 1);
            assert_eq!(c.find(d), want, "issue {d}");
        }
    }

    #[test]
    fn block_maxima_and_aligned_bitmaps_agree_with_the_postings() {
        // Dense (most of 0..5000) and sparse (a few far apart) lists.
        let dense: Vec<(u64, u8)> = (7..5000u64)
            .filter(|d| d % 5 != 0)
            .map(|d| (d, (d * 37 % 251) as u8 + 1))
            .collect();
        let sparse: Vec<(u64, u8)> = vec![(3, 9), (700, 4), (701, 200), (4999, 1)];
        // Stored dense but read back as a bitmap (a fifth of the range).
        let fifth: Vec<(u64, u8)> = (7..5000u64)
            .filter(|d| d % 5 == 0)
            .map(|d| (d, (d * 37 % 251) as u8 + 1))
            .collect();
        for docs in [dense, sparse, fifth] {
            let list = decode(&build(&docs));
            let shift = 7;
            let count = (5000 >> shift) + 1;
            assert_eq!(list.last_doc(), docs.last().map(|d| d.0 as i64));
            let max = list.block_maxima(shift, 0, count);
            let mut want = vec![0u16; count];
            for &(d, q) in &docs {
                let b = (d >> shift) as usize;
                want[b] = want[b].max(u16::from(q) + 1);
            }
            // A dense word straddling two blocks may raise both: never lower.
            for b in 0..count {
                assert!(max[b] >= want[b], "block {b}");
            }
            let bitmap = list.aligned_bitmap(0, 5000 / 64 + 1);
            let mut from_bitmap = Vec::new();
            for (w, &bits) in bitmap.iter().enumerate() {
                for bit in 0..64 {
                    if bits & (1 << bit) != 0 {
                        from_bitmap.push(w as i64 * 64 + bit);
                    }
                }
            }
            assert_eq!(from_bitmap, list.postings().docs);
            assert_eq!(list.aligned_bitmap(0, 2).len(), 2); // issues past it left out
        }
        // Words aligned with the blocks: the maxima are exact.
        let aligned: Vec<(u64, u8)> = (64..1024u64).map(|d| (d, (d % 200) as u8)).collect();
        let list = decode(&build(&aligned));
        let max = list.block_maxima(6, 0, 16);
        assert_eq!(max[0], 0);
        for b in 1..16 {
            let want = aligned
                .iter()
                .filter(|d| d.0 >> 6 == b as u64)
                .map(|d| d.1)
                .max()
                .unwrap();
            assert_eq!(max[b], u16::from(want) + 1, "block {b}");
        }
    }

    #[test]
    fn dense_lists_read_back_in_the_form_that_suits_them() {
        for (every, bytes_form) in [(1u64, true), (3, true), (5, false), (7, false)] {
            let docs: Vec<(u64, u8)> = (100..20_000u64)
                .filter(|d| d % every == 0)
                .map(|d| (d, (d % 254) as u8))
                .collect();
            let stored = build(&docs);
            assert_eq!(stored[0], DENSE, "every {every}");
            let list = decode(&stored);
            assert_eq!(matches!(list, List::Bytes(_)), bytes_form, "every {every}");
            assert_eq!(list.len(), docs.len());
            let p = list.postings();
            assert_eq!(p.docs, docs.iter().map(|d| d.0 as i64).collect::<Vec<_>>());
            assert_eq!(p.impacts, docs.iter().map(|d| d.1).collect::<Vec<_>>());
            let mut c = list.cursor();
            for d in 90..20_010i64 {
                let want =
                    (d >= 100 && d < 20_000 && d as u64 % every == 0).then(|| (d % 254) as u8);
                assert_eq!(c.find(d), want, "every {every}, issue {d}");
            }
            assert!(list.heap_bytes() <= 20_000 + 64);
        }
    }

    #[test]
    fn sparse_cursor_finds_in_order() {
        let list = decode(&build(&[(3, 1), (9, 2), (4000, 3)]));
        let mut c = list.cursor();
        assert_eq!(c.find(1), None);
        assert_eq!(c.find(3), Some(1));
        assert_eq!(c.find(5), None);
        assert_eq!(c.find(4000), Some(3));
        assert_eq!(c.find(5000), None);
    }

    #[test]
    fn damaged_lists_decode_short() {
        let bytes = build(&[(5, 1), (9, 2)]);
        assert_eq!(decode(&bytes[..bytes.len() - 1]).postings().docs, vec![5]);
        assert!(decode(&[]).is_empty());
        assert!(decode(&[0xFF; 12]).is_empty());
        assert!(decode(&[DENSE, 0x05, 0x01, 0x7F]).is_empty());
        let dense = build(&(0..1000u64).map(|d| (d, 1)).collect::<Vec<_>>());
        assert!(decode(&dense[..dense.len() - 10]).len() < 1000);
        // A base whose issue_pks would pass i64::MAX: nothing, not a panic.
        for base in [i64::MAX as u64 - 10, u64::MAX] {
            let mut b = vec![DENSE];
            put_varint(&mut b, 1);
            put_varint(&mut b, base);
            put_varint(&mut b, 1);
            b.extend_from_slice(&1u64.to_le_bytes());
            b.push(5);
            let list = decode(&b);
            assert!(list.is_empty() && list.last_doc().is_none());
            assert_eq!(list.block_maxima(6, 0, 4), vec![0; 4]);
        }
    }

    #[test]
    fn champions_are_the_best_with_ties_to_the_first_stored() {
        let mut b = ListBuilder::default();
        let n = CHAMPIONS as u64 * 3;
        for d in 1..=n {
            // Impacts cycle 1..=100; many issues tie at each.
            b.push(d, (d % 100 + 1) as u8);
        }
        let c = decode_champions(&b.champions().unwrap());
        assert_eq!(c.doc_freq, n);
        assert_eq!(c.best.len(), CHAMPIONS);
        let mut all: Vec<(u8, i64)> = (1..=n).map(|d| ((d % 100 + 1) as u8, d as i64)).collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(c.best, all[..CHAMPIONS].to_vec());
        let mut short = ListBuilder::default();
        short.push(1, 1);
        assert!(short.champions().is_none());
    }
}
