//! The search tokenizer, the same at index time and at query time.
//!
//! - Text is NFKC-normalised first (full-width `ＯＲＡ－００９４２` reads as
//!   `ORA-00942`), then split into runs by script: a change of script splits a
//!   word (`OpenFrame에서` gives `openfram` and `에서`).
//! - Hangul (and other CJK) runs become overlapping character bigrams; a
//!   one-syllable run stays a unigram. Particles then do not matter: `연결이`
//!   and `연결을` both contain the bigram `연결`. In the index a Hangul word
//!   is also kept as its stem, marked (`korean`: `깨집니다` and `깨짐` both
//!   as `=깨지`): a query word's stem then finds whole words, which rank
//!   above a bigram inside a longer word (`시작` in `재시작`).
//! - A query word is matched in several forms (`query_forms`): its stem,
//!   its bigrams, and for a compound its parts written apart.
//! - Latin words are lowercased and stemmed (English Snowball); a few very
//!   common English words are dropped.
//! - Identifiers and codes (`ORA-00942`, `OFCOBOL-1234`, `v7.0.3`, `0x1F`,
//!   `TJES`) are kept whole, and codes joined by `-`, `_` or `.` also yield
//!   their parts. Numbers are kept.
//!
//! Every token has a position (for phrase matching) and the byte span of the
//! text it came from (for snippets).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;
use std::thread::LocalKey;

use foldhash::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use crate::search::korean;
use unicode_normalization::UnicodeNormalization;

/// Tokens longer than this (in bytes) are noise (base64, hashes) and dropped.
const MAX_TOKEN_BYTES: usize = 64;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "did", "do", "does", "for", "how",
    "if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their",
    "then", "there", "these", "they", "this", "to", "was", "what", "when", "where", "which", "who",
    "why", "will", "with",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub term: String,
    pub pos: u32,
    /// Byte range in the original text.
    pub start: usize,
    pub end: usize,
}

/// Index mode emits every form a document should be found by; query mode
/// emits one precise form per word (a code whole, not its parts; an
/// upper-case identifier as written, not its stem), at the positions index
/// mode gives them, so phrases line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Index,
    Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Cjk,
    Connector,
    Separator,
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'   // Hangul Jamo
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}' // Hangul compatibility Jamo
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{A960}'..='\u{A97F}' // Hangul Jamo extended-A
        | '\u{AC00}'..='\u{D7A3}' // Hangul syllables
        | '\u{D7B0}'..='\u{D7FF}' // Hangul Jamo extended-B
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
    )
}

fn classify(c: char) -> Class {
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() {
            Class::Word
        } else if matches!(c, '-' | '_' | '.') {
            Class::Connector
        } else {
            Class::Separator
        };
    }
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else if matches!(c, '-' | '_' | '.') {
        Class::Connector
    } else {
        Class::Separator
    }
}

/// A run of one script, NFKC-normalised, with its span in the original
/// (borrowed from it when normalising changed nothing, as is usual).
struct Run<'a> {
    class: Class,
    text: Cow<'a, str>,
    start: usize,
    end: usize,
}

/// A run being read: its class, where its chars begin in the normalised
/// chars, its span, and whether normalising changed any of them.
struct OpenRun {
    class: Class,
    first: usize,
    start: usize,
    end: usize,
    changed: bool,
}

