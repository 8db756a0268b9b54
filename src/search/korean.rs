//! Korean morphology without a dictionary: a rule-based stemmer on the
//! jamo of the last syllables. It removes one particle (`설정이` → `설정`)
//! or one verb/adjective ending (`깨집니다`, `깨짐`, `깨져서`, `깨지는` →
//! `깨지`), undoes the past tense and vowel contractions that endings fuse
//! into the stem (`급증했습니다` → `급증하`), drops an auxiliary verb after
//! a connective (`느려지` → `느리`, `죽어버리` → `죽`) and the verbalisers
//! 하다/되다 after a noun (`급증하` → `급증`, `만료되어` → `만료`).
//!
//! The stem does not have to be a dictionary word: index and query apply
//! the same rules, so forms of one word meet, and the bigrams (see
//! `tokenize`) still match what the rules miss. The rules are cautious
//! where nouns look like endings: a two-syllable word keeps its second
//! syllable unless that is a particle or the first syllable is clearly
//! verbal (`경고` stays, `않고` becomes `않`), and `서`/`요` are endings only
//! after a contracted vowel (`문서` stays, `느려요` becomes `느리`).

const SYLLABLE_FIRST: u32 = 0xAC00;
const SYLLABLE_LAST: u32 = 0xD7A3;

/// Vowel (medial) indexes used by the rules.
const V_A: u32 = 0; // ㅏ
const V_AE: u32 = 1; // ㅐ
const V_EO: u32 = 4; // ㅓ
const V_YEO: u32 = 6; // ㅕ
const V_O: u32 = 8; // ㅗ
const V_WA: u32 = 9; // ㅘ
const V_WAE: u32 = 10; // ㅙ
const V_OE: u32 = 11; // ㅚ
const V_U: u32 = 13; // ㅜ
const V_WO: u32 = 14; // ㅝ
const V_EU: u32 = 18; // ㅡ
const V_I: u32 = 20; // ㅣ

/// Final consonant indexes used by the rules.
const T_NONE: u32 = 0;
const T_N: u32 = 4; // ㄴ
const T_L: u32 = 8; // ㄹ
const T_M: u32 = 16; // ㅁ
const T_B: u32 = 17; // ㅂ
const T_SS: u32 = 20; // ㅆ (past tense)
/// Finals only verbs and adjectives end in (않, 없, 있, 많, 읽, 싫, 넓).
const VERBAL_FINALS: [u32; 10] = [5, 6, 9, 10, 11, 13, 14, 15, 18, 20];

/// A Hangul syllable as (initial, vowel, final) indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Jamo {
    l: u32,
    v: u32,
    t: u32,
}

fn jamo(c: char) -> Option<Jamo> {
    let code = c as u32;
    if !(SYLLABLE_FIRST..=SYLLABLE_LAST).contains(&code) {
        return None;
    }
    let i = code - SYLLABLE_FIRST;
    Some(Jamo {
        l: i / (21 * 28),
        v: (i / 28) % 21,
        t: i % 28,
    })
}

fn compose(j: Jamo) -> char {
    char::from_u32(SYLLABLE_FIRST + (j.l * 21 + j.v) * 28 + j.t).expect("a Hangul syllable")
}

/// Whether every char is a Hangul syllable (what the stemmer works on).
pub fn is_hangul_word(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| jamo(c).is_some())
}

/// Particles, longest first. Those in `WEAK_PARTICLES` also end many nouns
/// (`경로`, `도구`) and are removed only from words of three or more syllables.
const PARTICLES: &[&str] = &[
    "에서부터",
    "에서는",
    "에서도",
    "에서의",
    "으로는",
    "으로도",
    "으로서",
    "으로써",
    "에게서",
    "이라는",
    "이라고",
    "이라도",
    "이지만",
    "께서는",
    "입니다",
    "이에요",
    "에서",
    "에게",
    "한테",
    "으로",
    "까지",
    "부터",
    "보다",
    "처럼",
    "마다",
    "이나",
    "이랑",
    "라는",
    "라고",
    "께서",
    "에는",
    "에도",
    "과는",
    "와는",
    "만큼",
    "이란",
    "이며",
    "이고",
    "이다",
    "이",
    "가",
    "을",
    "를",
    "은",
    "는",
    "의",
    "에",
    "로",
    "와",
    "과",
    "도",
    "만",
    "나",
    "랑",
    "란",
];
const WEAK_PARTICLES: &[&str] = &["로", "도", "나", "만", "와", "과", "의", "란", "랑"];
/// Particles that follow only a final consonant (`연결이`, `설정을`) or only
/// a vowel (`서버가`, `파일로`), by their first syllable: a noun ending in
/// 이 after a vowel (`게이트웨이`) keeps it.
const AFTER_CONSONANT: &[char] = &['이', '을', '은', '과', '으', '입'];
const AFTER_VOWEL: &[char] = &['가', '를', '와', '라', '란', '랑', '나'];

