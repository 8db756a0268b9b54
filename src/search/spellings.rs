//! Spelling groups: one word written several ways, searched as one term.
//!
//! A loanword in Hangul and in Latin letters (`세션` / `session`), words
//! for one thing (`에러` / `오류` / `error`: `synonyms`), a typo and the
//! words it likely meant (`deadlcok` / `deadlock`: `typos`) become one
//! scoring term, `any:` and its member terms joined by `|`. Its posting
//! list is the union of its members' lists, each issue with the best
//! impact any member gives it, and its document frequency is the size of
//! that union (in its champion list, made from the members' champion
//! lists, their sum): an issue scores once, by the spelling it matches best,
//! whichever it was written in; a query word with several spellings
//! counts once toward how many of the words an issue must hold. The
//! union is made when a search first needs it and kept by the backend
//! with the lists it came from (`list_cache`).
//!
//! No term holds `:` or `|` (the tokenizer splits there), so a group's
//! term cannot be mistaken for a word.

use crate::search::list_format::{List, Postings};

const GROUP_MARK: &str = "any:";
/// Marks a member that is another word for the typed one (a synonym, or a
/// Hangul word's bigram alone: the word inside a longer one), not the word
/// as typed (a correction is what was meant: unmarked): an issue matching only such members
/// scores `OTHER_WORD_SHARE` of its impact, so issues written the way the
/// query is rank first at equal weight.
const OTHER_WORD: char = '~';
const OTHER_WORD_SHARE: f32 = 0.8;

/// A member term marked as another word for the typed one.
pub fn other_word(term: &str) -> String {
    format!("{OTHER_WORD}{term}")
}

/// An impact through a member: discounted for another word.
pub fn member_impact(impact: u8, other: bool) -> u8 {
    if other && impact > 0 {
        ((impact as f32 * OTHER_WORD_SHARE).round() as u8).max(1)
    } else {
        impact
    }
}

/// The most spellings one group holds.
pub const MAX_MEMBERS: usize = 8;

/// The term of a group of member terms (sorted, without repeats; the term
/// itself when there is only one).
pub fn group_term(members: &[String]) -> String {
    let mut m: Vec<&str> = members.iter().map(String::as_str).collect();
    m.sort_unstable();
    m.dedup();
    match m.as_slice() {
        [one] => one.trim_start_matches(OTHER_WORD).to_string(),
        _ => format!("{GROUP_MARK}{}", m.join("|")),
    }
}

/// The member terms of a group's term; None for a plain term.
pub fn members(term: &str) -> Option<Vec<&str>> {
    term.strip_prefix(GROUP_MARK)
        .map(|m| m.split('|').collect())
}

/// The terms a term stands for (a group's members, unmarked, or the term
/// itself), each with whether it is another word for the typed one.
pub fn weighted_spellings(term: &str) -> Vec<(&str, bool)> {
    members(term).map_or_else(
        || vec![(term, false)],
        |m| {
            m.into_iter()
                .map(|t| match t.strip_prefix(OTHER_WORD) {
                    Some(other) => (other, true),
                    None => (t, false),
                })
                .collect()
        },
    )
}