/// Split `text` into Word and Cjk runs. A connector stays inside a Word run
/// only between two word characters (`ORA-00942`), never at its edges.
fn runs(text: &str) -> Vec<Run<'_>> {
    // Normalise char by char so every normalised char keeps its source span.
    let mut chars: Vec<(char, usize, usize, bool)> = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if c.is_ascii() || ('\u{AC00}'..='\u{D7A3}').contains(&c) {
            chars.push((c, i, end, false)); // ASCII and Hangul syllables are their own NFKC form
        } else {
            let mut n = 0;
            for m in std::iter::once(c).nfkc() {
                n += 1;
                chars.push((m, i, end, m != c));
            }
            if n > 1 {
                chars.last_mut().expect("one char at least").3 = true;
            }
        }
    }
    let close = |r: OpenRun, upto: usize| Run {
        class: r.class,
        text: if r.changed {
            Cow::Owned(chars[r.first..upto].iter().map(|x| x.0).collect())
        } else {
            Cow::Borrowed(&text[r.start..r.end])
        },
        start: r.start,
        end: r.end,
    };
    let mut out: Vec<Run> = Vec::new();
    let mut cur: Option<OpenRun> = None;
    for k in 0..chars.len() {
        let (c, s, e, changed) = chars[k];
        let mut class = classify(c);
        if class == Class::Connector {
            let prev_word = cur.as_ref().is_some_and(|r| r.class == Class::Word);
            let next_word = chars
                .get(k + 1)
                .is_some_and(|&(n, _, _, _)| classify(n) == Class::Word);
            class = if prev_word && next_word {
                Class::Word
            } else {
                Class::Separator
            };
        }
        match (&mut cur, class) {
            (_, Class::Separator | Class::Connector) => {
                if let Some(r) = cur.take() {
                    out.push(close(r, k));
                }
            }
            (Some(r), cl) if r.class == cl => {
                r.end = e;
                r.changed |= changed;
            }
            _ => {
                if let Some(r) = cur.take() {
                    out.push(close(r, k));
                }
                cur = Some(OpenRun {
                    class,
                    first: k,
                    start: s,
                    end: e,
                    changed,
                });
            }
        }
    }
    if let Some(r) = cur {
        out.push(close(r, chars.len()));
    }
    out
}

/// Per-backend memory of a word's searchable form: words repeat, and
/// stemming them is most of the cost of tokenizing. At most REMEMBERED
/// words of at most REMEMBERED_BYTES each (a few MB): longer words are
/// rare, and their forms are dropped anyway (MAX_TOKEN_BYTES).
type Remembered = RefCell<HashMap<Box<str>, Option<Rc<str>>>>;
const REMEMBERED: usize = 100_000;
const REMEMBERED_BYTES: usize = 3 * MAX_TOKEN_BYTES;

/// Call `f` with `form(word)`, computed once per word and then remembered.
/// No borrow of the memory is held while `f` runs.
fn with_remembered<R>(
    memory: &'static LocalKey<Remembered>,
    word: &str,
    form: fn(&str) -> Option<String>,
    f: impl FnOnce(Option<&str>) -> R,
) -> R {
    if word.len() > REMEMBERED_BYTES {
        return f(form(word).as_deref());
    }
    let known = memory.with(|m| m.borrow().get(word).cloned());
    let value = known.unwrap_or_else(|| {
        let computed: Option<Rc<str>> = form(word).map(Rc::from);
        memory.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= REMEMBERED {
                m.clear();
            }
            m.insert(word.into(), computed.clone());
        });
        computed
    });
    f(value.as_deref())
}

thread_local! {
    static LATIN_TERMS: Remembered = RefCell::new(HashMap::default());
    static HANGUL_STEMS: Remembered = RefCell::new(HashMap::default());
}

/// Call `f` with the searchable form of a plain Latin word (no
/// connector): lowercased and stemmed; None for a stop word.
fn with_word_term<R>(word: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
    with_remembered(&LATIN_TERMS, word, stem_word, f)
}

/// The stem term a Hangul word is indexed by (None for a particle).
fn hangul_stem_term(word: &str) -> Option<String> {
    (!korean::is_particle(word)).then(|| stem_term(&korean::stem(word)))
}

fn stem_word(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if lower.len() > MAX_TOKEN_BYTES {
        return None;
    }
    if lower.chars().any(|c| c.is_numeric()) {
        return Some(lower);
    }
    if STOPWORDS.contains(&lower.as_str()) {
        return None;
    }
    Some(stemmer().stem(&lower).into_owned())
}

/// Tokens a run gives in index mode (its positions).
fn run_width(run: &Run) -> u32 {
    match run.class {
        Class::Cjk => (run.text.chars().count() as u32).saturating_sub(1).max(1),
        _ => (run
            .text
            .split(['-', '_', '.'])
            .filter(|p| !p.is_empty())
            .count() as u32)
            .max(1),
    }
}