/// Endings attached straight to a stem, longest first: written style,
/// and the spoken and question endings of people asking (`끊기나요`,
/// `되죠`, `느리네요`).
const ENDINGS: &[&str] = &[
    "는데도",
    "잖아요",
    "거든요",
    "던데요",
    "는가요",
    "은가요",
    "으면서",
    "으려고",
    "습니다",
    "습니까",
    "십시오",
    "으세요",
    "는데요",
    "나요",
    "네요",
    "지요",
    "까요",
    "는데",
    "은데",
    "지만",
    "도록",
    "려고",
    "거나",
    "면서",
    "는지",
    "은지",
    "으면",
    "으니",
    "니까",
    "세요",
    "어서",
    "아서",
    "여서",
    "어요",
    "아요",
    "여요",
    "어도",
    "아도",
    "죠",
    "다",
    "고",
    "지",
    "게",
    "며",
    "면",
    "던",
    "기",
    "음",
    "어",
    "아",
    "여",
];
/// Endings that follow the vowel of a contracted stem (`느려요`, `깨져서`):
/// removed only after one, since many nouns end in these (`문서`, `필요`).
const AFTER_CONTRACTION: &[&str] = &["서", "요", "도"];

/// Nouns of three or more syllables that end like an ending.
const NOUNS: &[&str] = &[
    "메시지",
    "이미지",
    "패키지",
    "스토리지",
    "페이지",
    "홈페이지",
];

/// Whether the word is only a particle (`에서`, `를`): it carries no
/// meaning of its own.
pub fn is_particle(word: &str) -> bool {
    PARTICLES.contains(&word)
}

/// The stem of a Hangul word; the word itself when no rule applies or it
/// is not all Hangul syllables.
pub fn stem(word: &str) -> String {
    let syllables: Vec<char> = word.chars().collect();
    if !is_hangul_word(word) || syllables.len() < 2 || NOUNS.iter().any(|n| word.ends_with(n)) {
        return word.to_string();
    }
    let stem = match strip_particle(&syllables) {
        Some(mut rest) => {
            // 는/은/을 also end verbs: 급증하는, 느려지는
            drop_auxiliary(&mut rest);
            drop_verbaliser(&mut rest);
            rest
        }
        None => strip_ending(&syllables).unwrap_or(syllables),
    };
    stem.into_iter().collect()
}

/// The word without its particle, if it has one.
pub fn without_particle(word: &str) -> String {
    let syllables: Vec<char> = word.chars().collect();
    if !is_hangul_word(word) || syllables.len() < 2 {
        return word.to_string();
    }
    strip_particle(&syllables).map_or_else(|| word.to_string(), |s| s.into_iter().collect())
}

/// Where `suffix` starts in `syllables`, if it ends them and something
/// comes before it. Compares from the end: most suffixes fail at once.
fn ends_with(syllables: &[char], suffix: &str) -> Option<usize> {
    let mut at = syllables.len();
    for c in suffix.chars().rev() {
        if at == 0 || syllables[at - 1] != c {
            return None;
        }
        at -= 1;
    }
    (at > 0).then_some(at)
}

fn strip_particle(syllables: &[char]) -> Option<Vec<char>> {
    PARTICLES.iter().find_map(|p| {
        let keep = ends_with(syllables, p)?;
        let weak = WEAK_PARTICLES.contains(p);
        let closed = jamo(syllables[keep - 1]).is_some_and(|j| j.t != T_NONE);
        let first = p.chars().next()?;
        let fits = !(AFTER_CONSONANT.contains(&first) && !closed)
            && !(AFTER_VOWEL.contains(&first) && closed);
        (fits && (!weak || keep >= 2)).then(|| syllables[..keep].to_vec())
    })
}

