//! The search query language, as people know it from Jira and GitLab:
//!
//! - plain words: at least half of them (rounded up) must match, and an
//!   issue holding more of them ranks higher (`배치가 중단된 경우` finds an
//!   issue without `경우`; of `타임아웃 문의` either word finds, both first)
//! - `a AND b`: both required, whatever else the query holds
//! - `"quoted phrase"`: required, the words next to each other, in order
//! - `-word`, `-"a phrase"`: issues containing it are left out
//! - `a OR b`: either (binds tighter than the implicit AND)
//! - `product:X`, `status:Y`, `priority:Z` (case-insensitive, value may be
//!   quoted; the same field twice means either value; `-status:closed`
//!   leaves a value out)
//!
//! A plain word matches in any of its forms (`tokenize::query_forms`: a
//! Hangul word by its stem, its bigrams and a compound's parts; a Latin
//! word without an attached particle); a form of several tokens matches as
//! a phrase. A quoted phrase and an exclusion are matched as written. An
//! unterminated quote runs to the end of the query.

use crate::search::tokenize::{query_forms, tokenize, written_form, Mode, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Product,
    Status,
    Priority,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        match name.to_ascii_lowercase().as_str() {
            "product" => Some(Field::Product),
            "status" => Some(Field::Status),
            "priority" => Some(Field::Priority),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub value: String,
    pub negated: bool,
}

/// Tokens that must appear together, at these relative positions.
pub type Phrase = Vec<Token>;

/// One word, quoted phrase or OR group: matched if any alternative is.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub alts: Vec<Phrase>,
    /// A quoted phrase or a word joined by AND: every result holds it.
    /// Otherwise the query's minimum-should-match applies.
    pub required: bool,
    /// The words typed for it unquoted (each side of an OR): those may
    /// have other spellings (`synonyms`, `typos`).
    pub words: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct ParsedQuery {
    /// Any one optional word is enough (not half of them): the second
    /// pass of a search that found too few issues.
    pub any_word: bool,
    pub clauses: Vec<Clause>,
    /// Phrases that must not appear.
    pub excluded: Vec<Phrase>,
    pub filters: Vec<Filter>,
}

#[derive(Debug)]
enum Item {
    Text {
        text: String,
        negated: bool,
        quoted: bool,
    },
    Or,
    And,
    Filter(Filter),
}

/// Read a quoted string starting after the opening quote; returns the text
/// and the index after the closing quote (or the end).
fn read_quoted(chars: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < chars.len() && chars[i] != '"' {
        s.push(chars[i]);
        i += 1;
    }
    (s, (i + 1).min(chars.len()))
}

fn lex(query: &str) -> Vec<Item> {
    let chars: Vec<char> = query.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        // `-word` excludes; a minus before a digit is a number's sign
        // (`SQLCODE -811`), searched as the number.
        let negated = chars[i] == '-'
            && i + 1 < chars.len()
            && !chars[i + 1].is_whitespace()
            && !chars[i + 1].is_ascii_digit();
        if negated {
            i += 1;
        }
        if chars[i] == '"' {
            let (text, next) = read_quoted(&chars, i + 1);
            items.push(Item::Text {
                text,
                negated,
                quoted: true,
            });
            i = next;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if let Some((name, rest)) = word.split_once(':') {
            if let Some(field) = Field::parse(name) {
                let value = if rest.is_empty() && i < chars.len() && chars[i] == '"' {
                    let (v, next) = read_quoted(&chars, i + 1);
                    i = next;
                    v
                } else {
                    rest.to_string()
                };
                if !value.trim().is_empty() {
                    items.push(Item::Filter(Filter {
                        field,
                        value: value.trim().to_string(),
                        negated,
                    }));
                }
                continue;
            }
        }
        if word == "OR" && !negated {
            items.push(Item::Or);
        } else if word == "AND" && !negated {
            items.push(Item::And);
        } else {
            items.push(Item::Text {
                text: word,
                negated,
                quoted: false,
            });
        }
    }
    items
}

/// Parse a query. Words that produce no token (punctuation, stop words)
/// vanish; the caller decides what an empty result means. Repeated words,
/// alternatives, clauses, exclusions and filters are merged (`a OR a OR a`
/// is `a`), so repeating something never multiplies the work.
pub fn parse(query: &str) -> ParsedQuery {
    let mut q = parse_items(query);
    q.merge_duplicates();
    q
}

/// What makes two phrases the same: their terms at their relative positions.
fn phrase_key(p: &Phrase) -> Vec<(&str, u32)> {
    let first = p.first().map_or(0, |t| t.pos);
    p.iter().map(|t| (t.term.as_str(), t.pos - first)).collect()
}

fn dedup_phrases(phrases: &mut Vec<Phrase>) {
    let mut seen: Vec<Vec<(String, u32)>> = Vec::new();
    phrases.retain(|p| {
        let key: Vec<(String, u32)> = phrase_key(p)
            .into_iter()
            .map(|(t, d)| (t.to_string(), d))
            .collect();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

impl ParsedQuery {
    fn merge_duplicates(&mut self) {
        for c in &mut self.clauses {
            dedup_phrases(&mut c.alts);
        }
        // A repeated clause counts once, required if any copy is.
        let mut seen: Vec<(Vec<Vec<(String, u32)>>, usize)> = Vec::new();
        let mut kept: Vec<Clause> = Vec::new();
        for c in self.clauses.drain(..) {
            let mut key: Vec<Vec<(String, u32)>> = c
                .alts
                .iter()
                .map(|p| {
                    phrase_key(p)
                        .into_iter()
                        .map(|(t, d)| (t.to_string(), d))
                        .collect()
                })
                .collect();
            key.sort();
            match seen.iter().find(|(k, _)| *k == key) {
                Some(&(_, at)) => kept[at].required |= c.required,
                None => {
                    seen.push((key, kept.len()));
                    kept.push(c);
                }
            }
        }
        self.clauses = kept;
        dedup_phrases(&mut self.excluded);
        let mut filters: Vec<Filter> = Vec::new();
        for f in self.filters.drain(..) {
            let same = |g: &Filter| {
                g.field == f.field
                    && g.negated == f.negated
                    && g.value.to_lowercase() == f.value.to_lowercase()
            };
            if !filters.iter().any(same) {
                filters.push(f);
            }
        }
        self.filters = filters;
    }

    /// How many distinct terms the query reads: words (phrase words too),
    /// exclusions and filter values. Bounded by `limits::MAX_QUERY_TERMS`.
    pub fn distinct_terms(&self) -> usize {
        let mut terms: Vec<&str> = self
            .clauses
            .iter()
            .flat_map(|c| &c.alts)
            .chain(&self.excluded)
            .flatten()
            .map(|t| t.term.as_str())
            .collect();
        terms.sort_unstable();
        terms.dedup();
        terms.len() + self.filters.len()
    }
}

/// Words people put around what they ask (`왜 자꾸 갑자기 서버가 죽어요`):
/// adverbs of time, frequency, degree and doubt, and question words. They
/// name nothing an issue is about, yet would count toward how many of the
/// query's words an issue must hold; a query drops them when it has other
/// words (quoted, they are searched as typed).
const FILLERS: &[&str] = &[
    "왜",
    "왜요",
    "왜죠",
    "왜지",
    "왜지요",
    "자꾸",
    "자꾸만",
    "갑자기",
    "엄청",
    "계속",
    "계속해서",
    "안",
    "좀",
    "너무",
    "너무나",
    "혹시",
    "그냥",
    "어떻게",
    "어떡해",
    "어떡하죠",
    "진짜",
    "정말",
    "매우",
    "아주",
    "되게",
    "많이",
    "자주",
    "가끔",
    "항상",
    "또",
    "이제",
    "아직",
    "막",
    "뭔가",
    "무슨",
    "도대체",
    "대체",
    "제발",
    "근데",
    "그런데",
    "요즘",
    "요새",
    "방금",
    "왠지",
    "잘",
    "다시",
    "가끔씩",
    "어째서",
    "웬일인지",
];

/// Whether a typed word is a filler (`FILLERS`), its particle aside.
fn is_filler(word: &str) -> bool {
    FILLERS.contains(&word)
        || FILLERS.contains(&crate::search::korean::without_particle(word).as_str())
}

/// The items without filler words, when other words remain; a filler
/// joined to its neighbour by OR or AND stays.
fn without_fillers(items: Vec<Item>) -> Vec<Item> {
    let filler = |items: &[Item], i: usize| {
        let joined = |j: Option<usize>| {
            j.and_then(|j| items.get(j))
                .is_some_and(|it| matches!(it, Item::Or | Item::And))
        };
        matches!(&items[i], Item::Text { text, negated: false, quoted: false } if is_filler(text))
            && !joined(i.checked_sub(1))
            && !joined(Some(i + 1))
    };
    let words = (0..items.len())
        .filter(|&i| matches!(items[i], Item::Text { negated: false, .. }))
        .count();
    let fillers = (0..items.len()).filter(|&i| filler(&items, i)).count();
    if fillers == 0 || fillers == words {
        return items;
    }
    let keep: Vec<bool> = (0..items.len()).map(|i| !filler(&items, i)).collect();
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(it, k)| k.then_some(it))
        .collect()
}

fn parse_items(query: &str) -> ParsedQuery {
    let mut q = ParsedQuery::default();
    let mut pending_or = false;
    let mut pending_and = false;
    for item in without_fillers(lex(query)) {
        match item {
            Item::Or => pending_or = !q.clauses.is_empty(),
            Item::And => {
                if let Some(last) = q.clauses.last_mut() {
                    last.required = true;
                    pending_and = true;
                }
            }
            Item::Filter(f) => {
                q.filters.push(f);
                pending_or = false;
            }
            Item::Text {
                text,
                negated,
                quoted,
            } => {
                if negated {
                    let phrase = tokenize(&text, Mode::Query);
                    if !phrase.is_empty() {
                        q.excluded.push(phrase);
                    }
                    pending_or = false;
                    continue;
                }
                let forms = if quoted {
                    written_form(&text)
                } else {
                    query_forms(&text)
                };
                if forms.is_empty() {
                    continue;
                }
                let words: Vec<String> = if quoted { vec![] } else { vec![text] };
                if pending_or {
                    let last = q.clauses.last_mut().expect("a clause before OR");
                    last.alts.extend(forms);
                    last.required |= quoted || pending_and;
                    last.words.extend(words);
                } else {
                    q.clauses.push(Clause {
                        alts: forms,
                        required: quoted || pending_and,
                        words,
                    });
                }
                pending_or = false;
                pending_and = false;
            }
        }
    }
    q
}

/// A lexeme quoted for tsquery/tsvector text input.
pub fn quote_lexeme(term: &str) -> String {
    let mut s = String::with_capacity(term.len() + 2);
    s.push('\'');
    for c in term.chars() {
        match c {
            '\'' => s.push_str("''"),
            '\\' => s.push_str("\\\\"),
            _ => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// A term as tsquery text: a spelling group (`spellings`) as either of
/// its members.
pub fn term_tsquery(term: &str) -> String {
    match crate::search::spellings::spellings(term).as_slice() {
        [one] => quote_lexeme(one),
        members => {
            let quoted: Vec<String> = members.iter().map(|m| quote_lexeme(m)).collect();
            format!("({})", quoted.join(" | "))
        }
    }
}

fn clause_tsquery(c: &Clause) -> String {
    let alts: Vec<String> = c.alts.iter().map(phrase_tsquery).collect();
    if alts.len() > 1 {
        format!("({})", alts.join(" | "))
    } else {
        alts[0].clone()
    }
}

fn phrase_tsquery(p: &Phrase) -> String {
    let mut s = term_tsquery(&p[0].term);
    for w in p.windows(2) {
        let d = w[1].pos.saturating_sub(w[0].pos).max(1);
        if d == 1 {
            s.push_str(" <-> ");
        } else {
            s.push_str(&format!(" <{d}> "));
        }
        s.push_str(&term_tsquery(&w[1].term));
    }
    if p.len() > 1 {
        format!("({s})")
    } else {
        s
    }
}

impl ParsedQuery {
    /// The text form of the tsquery matching this query's words (filters
    /// are not part of it). Empty when there is nothing to match.
    pub fn tsquery_text(&self) -> String {
        let mut parts: Vec<String> = self.clauses.iter().map(clause_tsquery).collect();
        if parts.is_empty() {
            return String::new();
        }
        parts.extend(
            self.excluded
                .iter()
                .map(|p| format!("!{}", phrase_tsquery(p))),
        );
        parts.join(" & ")
    }

    /// How many of the clauses that are not required a result must match:
    /// at least half of them, rounded up (1 of 2, 2 of 3 or 4, 3 of 5); one
    /// with `any_word`.
    pub fn min_should_match(&self) -> usize {
        let optional = self.clauses.iter().filter(|c| !c.required).count();
        if self.any_word {
            optional.min(1)
        } else {
            optional.div_ceil(2)
        }
    }

    /// Whether every clause must match (no clause is merely counted).
    pub fn all_required(&self) -> bool {
        let optional = self.clauses.iter().filter(|c| !c.required).count();
        self.min_should_match() == optional
    }

    /// The tsquery every result matches (required clauses and exclusions;
    /// all clauses when all are required); None when there is none.
    pub fn required_tsquery(&self) -> Option<String> {
        if self.all_required() {
            return Some(self.tsquery_text()).filter(|t| !t.is_empty());
        }
        let mut parts: Vec<String> = self
            .clauses
            .iter()
            .filter(|c| c.required)
            .map(clause_tsquery)
            .collect();
        parts.extend(
            self.excluded
                .iter()
                .map(|p| format!("!{}", phrase_tsquery(p))),
        );
        (!parts.is_empty()).then(|| parts.join(" & "))
    }

    /// The tsqueries of the clauses a result must match `min_should_match`
    /// of (none when all are required).
    pub fn optional_tsqueries(&self) -> Vec<String> {
        if self.all_required() {
            return Vec::new();
        }
        self.clauses
            .iter()
            .filter(|c| !c.required)
            .map(clause_tsquery)
            .collect()
    }

    /// Every distinct term that counts toward the rank.
    pub fn scoring_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = Vec::new();
        for t in self.clauses.iter().flat_map(|c| &c.alts).flatten() {
            if !terms.contains(&t.term) {
                terms.push(t.term.clone());
            }
        }
        terms
    }

    /// Values of one field's filters, lowercased: (wanted, unwanted).
    pub fn filter_values(&self, field: Field) -> (Vec<String>, Vec<String>) {
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for f in self.filters.iter().filter(|f| f.field == field) {
            if f.negated { &mut no } else { &mut yes }.push(f.value.to_lowercase());
        }
        (yes, no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_anded() {
        assert_eq!(
            parse("connection timeout").tsquery_text(),
            "'connect' & 'timeout'"
        );
    }

    #[test]
    fn phrases_or_and_exclusion() {
        let q = parse(r#""connection reset" OR timeout -ORA-00942"#);
        assert_eq!(
            q.tsquery_text(),
            "(('connect' <-> 'reset') | 'timeout') & !'ora-00942'"
        );
    }

    #[test]
    fn korean_words_become_bigram_phrases() {
        assert_eq!(
            parse("타임아웃").tsquery_text(),
            "('=타임아웃' | ('타임' <-> '아웃') | ('타임' <2> '아웃') | ('타임' <3> '아웃'))"
        );
        assert_eq!(parse("연결").tsquery_text(), "('=연결' | '연결')");
        assert_eq!(parse("연결이").tsquery_text(), "('=연결' | '연결')");
        // quoted: as written
        assert_eq!(parse("\"연결이\"").tsquery_text(), "('연결' <-> '결이')");
    }

    #[test]
    fn natural_questions_need_half_of_their_words() {
        let q = parse("배치가 중단된 경우");
        assert_eq!(q.min_should_match(), 2);
        assert!(!q.all_required());
        assert_eq!(q.required_tsquery(), None);
        assert_eq!(
            q.optional_tsqueries(),
            [
                "('=배치' | '배치')",
                "('=중단' | '중단')",
                "('=경우' | '경우')"
            ]
        );
        let q = parse("timeout connection");
        assert_eq!(q.min_should_match(), 1);
        assert!(parse("timeout").all_required());
        let q = parse("timeout AND connection");
        assert!(q.all_required());
        assert_eq!(
            q.required_tsquery().as_deref(),
            Some("'timeout' & 'connect'")
        );
        // AND and quotes make words required; the rest counts
        let q = parse(r#"batch AND job stop "disk full" memory leak -crash"#);
        let required: Vec<bool> = q.clauses.iter().map(|c| c.required).collect();
        assert_eq!(required, [true, true, false, true, false, false]);
        assert_eq!(q.min_should_match(), 2);
        assert_eq!(
            q.required_tsquery().as_deref(),
            Some("'batch' & 'job' & ('disk' <-> 'full') & !'crash'")
        );
    }

    #[test]
    fn filler_words_are_dropped_when_others_remain() {
        let q = parse("왜 자꾸 갑자기 JEUS 서버가 계속 죽어요");
        assert_eq!(q.clauses.len(), 3, "{q:?}");
        // Alone, joined by OR, or quoted, they stay.
        assert_eq!(parse("왜 자꾸").clauses.len(), 2);
        assert_eq!(parse("계속 OR 반복 서버").clauses.len(), 2);
        assert_eq!(parse("\"계속 실패\" 서버").clauses.len(), 2);
    }

    #[test]
    fn any_word_needs_one_optional_word() {
        let mut q = parse("batch job stop nightly AND scheduler");
        assert_eq!(q.min_should_match(), 2);
        q.any_word = true;
        assert_eq!(q.min_should_match(), 1);
        assert!(q.clauses.iter().any(|c| c.required));
    }

    #[test]
    fn a_minus_before_a_digit_is_a_sign() {
        let q = parse("SQLCODE -811 -deadlock");
        assert_eq!(q.tsquery_text(), "'sqlcode' & '811' & !'deadlock'");
        assert_eq!(q.clauses.len(), 2);
        assert_eq!(q.excluded.len(), 1);
    }

    #[test]
    fn field_filters() {
        let q = parse(r#"timeout product:OpenFrame status:"In Progress" -priority:low"#);
        assert_eq!(q.tsquery_text(), "'timeout'");
        assert_eq!(
            q.filter_values(Field::Product),
            (vec!["openframe".to_string()], vec![])
        );
        assert_eq!(
            q.filter_values(Field::Status),
            (vec!["in progress".to_string()], vec![])
        );
        assert_eq!(
            q.filter_values(Field::Priority),
            (vec![], vec!["low".to_string()])
        );
    }

    #[test]
    fn duplicates_are_merged() {
        let many = vec!["timeout"; 1000].join(" OR ");
        let q = parse(&format!(
            "{many} product:A product:a product:A -crash -crash \"disk full\" \"disk full\""
        ));
        assert_eq!(q.clauses.len(), 2);
        assert_eq!(q.clauses[0].alts.len(), 1);
        assert_eq!(q.excluded.len(), 1);
        assert_eq!(q.filters.len(), 1);
        assert_eq!(
            q.tsquery_text(),
            "'timeout' & ('disk' <-> 'full') & !'crash'"
        );
        assert_eq!(q.distinct_terms(), 5);
        // different phrases of the same words stay apart
        let q = parse(r#""disk full" OR "full disk" OR "disk full""#);
        assert_eq!(q.clauses[0].alts.len(), 2);
    }

    #[test]
    fn garbage_is_harmless() {
        assert_eq!(parse(r#"OR - "" -"" OR"#).tsquery_text(), "");
        assert_eq!(
            parse(r#""unbalanced quote"#).tsquery_text(),
            "('unbalanc' <-> 'quot')"
        );
        assert_eq!(parse("it's").tsquery_text(), "'s'");
        assert_eq!(
            parse(r"back\slash 'quote'").tsquery_text(),
            "('back' <-> 'slash') & 'quot'"
        );
    }
}
