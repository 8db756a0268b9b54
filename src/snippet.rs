//! Search result snippets: a short passage around the best match, with the
//! matched words marked.

use std::collections::HashSet;

use crate::search_index::prefix;
use crate::tokenize::{tokenize, Mode};

/// Snippet size around the best match, in bytes of source text.
const SNIPPET_BEFORE: usize = 80;
const SNIPPET_AFTER: usize = 160;
/// How much of each field is searched for the passage: a long comment
/// thread costs a result no more than this.
pub const SCANNED_BYTES: usize = 16 * 1024;

/// The best passage found so far.
struct Window<'a> {
    /// Distinct terms in it.
    found: usize,
    text: &'a str,
    from: usize,
    to: usize,
    /// Every matched span of `text`.
    spans: Vec<(usize, usize)>,
}

/// A short passage around the best match, matched words in <b></b>, and
/// whether it holds every term. Fields in order of preference:
/// description, comments, attachments, title.
pub fn make_snippet(fields: [Option<&str>; 4], terms: &HashSet<String>) -> (Option<String>, bool) {
    let mut best: Option<Window> = None;
    for field in fields {
        // A window with every term cannot be beaten: skip the other fields.
        if best.as_ref().is_some_and(|b| b.found == terms.len()) {
            break;
        }
        let Some(text) = field else { continue };
        let text = prefix(text, SCANNED_BYTES);
        let hits: Vec<(usize, usize, &String)> = tokenize(text, Mode::Index)
            .into_iter()
            .filter_map(|t| terms.get(&t.term).map(|term| (t.start, t.end, term)))
            .collect();
        let mut field_best: Option<(usize, usize, usize)> = None;
        for (j, &(start, _, _)) in hits.iter().enumerate() {
            let from = start.saturating_sub(SNIPPET_BEFORE);
            let to = (start + SNIPPET_AFTER).min(text.len());
            let distinct: HashSet<&String> = hits[j..]
                .iter()
                .take_while(|h| h.1 <= to)
                .map(|h| h.2)
                .collect();
            let beats_earlier = best.as_ref().is_none_or(|b| distinct.len() > b.found);
            if beats_earlier && field_best.is_none_or(|b| distinct.len() > b.0) {
                field_best = Some((distinct.len(), from, to));
                if distinct.len() == terms.len() {
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
    let Some(w) = best else {
        return (None, false);
    };
    (
        Some(render_snippet(w.text, w.from, w.to, w.spans)),
        w.found == terms.len(),
    )
}

/// `text[from..to]` (widened to char boundaries) with the matched spans
/// inside it marked.
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
        out.push_str(&text[at..s]);
        out.push_str("<b>");
        out.push_str(&text[s..e]);
        out.push_str("</b>");
        at = e;
    }
    out.push_str(&text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