/// The stem without its ending: the longest ending that applies, then the
/// past tense and contractions undone, then 하/되 after a noun dropped.
fn strip_ending(syllables: &[char]) -> Option<Vec<char>> {
    let (mut stem, mut contracted) = longest_ending(syllables)?;
    // 있 after a connective is the auxiliary of a state (멈춰있어요), not
    // a past tense: it goes, and the connective's contraction is undone.
    if stem.len() >= 3 && stem.last() == Some(&'있') && ends_in_connective(&stem[..stem.len() - 1])
    {
        stem.pop();
        contracted = true;
    }
    let mut fused = undo_past_and_contraction(&mut stem, contracted);
    fused |= drop_auxiliary(&mut stem);
    // A one-syllable stem of a two-syllable word only where the stem is
    // clearly verbal: a final only verbs have (않고), a contraction, past
    // tense or fused ending undone (돼요 → 되, 떠요 → 뜨, 된다 → 되), 되/하
    // themselves (되죠), or ㅡ with no final (뜨지, 쓰고).
    let changed = stem.len() == 1 && stem[0] != syllables[0]; // 된다 → 되
    let one_syllable_ok = syllables.len() >= 3
        || fused
        || changed
        || stem.last().is_some_and(|&c| matches!(c, '되' | '하'))
        || stem
            .last()
            .and_then(|&c| jamo(c))
            .is_some_and(|j| VERBAL_FINALS.contains(&j.t) || (j.v == V_EU && j.t == T_NONE));
    if stem.is_empty() || (stem.len() == 1 && !one_syllable_ok) {
        return None;
    }
    drop_verbaliser(&mut stem);
    Some(stem)
}

/// Whether the stem ends in a connective 어/아/여, alone (없어) or
/// contracted into the syllable before (느려, 멈춰, 꺼): never with a final
/// (편지, 현지 are nouns).
fn ends_in_connective(stem: &[char]) -> bool {
    stem.len() >= 2
        && stem
            .last()
            .and_then(|&c| jamo(c))
            .is_some_and(|j| j.t == T_NONE && is_contracted(j))
}

/// An auxiliary verb after a connective, which only colours the verb
/// before it: 지다 (becoming: 느려지 → 느리, 없어지 → 없) and 버리다
/// (completely: 죽어버리 → 죽). Returns whether it changed the stem.
fn drop_auxiliary(stem: &mut Vec<char>) -> bool {
    for aux in ["지", "버리"] {
        if let Some(keep) = ends_with(stem, aux) {
            if ends_in_connective(&stem[..keep]) {
                stem.truncate(keep);
                undo_past_and_contraction(stem, true);
                return true;
            }
        }
    }
    false
}

/// 하다/되다 after a noun of two or more syllables: 급증하 → 급증.
fn drop_verbaliser(stem: &mut Vec<char>) {
    if stem.len() >= 3 && matches!(stem.last(), Some('하' | '되')) {
        stem.pop();
    }
}

