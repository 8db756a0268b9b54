//! Search result snippets: a short passage around the best match, with the
//! matched words marked.

use std::collections::HashMap;

use crate::search::tokenize::{tokenize, Mode};
use crate::search::vectors::prefix;

/// Snippet size around the best match, in bytes of source text.
const SNIPPET_BEFORE: usize = 80;
const SNIPPET_AFTER: usize = 160;
/// How much of each field is searched for the passage: a long comment
/// thread costs a result no more than this.
pub const SCANNED_BYTES: usize = 16 * 1024;

/// The terms to mark, each with the query word it is a form of: a passage
/// holds a word when it holds any of its forms (`=깨지` or `깨짐`).
pub struct Marks {
    word_of: HashMap<String, usize>,
    words: usize,
    /// A passage with this many words explains the match (all of them,
    /// unless the query needs only some).
    enough: usize,
}

impl Marks {
    /// From each query word's terms; `enough` words make a passage complete
    /// (None: all of them).
    pub fn new(words: impl IntoIterator<Item = Vec<String>>, enough: Option<usize>) -> Marks {
        let mut word_of = HashMap::new();
        let mut count = 0;
        for (w, terms) in words.into_iter().enumerate() {
            for t in terms {
                word_of.entry(t).or_insert(w);
            }
            count = w + 1;
        }
        Marks {
            word_of,
            words: count,
            enough: enough.unwrap_or(count).min(count),
        }
    }
}

/// The best passage found so far.
struct Window<'a> {
    /// Distinct query words in it.
    found: usize,
    text: &'a str,
    from: usize,
    to: usize,
    /// Every matched span of `text`.
    spans: Vec<(usize, usize)>,
}

/// A short passage around the best match, matched words in <b></b>, and
/// whether it holds every query word. Fields in order of preference:
/// description, comments, attachments, title.
pub fn make_snippet(fields: [Option<&str>; 4], terms: &Marks) -> (Option<String>, bool) {
    let probes = probes(terms);
    match best_window(fields, terms, Some(&probes)) {
        Some(w) => render(w, terms),
        // The issue matched, so a field holds a term: look word by word.
        None => best_window(fields, terms, None).map_or((None, false), |w| render(w, terms)),
    }
}

fn render(w: Window, terms: &Marks) -> (Option<String>, bool) {
    let complete = w.found >= terms.enough;
    (
        Some(render_snippet(w.text, w.from, w.to, w.spans)),
        complete,
    )
}

/// For each term, a string that text producing it must contain (in ASCII
/// lower case): the term itself, or for an English stem the part stemming
/// never changes (`connect` comes from `connection`: `conn`), or for a
/// Hangul stem its syllables but the last, which endings fuse into
/// (`=깨지` comes from `깨집니다`: `깨`).
fn probes(terms: &Marks) -> Vec<String> {
    terms
        .word_of
        .keys()
        .map(|t| {
            if let Some(stem) = t.strip_prefix(crate::search::tokenize::STEM_MARK) {
                let last = stem.char_indices().last().map_or(0, |(i, _)| i);
                return stem[..last.max(stem.chars().next().map_or(0, char::len_utf8))].to_string();
            }
            let stem = t.bytes().all(|b| b.is_ascii_lowercase());
            let keep = match t.len() {
                _ if !stem => t.len(),
                n if n >= 6 => n - 3,
                n if n >= 4 => 2,
                _ => 1, // dying -> die
            };
            t[..keep].to_string()
        })
        .collect()
}