/// The terms a term stands for: a group's members, or the term itself.
pub fn spellings(term: &str) -> Vec<&str> {
    weighted_spellings(term)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// A group's posting list from its members' (absent members are empty):
/// each issue once, with its best impact (its champion list is made in
/// `list_cache` from the members' champion lists).
pub fn merged(lists: &[(&List, bool)]) -> List {
    let plain: Vec<&List> = lists.iter().map(|&(l, _)| l).collect();
    if let Some(union) = List::union_as_bytes(&plain, |i, q| member_impact(q, lists[i].1)) {
        return union;
    }
    // Sparse over a long range: merged two at a time, each pass linear in
    // the issues.
    let mut all: Vec<(i64, u8)> = Vec::new();
    for &(l, other) in lists {
        let p = l.postings();
        let next: Vec<(i64, u8)> = p
            .docs
            .into_iter()
            .zip(p.impacts.into_iter().map(|q| member_impact(q, other)))
            .collect();
        // Each issue once, with its best impact.
        all = crate::search::doc_sets::merge_with(&all, &next, |d| d.0, |x, y| (x.0, x.1.max(y.1)));
    }
    let (docs, impacts) = all.into_iter().unzip();
    List::Sparse(Postings { docs, impacts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::list_format::{decode, ListBuilder};

    fn list(docs: &[(u64, u8)]) -> List {
        let mut b = ListBuilder::default();
        for &(d, q) in docs {
            b.push(d, q);
        }
        decode(&b.finish())
    }

    #[test]
    fn a_group_term_names_its_members_once() {
        let t = group_term(&["session".into(), "=세션".into(), "session".into()]);
        assert_eq!(t, "any:=세션|session");
        assert_eq!(members(&t), Some(vec!["=세션", "session"]));
        assert_eq!(group_term(&["session".into()]), "session");
        assert_eq!(members("session"), None);
        assert_eq!(spellings("session"), vec!["session"]);
        let t = group_term(&["=세션".into(), other_word("session")]);
        assert_eq!(spellings(&t), vec!["=세션", "session"]);
        assert_eq!(
            weighted_spellings(&t),
            vec![("=세션", false), ("session", true)]
        );
    }

    #[test]
    fn a_merged_list_keeps_each_issue_once_with_its_best_impact() {
        let a = list(&[(1, 10), (5, 200), (9, 3)]);
        let b = list(&[(5, 40), (7, 90)]);
        let p = merged(&[(&a, false), (&b, false)]).postings();
        assert_eq!(p.docs, vec![1, 5, 7, 9]);
        assert_eq!(p.impacts, vec![10, 200, 90, 3]);
        let p = merged(&[(&a, false), (&b, true)]).postings();
        assert_eq!(
            p.impacts,
            vec![10, 200, 72, 3],
            "another word's impact is discounted"
        );
    }

    /// Every stored form (sparse, dense bitmap, one byte per issue) and
    /// both ways of merging (one byte per issue_pk over a short range,
    /// pairwise over a long one) give the same union.
    #[test]
    fn merging_agrees_for_every_list_form() {
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut make = |every: u64, from: u64, to: u64| {
            let mut docs: Vec<(u64, u8)> = Vec::new();
            for d in from..to {
                if next(every) == 0 {
                    docs.push((d, 1 + next(254) as u8));
                }
            }
            docs
        };
        let bytes = make(2, 1000, 5000); // half the issue_pks: one byte each
        let dense = make(6, 3000, 9000); // a sixth: a bitmap
        let sparse = make(40, 0, 12000); // a 40th: sparse
        let far = vec![(10_000_000, 9), (20_000_000, 8)];
        let forms = [list(&bytes), list(&dense), list(&sparse), list(&far)];
        assert!(matches!(forms[0], List::Bytes(_)) && matches!(forms[1], List::Dense(_)));
        assert!(matches!(forms[2], List::Sparse(_)));
        for (members, other) in [
            (&[0, 1, 2][..], &[false, true, false][..]),
            (&[0, 1, 2, 3][..], &[true, false, false, true][..]),
        ] {
            let mut want = std::collections::BTreeMap::new();
            for (&m, &o) in members.iter().zip(other) {
                for &(d, q) in [&bytes, &dense, &sparse, &far][m] {
                    let q = member_impact(q, o);
                    let best = want.entry(d as i64).or_insert(q);
                    *best = (*best).max(q);
                }
            }
            let lists: Vec<(&List, bool)> = members
                .iter()
                .zip(other)
                .map(|(&m, &o)| (&forms[m], o))
                .collect();
            let got = merged(&lists);
            assert_eq!(
                matches!(got, List::Bytes(_)),
                members.len() == 3,
                "short range: one byte per issue"
            );
            let p = got.postings();
            assert_eq!(got.len(), want.len());
            assert_eq!(p.docs, want.keys().copied().collect::<Vec<_>>());
            assert_eq!(p.impacts, want.values().copied().collect::<Vec<_>>());
        }
    }
}