/// The word without its longest ending, and whether the ending follows a
/// contracted vowel (so the contraction is to be undone).
fn longest_ending(syllables: &[char]) -> Option<(Vec<char>, bool)> {
    let n = syllables.len();
    let last = jamo(syllables[n - 1])?;
    let mut best: Option<(usize, Vec<char>, bool)> = None;
    let mut consider = |len: usize, stem: Vec<char>, contracted: bool| {
        if best.as_ref().is_none_or(|b| len > b.0) {
            best = Some((len, stem, contracted));
        }
    };
    for e in ENDINGS {
        if let Some(keep) = ends_with(syllables, e) {
            if *e == "면" && syllables[keep - 1] == '화' {
                continue; // 화면 (screen)
            }
            if *e == "나요" && ends_in_connective(&syllables[..keep]) {
                continue; // 늘어나요: 늘어나 + 요
            }
            let contracted = e.starts_with(['어', '아', '여']);
            consider(2 * (n - keep), syllables[..keep].to_vec(), contracted);
        }
    }
    for e in AFTER_CONTRACTION {
        if let Some(keep) = ends_with(syllables, e) {
            if jamo(syllables[keep - 1]).is_some_and(is_contracted) {
                consider(2 * (n - keep), syllables[..keep].to_vec(), true);
            }
        }
    }
    // 요 after a stem in ㅏ/ㅓ that absorbed 아/어 whole (올라가요, 늘어나요):
    // only in longer words, two-syllable nouns end so (가요).
    if let Some(keep) = ends_with(syllables, "요").filter(|&k| k >= 2) {
        if jamo(syllables[keep - 1]).is_some_and(|j| j.t == T_NONE && matches!(j.v, V_A | V_EO)) {
            consider(2, syllables[..keep].to_vec(), false);
        }
    }
    // ㅂ니다 / ㅂ니까 fused into the stem's last syllable: 깨집니다 → 깨지.
    for e in ["니다", "니까"] {
        if let Some(keep) = ends_with(syllables, e) {
            if let Some(j) = jamo(syllables[keep - 1]).filter(|j| j.t == T_B) {
                let mut stem = syllables[..keep].to_vec();
                stem[keep - 1] = compose(Jamo { t: T_NONE, ..j });
                consider(2 * 2 + 1, stem, false);
            }
        }
    }
    // ㄹ까요 / ㄴ가요 (questions) fused: 할까요 → 하, 느린가요 → 느리.
    for (e, t) in [("까요", T_L), ("가요", T_N)] {
        if let Some(keep) = ends_with(syllables, e) {
            if let Some(j) = jamo(syllables[keep - 1]).filter(|j| j.t == t) {
                let mut stem = syllables[..keep].to_vec();
                stem[keep - 1] = compose(Jamo { t: T_NONE, ..j });
                consider(2 * 2 + 1, stem, false);
            }
        }
    }
    // ㄴ다 (plain present) fused: 된다 → 되.
    if let Some(keep) = ends_with(syllables, "다") {
        if let Some(j) = jamo(syllables[keep - 1]).filter(|j| j.t == T_N) {
            if matches!(compose(Jamo { t: T_NONE, ..j }), '되' | '하' | '지' | '리') {
                let mut stem = syllables[..keep].to_vec();
                stem[keep - 1] = compose(Jamo { t: T_NONE, ..j });
                consider(2 + 1, stem, false);
            }
        }
    }
    // ㅁ (nominaliser) and ㄴ (adnominal) fused into a verbal syllable:
    // 깨짐, 느림, 만료됨, 멈춤 / 깨진, 만료된, 멈춘; ㄹ (future adnominal)
    // into 하/되: 재배포할, 될.
    let bare = Jamo { t: T_NONE, ..last };
    let verbal = matches!(bare.v, V_I | V_U) || matches!(compose(bare), '되' | '하');
    let adnominal = bare.v == V_U || matches!(compose(bare), '되' | '하' | '지' | '리');
    let future = matches!(compose(bare), '되' | '하');
    if (last.t == T_M && verbal) || (last.t == T_N && adnominal) || (last.t == T_L && future) {
        let mut stem = syllables.to_vec();
        stem[n - 1] = compose(bare);
        consider(1, stem, false);
    }
    best.map(|(_, stem, contracted)| (stem, contracted))
}

/// A vowel that an ending starting with 어/아/여 contracted into the stem
/// (and 떠, 써, 꺼: a stem in ㅡ, 뜨+어 → 떠).
fn is_contracted(j: Jamo) -> bool {
    matches!(j.v, V_YEO | V_WA | V_WO | V_WAE) || (j.v == V_AE && j.l == 18) // 해
        || (j.t == T_NONE && matches!(compose(j), '어' | '아' | '여'))
        || is_eu_contraction(j)
}

/// ㅓ with no final that stands for ㅡ + 어: only 떠 (뜨), 써 (쓰), 꺼
/// (끄), the stems issues use; 커, 터, 서 begin too many nouns (커서).
fn is_eu_contraction(j: Jamo) -> bool {
    j.t == T_NONE && matches!(compose(j), '떠' | '써' | '꺼')
}

