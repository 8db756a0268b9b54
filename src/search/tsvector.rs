//! PostgreSQL's tsvector in its binary layout (ts_type.h), read and
//! written without its text form: a 4-byte varlena header, the number of
//! lexemes, one 32-bit WordEntry per lexeme (bitfields haspos:1, len:11,
//! pos:20 from the low bit, as GCC lays them out on little-endian
//! machines), then each lexeme's bytes followed, at a 2-byte aligned offset
//! of the string area, by a uint16 count and uint16 positions whose top two
//! bits are the weight (D=0 .. A=3). Lexemes are sorted bytewise, a prefix
//! before the longer word; each one's positions ascend, one per position.
//!
//! Writing it directly saves the upsert formatting every vector as text and
//! `tsvector_in` parsing it back (a quarter of the time a vector took).

use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::prelude::*;

#[cfg(target_endian = "big")]
compile_error!("the tsvector layout here assumes a little-endian machine");

/// The string area (lexemes and positions) addresses 20 bits.
const MAX_STRING_AREA: usize = (1 << 20) - 1;
/// Positions are the low 14 bits; the last one stands for any beyond it.
pub const MAX_POSITION: u16 = (1 << 14) - 1;
/// The longest lexeme tsvector_in accepts.
const MAX_LEXEME_BYTES: usize = (1 << 11) - 2;

/// A position with its weight bits (3 = A .. 0 = D) on top.
pub fn weighted_position(pos: u32, weight: u16) -> u16 {
    (weight << 14) | pos.min(MAX_POSITION as u32) as u16
}

/// Positions as tsvector keeps them: ascending, each position once with
/// the highest weight it was given.
pub fn normalize_positions(positions: &mut Vec<u16>) {
    positions.sort_unstable_by_key(|p| (p & MAX_POSITION, p >> 14));
    positions.dedup_by(|later, kept| {
        let same = *later & MAX_POSITION == *kept & MAX_POSITION;
        if same {
            *kept = (*kept).max(*later);
        }
        same
    });
}

/// A tsvector value, built in Rust and returned to PostgreSQL as is.
pub struct TsVector(Vec<u8>);

impl TsVector {
    /// The tsvector of `lexemes`, given sorted bytewise (`[u8]`'s order is
    /// tsvector's), each with its normalised, non-empty positions.
    pub fn from_lexemes<T: AsRef<[u8]>>(lexemes: &[(T, Vec<u16>)]) -> TsVector {
        match layout(lexemes) {
            Ok(bytes) => TsVector(bytes),
            Err(too_long) => crate::errors::raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("the search vector is too long ({too_long} bytes, max {MAX_STRING_AREA})"),
                None,
            ),
        }
    }
}

/// The varlena bytes of a tsvector, or the size of its string area when
/// that is more than tsvector can address.
fn layout<T: AsRef<[u8]>>(lexemes: &[(T, Vec<u16>)]) -> Result<Vec<u8>, usize> {
    let mut entries: Vec<u32> = Vec::with_capacity(lexemes.len());
    let mut strings: Vec<u8> = Vec::new();
    for (lexeme, positions) in lexemes {
        let lexeme = lexeme.as_ref();
        assert!(
            !lexeme.is_empty() && lexeme.len() <= MAX_LEXEME_BYTES && !positions.is_empty(),
            "a lexeme of 1 to {MAX_LEXEME_BYTES} bytes with positions"
        );
        let offset = strings.len().min(MAX_STRING_AREA) as u32;
        entries.push(1 | ((lexeme.len() as u32) << 1) | (offset << 12));
        strings.extend_from_slice(lexeme);
        if strings.len() % 2 == 1 {
            strings.push(0);
        }
        strings.extend_from_slice(&(positions.len() as u16).to_ne_bytes());
        for p in positions {
            strings.extend_from_slice(&p.to_ne_bytes());
        }
    }
    if strings.len() > MAX_STRING_AREA {
        return Err(strings.len());
    }
    let total = 8 + 4 * entries.len() + strings.len();
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(&((total as u32) << 2).to_ne_bytes()); // SET_VARSIZE, 4-byte header
    bytes.extend_from_slice(&(entries.len() as i32).to_ne_bytes());
    for e in &entries {
        bytes.extend_from_slice(&e.to_ne_bytes());
    }
    bytes.extend_from_slice(&strings);
    Ok(bytes)
}