/// The matched tokens of `text`: with `probes`, only the words where a
/// probe occurs are tokenized (in text NFKC leaves as it is: ASCII and
/// Hangul syllables); without, every word.
fn find_hits<'t>(
    text: &str,
    terms: &'t Marks,
    probes: Option<&[String]>,
) -> Vec<(usize, usize, usize)> {
    let matched = |from: usize, piece: &str| -> Vec<(usize, usize, usize)> {
        tokenize(piece, Mode::Index)
            .into_iter()
            .filter_map(|t| {
                terms
                    .word_of
                    .get(&t.term)
                    .map(|&word| (from + t.start, from + t.end, word))
            })
            .collect()
    };
    let as_is = |c: char| c.is_ascii() || ('\u{AC00}'..='\u{D7A3}').contains(&c);
    let Some(probes) = probes.filter(|_| text.chars().all(as_is)) else {
        return matched(0, text);
    };
    let lower = text.to_ascii_lowercase(); // same byte offsets
    let mut words: Vec<(usize, usize)> = probes
        .iter()
        .flat_map(|p| {
            lower
                .match_indices(p.as_str())
                .map(|(at, p)| (at, at + p.len()))
        })
        .map(|(s, e)| {
            let start = text[..s].rfind(char::is_whitespace).map_or(0, |i| i + 1);
            let end = text[e..]
                .find(char::is_whitespace)
                .map_or(text.len(), |i| e + i);
            (start, end)
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    let mut hits = Vec::new();
    let mut done = 0;
    for (start, end) in words {
        let start = start.max(done);
        if start < end {
            hits.extend(matched(start, &text[start..end]));
            done = end;
        }
    }
    hits
}

/// The best window over the fields, in order of preference.
fn best_window<'a>(
    fields: [Option<&'a str>; 4],
    terms: &Marks,
    probes: Option<&[String]>,
) -> Option<Window<'a>> {
    let mut best: Option<Window> = None;
    for field in fields {
        // A window with every term cannot be beaten: skip the other fields.
        if best.as_ref().is_some_and(|b| b.found == terms.words) {
            break;
        }
        let Some(text) = field else { continue };
        let text = prefix(text, SCANNED_BYTES);
        let hits = find_hits(text, terms, probes);
        let mut field_best: Option<(usize, usize, usize)> = None;
        for (j, &(start, _, _)) in hits.iter().enumerate() {
            let from = start.saturating_sub(SNIPPET_BEFORE);
            let to = (start + SNIPPET_AFTER).min(text.len());
            // Query words are clauses, at most 64 (the term limit): a bit each.
            let distinct = hits[j..]
                .iter()
                .take_while(|h| h.1 <= to)
                .fold(0u64, |m, h| m | 1 << (h.2 & 63))
                .count_ones() as usize;
            let beats_earlier = best.as_ref().is_none_or(|b| distinct > b.found);
            if beats_earlier && field_best.is_none_or(|b| distinct > b.0) {
                field_best = Some((distinct, from, to));
                if distinct == terms.words {
                    break;
                }
            }
        }
        if let Some((found, from, to)) = field_best {
            let spans = hits.iter().map(|h| (h.0, h.1)).collect();
            best = Some(Window {
                found,
                text,
                from,
                to,
                spans,
            });
        }
    }
    best
}

/// `text` HTML-escaped onto `out`: a snippet is HTML (its marks are
/// `<b>` tags), so the issue's own text can never add markup to a page
/// that shows it (`<script>` in a title comes back as `&lt;script&gt;`).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text[from..to]` (widened to char boundaries), HTML-escaped, with the
/// matched spans inside it marked.
fn render_snippet(text: &str, from: usize, to: usize, mut spans: Vec<(usize, usize)>) -> String {
    let from = (0..=from)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let to = (to..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    // Overlapping spans (a code and its parts) merge into the first.
    spans.retain(|&(s, e)| s >= from && e <= to);
    spans.sort();
    spans.dedup();
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        push_escaped(&mut out, &text[at..s]);
        out.push_str("<b>");
        push_escaped(&mut out, &text[s..e]);
        out.push_str("</b>");
        at = e;
    }
    push_escaped(&mut out, &text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The terms a query gives, one word per token, as search_issues
    /// marks them.
    fn terms_of(query: &str) -> Marks {
        Marks::new(
            tokenize(query, Mode::Query)
                .into_iter()
                .map(|t| vec![t.term]),
            None,
        )
    }

    #[test]
    fn probing_finds_what_tokenizing_every_word_finds() {
        let texts = [
            "The connection was reset; connections time out after the timeouts (connected, connecting).",
            "Dying jobs: the job is lying about its queries, querying the query catalog.",
            "ORA-00942 table or view does not exist, see ora-00942 and OFCOBOL-1234 / v7.0.3 at 0x1F.",
            "TJES 서버1 연결이 끊김, 연결을 다시 시도합니다. 타임아웃3 발생 후 OpenFrame에서 재기동.",
            "Full-width ＯＲＡ－００９４２ and café résumé stay on the slow path.",
            "",
        ];
        let queries = [
            "connection",
            "timeout",
            "connect reset",
            "dying lie",
            "query",
            "jobs",
            "ORA-00942",
            "00942",
            "ofcobol",
            "v7.0.3",
            "0x1F",
            "TJES",
            "서버1",
            "서버",
            "연결",
            "타임아웃",
            "openframe",
            "재기동",
            "café",
        ];
        for text in texts {
            for q in queries {
                let terms = terms_of(q);
                let fast = find_hits(text, &terms, Some(&probes(&terms)));
                let slow = find_hits(text, &terms, None);
                assert_eq!(fast, slow, "query {q:?} in {text:?}");
            }
        }
    }

    #[test]
    fn snippets_mark_the_matches() {
        let terms = terms_of("connection timeout");
        let (s, complete) = make_snippet(
            [Some("The connection hit a timeout."), None, None, Some("t")],
            &terms,
        );
        assert_eq!(
            s.as_deref(),
            Some("The <b>connection</b> hit a <b>timeout</b>.")
        );
        assert!(complete);
        let (s, complete) = make_snippet([None, Some("only a timeout here"), None, None], &terms);
        assert_eq!(s.as_deref(), Some("only a <b>timeout</b> here"));
        assert!(!complete);
        assert_eq!(
            make_snippet([Some("nothing"), None, None, None], &terms),
            (None, false)
        );
    }

    #[test]
    fn snippets_escape_the_text_but_not_their_marks() {
        let terms = terms_of("timeout");
        let (s, _) = make_snippet(
            [
                Some("<script>alert('x')</script> & \"timeout\"<br>"),
                None,
                None,
                None,
            ],
            &terms,
        );
        assert_eq!(
            s.as_deref(),
            Some("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;<b>timeout</b>&quot;&lt;br&gt;")
        );
    }
}