/// The runs from `i` that form one word of Hangul (or other CJK) and
/// digits written together, such as `서버1` or `2차`: how many (0 if the
/// run at `i` starts no such word).
fn joined_word(runs: &[Run], i: usize) -> usize {
    let joinable = |r: &Run| r.class == Class::Cjk || r.text.chars().all(|c| c.is_ascii_digit());
    let mut n = 0;
    while i + n < runs.len()
        && joinable(&runs[i + n])
        && (n == 0 || runs[i + n - 1].end == runs[i + n].start)
    {
        n += 1;
    }
    let group = &runs[i..i + n];
    let mixed =
        group.iter().any(|r| r.class == Class::Cjk) && group.iter().any(|r| r.class != Class::Cjk);
    if n > 1 && mixed {
        n
    } else {
        0
    }
}

/// Tokenize `text`. Positions start at `first_pos`.
pub fn tokenize_from(text: &str, mode: Mode, first_pos: u32) -> Vec<Token> {
    let mut out = Vec::new();
    for_each_token(text, mode, first_pos, &mut |term, pos, start, end| {
        out.push(Token {
            term: term.to_string(),
            pos,
            start,
            end,
        })
    });
    out
}

/// Call `sink(term, position, start, end)` for every token of `text`, in
/// order, without allocating each term. Returns the next free position.
pub fn for_each_token(
    text: &str,
    mode: Mode,
    first_pos: u32,
    sink: &mut dyn FnMut(&str, u32, usize, usize),
) -> u32 {
    let mut pos = first_pos;
    let runs = runs(text);
    // A word of Hangul and digits (`서버1`) is also kept whole, like a code:
    // in index mode besides its parts, in query mode instead of them.
    let mut skip_to = 0;
    for (i, run) in runs.iter().enumerate() {
        if i % 1024 == 0 {
            crate::limits::check_for_interrupts();
        }
        if i < skip_to {
            continue;
        }
        let joined = joined_word(&runs, i);
        if joined > 0 {
            let group = &runs[i..i + joined];
            let mut whole = Emitter {
                sink: &mut *sink,
                start: group[0].start,
                end: group[joined - 1].end,
            };
            let word: String = group.iter().map(|r| r.text.as_ref()).collect();
            whole.emit(&word, pos);
            if mode == Mode::Query {
                pos += group.iter().map(run_width).sum::<u32>();
                skip_to = i + joined;
                continue;
            }
        }
        let mut emitter = Emitter {
            sink: &mut *sink,
            start: run.start,
            end: run.end,
        };
        pos += match run.class {
            Class::Cjk => cjk_tokens(&mut emitter, &run.text, mode, pos),
            _ => word_tokens(&mut emitter, &run.text, mode, pos),
        };
    }
    pos
}

/// Passes the tokens of one span of the text to the sink.
struct Emitter<'s> {
    sink: &'s mut dyn FnMut(&str, u32, usize, usize),
    start: usize,
    end: usize,
}

impl Emitter<'_> {
    fn emit(&mut self, term: &str, pos: u32) {
        if !term.is_empty() && term.len() <= MAX_TOKEN_BYTES {
            (self.sink)(term, pos, self.start, self.end);
        }
    }
}

/// A run of Hangul (or other CJK): its character bigrams (one character
/// alone is itself) and, in the index, its stem. Returns the positions used.
fn cjk_tokens(e: &mut Emitter, text: &str, mode: Mode, pos: u32) -> u32 {
    if mode == Mode::Index && korean::is_hangul_word(text) {
        with_remembered(&HANGUL_STEMS, text, hangul_stem_term, |stem| {
            if let Some(stem) = stem {
                e.emit(stem, pos);
            }
        });
    }
    // Bigrams are slices of the run: char k's start to char k + 2's.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = bounds.len() - 1;
    if chars == 1 {
        e.emit(text, pos);
        return 1;
    }
    for k in 0..chars.saturating_sub(1) {
        e.emit(&text[bounds[k]..bounds[k + 2]], pos + k as u32);
    }
    chars.saturating_sub(1) as u32
}

/// Marks a Hangul stem term apart from bigrams (no other term has it:
/// the tokenizer splits words at `=`).
pub const STEM_MARK: char = '=';

/// The term of a Hangul word's stem.
pub fn stem_term(stem: &str) -> String {
    format!("{STEM_MARK}{stem}")
}