impl IntoDatum for TsVector {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        (&self).into_datum()
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::TSVECTOROID
    }
}

/// A copy in the current memory context (the upsert passes its vectors
/// as a `tsvector[]` argument).
impl IntoDatum for &TsVector {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        // SAFETY: palloc returns at least len bytes (or raises an ERROR);
        // the bytes are a whole varlena.
        unsafe {
            let p = pg_sys::palloc(self.0.len()) as *mut u8;
            std::ptr::copy_nonoverlapping(self.0.as_ptr(), p, self.0.len());
            Some(pg_sys::Datum::from(p))
        }
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::TSVECTOROID
    }
}

unsafe impl BoxRet for TsVector {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match self.into_datum() {
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

impl_sql_translatable!(TsVector, "tsvector");

/// The entries of a detoasted tsvector, read in place.
struct Entries<'a> {
    bytes: &'a [u8],
    size: usize,
    str_start: usize,
}

/// One entry: its lexeme, and where its positions are (None: it has none).
struct Entry<'a> {
    lexeme: &'a [u8],
    positions: Option<usize>,
}

impl<'a> Entries<'a> {
    /// None when the header does not fit the bytes.
    fn new(bytes: &'a [u8]) -> Option<Entries<'a>> {
        let size = i32::from_ne_bytes(bytes.get(4..8)?.try_into().ok()?).max(0) as usize;
        let str_start = 8 + 4 * size;
        (str_start <= bytes.len()).then_some(Entries {
            bytes,
            size,
            str_start,
        })
    }

    /// Entry `i` (< size); None when its lexeme runs past the end.
    fn entry(&self, i: usize) -> Option<Entry<'a>> {
        let e = u32::from_ne_bytes(self.bytes[8 + 4 * i..12 + 4 * i].try_into().unwrap());
        let len = ((e >> 1) & 0x7FF) as usize;
        let pos = (e >> 12) as usize;
        let (lo, hi) = (self.str_start + pos, self.str_start + pos + len);
        let lexeme = self.bytes.get(lo..hi)?;
        let positions = (e & 1 == 1).then(|| self.str_start + ((pos + len + 1) & !1));
        Some(Entry { lexeme, positions })
    }

    /// An entry's weighted frequency (weight D once without positions);
    /// None when its positions run past the end.
    fn frequency(&self, entry: &Entry, weights: &[f32; 4]) -> Option<f32> {
        let Some(off) = entry.positions else {
            return Some(weights[0]);
        };
        let npos = u16::from_ne_bytes(self.bytes.get(off..off + 2)?.try_into().unwrap()) as usize;
        let mut tf = 0.0;
        for j in 0..npos {
            let at = off + 2 + 2 * j;
            let Some(wp) = self.bytes.get(at..at + 2) else {
                break;
            };
            let wp = u16::from_ne_bytes(wp.try_into().unwrap());
            tf += weights[(wp >> 14) as usize];
        }
        Some(tf)
    }
}

/// Run `read` over the bytes of a tsvector datum, detoasted if need be.
///
/// # Safety
/// `datum` must be a non-null tsvector datum.
unsafe fn with_bytes<R>(datum: pg_sys::Datum, read: impl FnOnce(&[u8]) -> R) -> R {
    let raw = datum.cast_mut_ptr::<pg_sys::varlena>();
    let p = pg_sys::pg_detoast_datum(raw);
    let base = p as *const u8;
    let total = ((std::ptr::read_unaligned(base as *const u32) >> 2) & 0x3FFF_FFFF) as usize;
    let out = read(std::slice::from_raw_parts(base, total));
    if p != raw {
        pg_sys::pfree(p.cast());
    }
    out
}

/// Call `f(number of lexemes, lexeme, weighted frequency)` for every
/// lexeme of a tsvector datum and return the number of lexemes. A lexeme
/// without positions counts once at weight D.
///
/// # Safety
/// `datum` must be a non-null tsvector datum.
pub unsafe fn for_each_lexeme(
    datum: pg_sys::Datum,
    weights: &[f32; 4],
    mut f: impl FnMut(u32, &[u8], f32),
) -> u32 {
    with_bytes(datum, |bytes| {
        let Some(entries) = Entries::new(bytes) else {
            return 0;
        };
        let length = entries.size as u32;
        for i in 0..entries.size {
            let Some(entry) = entries.entry(i) else {
                break;
            };
            if let Some(tf) = entries.frequency(&entry, weights) {
                f(length, entry.lexeme, tf);
            }
        }
        length
    })
}

