//! The BM25 ranking model, shared by the posting-list build
//! (`search_postings`) and query time (`search`), so that an issue scores
//! the same whether it is read from the posting lists or from its vector.
//!
//! An issue's contribution for one term is split in two: its *impact*
//! (term-frequency saturation and length normalisation, fixed when the
//! posting lists are built and stored in one byte) and the term's inverse
//! document frequency (applied at query time).

/// BM25 parameters: term-frequency saturation and length normalisation.
pub const K1: f32 = 1.2;
pub const B: f32 = 0.75;
/// Field weights by tsvector weight bits: D attachments, C comments,
/// B description, A title.
pub const FIELD_WEIGHTS: [f32; 4] = [0.5, 0.7, 1.0, 3.0];
/// Impacts are stored in one byte: `IMPACT_STEPS` steps of (K1 + 1).
const IMPACT_STEPS: f32 = 254.0;

/// The stored impact (1..=254) of a term with field-weighted frequency `tf`
/// in a document of `length` distinct lexemes; 0 if the term is absent.
pub fn impact(tf: f32, length: u32, avg_length: f32) -> u8 {
    if tf <= 0.0 {
        return 0;
    }
    let norm = K1 * (1.0 - B + B * length as f32 / avg_length.max(1.0));
    let saturated = tf / (tf + norm); // in (0, 1)
    (saturated * IMPACT_STEPS).ceil().clamp(1.0, IMPACT_STEPS) as u8
}

/// The BM25 term score for a stored impact.
pub fn term_score(impact: u8, idf: f32) -> f32 {
    idf * (K1 + 1.0) * impact as f32 / IMPACT_STEPS
}

/// The term score of every impact, for one idf.
pub fn score_table(idf: f32) -> [f32; 256] {
    std::array::from_fn(|q| term_score(q as u8, idf))
}

/// Inverse document frequency of a term in `doc_freq` of `docs` documents.
pub fn idf(docs: f32, doc_freq: f32) -> f32 {
    (1.0 + (docs - doc_freq + 0.5) / (doc_freq + 0.5))
        .ln()
        .max(0.01)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_grows_with_frequency_and_saturates() {
        let a = impact(1.0, 100, 100.0);
        let b = impact(3.0, 100, 100.0);
        let c = impact(300.0, 100, 100.0);
        assert!(0 < a && a < b && b < c && c <= 254, "{a} {b} {c}");
        assert_eq!(impact(0.0, 100, 100.0), 0);
    }

    #[test]
    fn longer_documents_get_smaller_impacts() {
        assert!(impact(2.0, 400, 100.0) < impact(2.0, 50, 100.0));
    }

    #[test]
    fn rarer_terms_weigh_more() {
        assert!(idf(1000.0, 3.0) > idf(1000.0, 300.0));
        assert!(idf(10.0, 10.0) > 0.0);
    }
}