/// Undo the past tense (ㅆ: 했, 됐, 었) and, after it or after an ending
/// that followed a contraction, the contraction itself (져 → 지, 돼 → 되,
/// 떠 → 뜨). Returns whether it changed the stem.
fn undo_past_and_contraction(stem: &mut Vec<char>, mut contracted: bool) -> bool {
    let Some(mut j) = stem.last().and_then(|&c| jamo(c)) else {
        return false;
    };
    let mut past = false;
    if j.t == T_SS && (stem.len() >= 2 || is_contracted(Jamo { t: T_NONE, ..j })) {
        if stem.len() >= 2 && matches!(stem.last(), Some('었' | '았' | '였')) {
            stem.pop();
            return true;
        }
        j.t = T_NONE;
        contracted = true;
        past = true;
    }
    if !contracted {
        return false;
    }
    if j.t == T_NONE && matches!(compose(j), '어' | '아' | '여') && stem.len() >= 2 {
        stem.pop();
        return true;
    }
    let before = j;
    j.v = match j.v {
        V_YEO => V_I,
        V_WA => V_O,
        V_WO => V_U,
        V_WAE => V_OE,
        V_AE if j.l == 18 => V_A, // 해 → 하
        V_EO if is_eu_contraction(j) => V_EU,
        v => v,
    };
    if let Some(c) = stem.last_mut() {
        *c = compose(j);
    }
    past || j != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(w: &str) -> String {
        stem(w)
    }

    #[test]
    fn inflected_forms_meet() {
        for w in ["깨짐", "깨지는", "깨져서", "깨집니다", "깨진", "깨지고"] {
            assert_eq!(s(w), "깨지", "{w}");
        }
        for w in ["급증", "급증했습니다", "급증하는", "급증한"] {
            assert_eq!(s(w), "급증", "{w}");
        }
        for w in ["느림", "느려요", "느립니다", "느려서"] {
            assert_eq!(s(w), "느리", "{w}");
        }
        for w in ["만료됨", "만료되어", "만료된", "만료되었습니다", "만료"] {
            assert_eq!(s(w), "만료", "{w}");
        }
        for w in ["않음", "않고", "않습니다", "않는"] {
            assert_eq!(s(w), "않", "{w}");
        }
        for w in ["중단된", "중단되었습니다", "중단됨", "중단"] {
            assert_eq!(s(w), "중단", "{w}");
        }
        assert_eq!(s("끊김"), s("끊깁니다"));
        assert_eq!(s("갱신했는데"), "갱신");
        assert_eq!(s("실행되지"), "실행");
        assert_eq!(s("시작하지"), "시작");
        assert_eq!(s("발생한다"), "발생");
    }

    #[test]
    fn spoken_and_question_endings() {
        for w in ["떠요", "떠서", "떴어요", "뜨지", "뜨는", "뜹니다"] {
            assert_eq!(s(w), "뜨", "{w}");
        }
        for w in ["돼요", "됐어요", "되죠", "되나요", "된다", "됩니다"] {
            assert_eq!(s(w), "되", "{w}");
        }
        for w in ["끊기나요", "끊김", "끊기는"] {
            assert_eq!(s(w), "끊기", "{w}");
        }
        for w in ["깨지나요", "깨지네요", "깨짐"] {
            assert_eq!(s(w), "깨지", "{w}");
        }
        for w in ["멈췄어요", "멈춤", "멈춘", "멈추는", "멈춥니다"] {
            assert_eq!(s(w), "멈추", "{w}");
        }
        for w in ["재배포할", "재배포하는", "재배포했는데", "재배포"] {
            assert_eq!(s(w), "재배포", "{w}");
        }
        assert_eq!(s("느린가요"), "느리");
        assert_eq!(s("할까요"), "하");
        assert_eq!(s("느리잖아요"), "느리");
        assert_eq!(s("커서"), "커서"); // cursor, not 크 + 어서
    }

    #[test]
    fn auxiliary_verbs_and_absorbed_endings() {
        for w in ["느려졌어요", "느려짐", "느려지는", "느려요", "느림"] {
            assert_eq!(s(w), "느리", "{w}");
        }
        for w in ["죽어버려요", "죽어버렸어요", "죽었어요", "죽어요"] {
            assert_eq!(s(w), "죽", "{w}");
        }
        assert_eq!(s("멈춰있어요"), "멈추");
        assert_eq!(s("멈춰버려요"), "멈추");
        assert_eq!(s("없어졌어요"), "없");
        assert_eq!(s("만들어지지"), "만들");
        for w in ["올라가요", "올라가는", "올라가지"] {
            assert_eq!(s(w), "올라가", "{w}");
        }
        assert_eq!(s("늘어나요"), "늘어나");
        // Two syllables stay: a stem of its own (꺼지다, 켜지다) or a noun.
        assert_eq!(s("꺼져요"), "꺼지");
        assert_eq!(s("가요"), "가요");
        assert_eq!(s("되나요"), "되");
        assert_eq!(s("연애편지를"), "연애편지"); // a noun, not 편 + 어지다
    }

    #[test]
    fn particles_go() {
        assert_eq!(s("설정이"), "설정");
        assert_eq!(s("타임아웃이"), "타임아웃");
        assert_eq!(s("화면에서"), "화면");
        assert_eq!(s("값이"), "값");
        assert_eq!(s("서버가"), "서버");
        assert_eq!(s("설정을"), "설정");
        assert_eq!(s("메뉴를"), "메뉴");
        assert_eq!(s("게이트웨이"), "게이트웨이");
        assert_eq!(s("게이트웨이가"), "게이트웨이");
        assert!(is_particle("에서") && is_particle("를") && !is_particle("설정"));
    }

    #[test]
    fn nouns_that_look_like_endings_stay() {
        for w in [
            "경고",
            "문서",
            "필요",
            "화면",
            "경로",
            "마음",
            "메시지",
            "연결",
            "로그인",
            "서버",
        ] {
            assert_eq!(s(w), w, "{w}");
        }
        assert_eq!(s("OpenFrame"), "OpenFrame");
    }
}