/// The number of lexemes of a tsvector datum and the weighted frequency of
/// each of `terms` in it (0 when absent), each found by binary search.
///
/// # Safety
/// `datum` must be a non-null tsvector datum.
pub unsafe fn lexeme_frequencies(
    datum: pg_sys::Datum,
    terms: &[&[u8]],
    weights: &[f32; 4],
) -> (u32, Vec<f32>) {
    with_bytes(datum, |bytes| frequencies(bytes, terms, weights))
}

/// `lexeme_frequencies` of a tsvector's bytes.
fn frequencies(bytes: &[u8], terms: &[&[u8]], weights: &[f32; 4]) -> (u32, Vec<f32>) {
    let Some(entries) = Entries::new(bytes) else {
        return (0, vec![0.0; terms.len()]);
    };
    let find = |term: &[u8]| {
        let (mut lo, mut hi) = (0, entries.size);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let entry = entries.entry(mid)?;
            match entry.lexeme.cmp(term) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return entries.frequency(&entry, weights),
            }
        }
        None
    };
    let tf = terms.iter().map(|t| find(t).unwrap_or(0.0)).collect();
    (entries.size as u32, tf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_ascend_once_each_with_the_highest_weight() {
        let mut p = vec![
            weighted_position(5, 1),
            weighted_position(2, 0),
            weighted_position(5, 3),
            weighted_position(2, 2),
        ];
        normalize_positions(&mut p);
        assert_eq!(p, [weighted_position(2, 2), weighted_position(5, 3)]);
        assert_eq!(weighted_position(20_000, 0), MAX_POSITION);
    }

    #[test]
    fn frequencies_found_by_binary_search_match_a_walk() {
        let weights = [0.5, 0.7, 1.0, 3.0];
        let lexemes: Vec<(&str, Vec<u16>)> = vec![
            ("ab", vec![weighted_position(1, 0)]),
            (
                "abc",
                vec![weighted_position(2, 3), weighted_position(9, 1)],
            ),
            ("b", vec![weighted_position(3, 2)]),
            (
                "openframe",
                vec![weighted_position(4, 0), weighted_position(5, 0)],
            ),
            ("깨지", vec![weighted_position(6, 3)]),
            (
                "한글",
                vec![weighted_position(7, 2), weighted_position(8, 3)],
            ),
        ];
        let bytes = layout(&lexemes).unwrap();
        let entries = Entries::new(&bytes).unwrap();
        let walked: Vec<(Vec<u8>, f32)> = (0..entries.size)
            .map(|i| {
                let e = entries.entry(i).unwrap();
                (e.lexeme.to_vec(), entries.frequency(&e, &weights).unwrap())
            })
            .collect();
        assert_eq!(walked[1], (b"abc".to_vec(), 3.0 + 0.7));
        let terms: Vec<&[u8]> = vec![
            b"abc",
            b"a",
            "한글".as_bytes(),
            b"ab",
            b"zz",
            "깨지".as_bytes(),
        ];
        let (length, tf) = frequencies(&bytes, &terms, &weights);
        assert_eq!(length, 6);
        let expected: Vec<f32> = terms
            .iter()
            .map(|t| walked.iter().find(|(l, _)| l == t).map_or(0.0, |w| w.1))
            .collect();
        assert_eq!(tf, expected);
        assert_eq!(tf, [3.7, 0.0, 4.0, 0.5, 0.0, 3.0]);
        // A header that does not fit the bytes reads as empty.
        assert_eq!(
            frequencies(&bytes[..6], &terms, &weights),
            (0, vec![0.0; 6])
        );
    }

    #[test]
    fn layout_has_aligned_position_lists() {
        let b = layout(&[("ab", vec![1]), ("abc", vec![2, 3])]).unwrap();
        let total = u32::from_ne_bytes(b[0..4].try_into().unwrap()) >> 2;
        assert_eq!(total as usize, b.len());
        // header 8 + 2 entries + "ab" npos pos + "abc" pad npos pos pos
        assert_eq!(b.len(), 8 + 8 + (2 + 2 + 2) + (3 + 1 + 2 + 4));
        let second = u32::from_ne_bytes(b[12..16].try_into().unwrap());
        assert_eq!((second >> 1) & 0x7FF, 3);
        assert_eq!(second >> 12, 6);
    }
}