/// Longest Hangul compound split into parts written apart (`배치작업` as
/// `배치 작업`), in syllables.
const MAX_SPLIT_SYLLABLES: usize = 8;

/// The forms an unquoted query word matches, each a phrase; an issue
/// matches the word if it matches any form. A Hangul word: its stem (as the
/// index keeps it), the stem's and the written word's bigrams, and a
/// compound's parts written apart. A Latin word or code with a particle
/// attached (`OpenFrame에서`): the word alone. None for a particle or a
/// stop word alone.
pub fn query_forms(word: &str) -> Vec<Vec<Token>> {
    let runs = runs(word);
    match runs.as_slice() {
        [w, h]
            if w.class == Class::Word && h.class == Class::Cjk && korean::is_particle(&h.text) =>
        {
            written_form(&word[..h.start])
        }
        [h] if h.class == Class::Cjk && korean::is_hangul_word(&h.text) => {
            if korean::is_particle(&h.text) {
                return vec![];
            }
            hangul_forms(&h.text)
        }
        _ => written_form(word),
    }
}

/// Text matched as written: one form, its query tokens as a phrase (none
/// when it has no token: punctuation, stop words).
pub fn written_form(text: &str) -> Vec<Vec<Token>> {
    let tokens = tokenize(text, Mode::Query);
    if tokens.is_empty() {
        vec![]
    } else {
        vec![tokens]
    }
}

fn hangul_forms(written: &str) -> Vec<Vec<Token>> {
    let stem = korean::stem(written);
    let mut forms = vec![
        vec![query_token(stem_term(&stem), 1)],
        bigram_phrase(&stem.chars().collect::<Vec<_>>(), 1),
        bigram_phrase(&written.chars().collect::<Vec<_>>(), 1),
    ];
    let bare: Vec<char> = korean::without_particle(written).chars().collect();
    if (4..=MAX_SPLIT_SYLLABLES).contains(&bare.len()) {
        for at in 2..=bare.len() - 2 {
            // The first part may carry a particle of up to two syllables
            // in the text (`메모리가 누수`): one position each.
            for gap in 0..=2 {
                let mut phrase = bigram_phrase(&bare[..at], 1);
                let next = phrase.last().map_or(1, |t| t.pos + 1 + gap);
                phrase.extend(bigram_phrase(&bare[at..], next));
                forms.push(phrase);
            }
        }
    }
    one_spelling(without_subsumed(forms))
}

/// A word's one-term forms (a Hangul word's stem and, for two syllables,
/// its bigram) as one term (`spellings`): an issue scores for the word
/// once, by its best form; a bigram alone (the word inside a longer one:
/// `시작` in `재시작`) counts as another word, below the whole word.
fn one_spelling(forms: Vec<Vec<Token>>) -> Vec<Vec<Token>> {
    let single: Vec<String> = forms
        .iter()
        .filter(|f| f.len() == 1)
        .map(|f| {
            let t = &f[0].term;
            if t.starts_with(STEM_MARK) {
                t.clone()
            } else {
                crate::search::spellings::other_word(t)
            }
        })
        .collect();
    if single.len() < 2 {
        return forms;
    }
    let mut out: Vec<Vec<Token>> = Vec::with_capacity(forms.len());
    for f in forms {
        if f.len() > 1 {
            out.push(f);
        } else if !out.iter().any(|o| o.len() == 1) {
            let mut token = f[0].clone();
            token.term = crate::search::spellings::group_term(&single);
            out.insert(0, vec![token]);
        }
    }
    out
}

fn query_token(term: String, pos: u32) -> Token {
    Token {
        term,
        pos,
        start: 0,
        end: 0,
    }
}

/// The bigrams of a Hangul word from position `pos`, as the index has them.
fn bigram_phrase(syllables: &[char], pos: u32) -> Vec<Token> {
    if syllables.len() == 1 {
        return vec![query_token(syllables[0].to_string(), pos)];
    }
    syllables
        .windows(2)
        .enumerate()
        .map(|(k, w)| query_token(w.iter().collect(), pos + k as u32))
        .collect()
}

/// The forms, without repeats and without any form that contains another
/// one (the same terms at the same relative positions): it matches a
/// subset of what that one matches.
fn without_subsumed(forms: Vec<Vec<Token>>) -> Vec<Vec<Token>> {
    let contains = |outer: &[Token], inner: &[Token]| {
        let first = &inner[0];
        outer.iter().filter(|o| o.term == first.term).any(|o| {
            inner.iter().all(|t| {
                let at = o.pos + t.pos - first.pos;
                outer.iter().any(|x| x.term == t.term && x.pos == at)
            })
        })
    };
    let n = forms.len();
    let keep: Vec<bool> = (0..n)
        .map(|i| {
            !(0..n).any(|j| {
                let same = contains(&forms[j], &forms[i]);
                j != i && contains(&forms[i], &forms[j]) && (!same || j < i)
            })
        })
        .collect();
    forms
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect()
}
/// A run of Latin letters and digits: a code (`ORA-00942`: whole, and in
/// index mode each part), an identifier (`TJES`: as written, and in index
/// mode its stem), or a word (stemmed). Returns the positions used.
fn word_tokens(e: &mut Emitter, text: &str, mode: Mode, pos: u32) -> u32 {
    let parts: Vec<&str> = text
        .split(['-', '_', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > 1 {
        e.emit(&text.to_lowercase(), pos);
        if mode == Mode::Index {
            for (i, p) in parts.iter().enumerate() {
                with_word_term(p, |t| {
                    if let Some(t) = t {
                        e.emit(t, pos + i as u32);
                    }
                });
            }
        }
        return parts.len() as u32;
    }
    let is_identifier = text.chars().count() >= 2
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && text.chars().any(|c| c.is_ascii_uppercase());
    if is_identifier {
        // TJES, OSC: whole as written; in the index also the stem, so a
        // lower-case query still finds it.
        let lower = text.to_lowercase();
        if mode == Mode::Index {
            with_word_term(text, |stem| {
                if let Some(stem) = stem.filter(|s| *s != lower) {
                    e.emit(stem, pos);
                }
            });
        }
        e.emit(&lower, pos);
    } else {
        with_word_term(text, |t| {
            if let Some(t) = t {
                e.emit(t, pos);
            }
        });
    }
    1
}

pub fn tokenize(text: &str, mode: Mode) -> Vec<Token> {
    tokenize_from(text, mode, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str, mode: Mode) -> Vec<String> {
        tokenize(text, mode).into_iter().map(|t| t.term).collect()
    }

    #[test]
    fn hangul_bigrams_match_across_particles() {
        assert_eq!(terms("연결이", Mode::Index), ["=연결", "연결", "결이"]);
        assert_eq!(terms("연결을", Mode::Index), ["=연결", "연결", "결을"]);
        assert_eq!(terms("연결", Mode::Query), ["연결"]);
        assert_eq!(terms("값", Mode::Index), ["=값", "값"]);
    }

    #[test]
    fn english_is_lowercased_and_stemmed() {
        assert_eq!(
            terms("Connection timeouts", Mode::Index),
            ["connect", "timeout"]
        );
        assert_eq!(
            terms("the timeout of a job", Mode::Index),
            ["timeout", "job"]
        );
    }

    #[test]
    fn codes_are_kept_whole_and_split() {
        assert_eq!(
            terms("ORA-00942", Mode::Index),
            ["ora-00942", "ora", "00942"]
        );
        assert_eq!(terms("ORA-00942", Mode::Query), ["ora-00942"]);
        assert_eq!(
            terms("OFCOBOL-1234", Mode::Index),
            ["ofcobol-1234", "ofcobol", "1234"]
        );
        assert_eq!(terms("v7.0.3", Mode::Index), ["v7.0.3", "v7", "0", "3"]);
        assert_eq!(terms("0x1F", Mode::Index), ["0x1f"]);
        assert_eq!(terms("TJES", Mode::Index), ["tjes"]);
        assert_eq!(terms("TJES", Mode::Query), ["tjes"]);
        // An upper-case identifier whose stem differs is indexed both ways.
        assert_eq!(terms("JOBS", Mode::Index), ["job", "jobs"]);
        assert_eq!(terms("JOBS", Mode::Query), ["jobs"]);
        assert_eq!(terms("jobs", Mode::Query), ["job"]);
    }

    #[test]
    fn hangul_and_digits_written_together_are_also_whole() {
        assert_eq!(
            terms("서버1 장애", Mode::Index),
            ["서버1", "=서버", "서버", "1", "=장애", "장애"]
        );
        assert_eq!(terms("서버1 장애", Mode::Query), ["서버1", "장애"]);
        assert_eq!(terms("2차 타임아웃3", Mode::Query), ["2차", "타임아웃3"]);
        let q = tokenize("타임아웃3 오류", Mode::Query);
        let d = tokenize("타임아웃3 오류", Mode::Index);
        // Positions line up, so the phrase "타임아웃3 오류" matches.
        assert_eq!(q[1].pos, d.iter().find(|t| t.term == "오류").unwrap().pos);
        // Latin and Hangul still split (OpenFrame에서), digits alone stay.
        assert_eq!(terms("OpenFrame에서", Mode::Query), ["openfram", "에서"]);
        assert_eq!(terms("서버 1", Mode::Query), ["서버", "1"]);
    }

    #[test]
    fn hangul_words_are_also_indexed_by_their_stem() {
        assert_eq!(
            terms("깨집니다", Mode::Index),
            ["=깨지", "깨집", "집니", "니다"]
        );
        assert_eq!(terms("연결이", Mode::Index), ["=연결", "연결", "결이"]);
        assert_eq!(terms("않음", Mode::Index), ["=않", "않음"]);
        assert_eq!(terms("에서", Mode::Index), ["에서"]);
        assert_eq!(terms("깨집니다", Mode::Query), ["깨집", "집니", "니다"]);
    }

    fn forms(word: &str) -> Vec<Vec<String>> {
        query_forms(word)
            .into_iter()
            .map(|f| f.into_iter().map(|t| t.term).collect())
            .collect()
    }

    #[test]
    fn query_words_match_in_several_forms() {
        // One-term forms are one spelling of the word (`spellings`).
        assert_eq!(forms("연결이"), [["any:=연결|~연결"]]);
        assert_eq!(forms("깨짐"), [["any:=깨지|~깨지|~깨짐"]]);
        assert_eq!(
            forms("배치작업"),
            [
                vec!["=배치작업"],
                vec!["배치", "작업"],
                vec!["배치", "작업"],
                vec!["배치", "작업"]
            ]
        );
        assert_eq!(forms("OpenFrame에서"), [["openfram"]]);
        assert_eq!(forms("JEUS를"), [["jeus"]]);
        assert_eq!(forms("에서"), Vec::<Vec<String>>::new());
        assert_eq!(forms("the"), Vec::<Vec<String>>::new());
        assert_eq!(forms("TJES기동"), [["tjes", "기동"]]);
        // the split form's parts sit where the index puts words written apart
        let split = &query_forms("배치작업")[1];
        let doc = tokenize("배치 작업이", Mode::Index);
        let at = |t: &str| doc.iter().find(|x| x.term == t).unwrap().pos;
        assert_eq!(split[1].pos - split[0].pos, at("작업") - at("배치"));
    }

    #[test]
    fn edges_are_not_connectors() {
        assert_eq!(terms("end. -x _y", Mode::Index), ["end", "x", "y"]);
    }

    #[test]
    fn nfkc_and_script_changes() {
        assert_eq!(terms("ＯＲＡ－００９４２", Mode::Query), ["ora-00942"]);
        assert_eq!(terms("OpenFrame에서", Mode::Index), ["openfram", "에서"]);
        assert_eq!(terms("TJES기동", Mode::Index), ["tjes", "=기동", "기동"]);
    }

    #[test]
    fn positions_line_up_between_index_and_query() {
        let idx = tokenize("ORA-00942 error", Mode::Index);
        let q = tokenize("ORA-00942 error", Mode::Query);
        let pos = |ts: &[Token], t: &str| ts.iter().find(|x| x.term == t).unwrap().pos;
        assert_eq!(
            pos(&idx, "error") - pos(&idx, "ora-00942"),
            pos(&q, "error") - pos(&q, "ora-00942")
        );
    }

    #[test]
    fn spans_point_into_the_original() {
        let text = "로그: ORA-00942 발생";
        for t in tokenize(text, Mode::Index) {
            assert!(text.get(t.start..t.end).is_some());
        }
    }
}
