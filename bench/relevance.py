"""Relevance benchmark: ims.search_issues against a Korean search engineer's
pick, a morphological analyser + BM25 (Kiwi, PyPI `kiwipiepy`), on the same
corpus and graded queries (bench/relevance/corpus.json, queries.json).
Prints nDCG@10 and MRR per query class for both, side by side.

Usage: python3 bench/relevance.py "<libpq conninfo>" [--verbose]

The database must be empty with ims_crawler installed; the corpus is
loaded with ims.upsert_issues and the search index built. The peer indexes
the same fields (title twice, as a title boost; description; comments):
Kiwi's nouns, verb and adjective stems, roots, foreign words (lower case),
numbers and symbols-with-numbers; ranked by BM25 (k1 1.2, b 0.75) over the
query's terms, any of which may match (as a search engine's default OR).
Grades: 3 the issue asked about, 2 relevant, 1 partly; nDCG@10 uses
2^grade - 1 as the gain, MRR the rank of the first grade-3 issue.
"""

import collections
import json
import math
import pathlib
import sys

import psycopg
from kiwipiepy import Kiwi

HERE = pathlib.Path(__file__).resolve().parent / "relevance"
K = 10
# Kiwi's tags a Korean search engine indexes: nouns, numerals, verb and
# adjective stems, roots, foreign words, Hanja, numbers.
KEPT_TAGS = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "W_SERIAL"}


def load(conn, corpus):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ims.upsert_issues(%s::jsonb)", (json.dumps(corpus),))
        cur.execute("SELECT ims.refresh_search_index()")
    conn.commit()


def ims_ranking(conn, query):
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT issue_id FROM ims.search_issues(%s, NULL, %s)", (query, K))
            rows = [r[0] for r in cur.fetchall()]
        except psycopg.Error:
            rows = []
    conn.rollback()
    return rows


class KiwiBM25:
    """BM25 over Kiwi's morphemes, the peer a Korean search engineer sets up."""

    def __init__(self, corpus, k1=1.2, b=0.75):
        self.kiwi = Kiwi()
        self.k1, self.b = k1, b
        self.ids, self.tf, self.length = [], [], []
        df = collections.Counter()
        for issue in corpus:
            text = " ".join([issue.get("title") or ""] * 2 + [issue.get("description") or ""]
                            + [c.get("content") or "" for c in issue.get("comments") or []])
            terms = self.terms(text)
            tf = collections.Counter(terms)
            self.ids.append(issue["issue_id"])
            self.tf.append(tf)
            self.length.append(len(terms))
            df.update(tf.keys())
        n = len(self.ids)
        self.avg = sum(self.length) / max(n, 1)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def terms(self, text):
        return [t.form.lower() for t in self.kiwi.tokenize(text) if t.tag in KEPT_TAGS]

    def ranking(self, query):
        q = set(self.terms(query))
        scores = []
        for i, tf in enumerate(self.tf):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.length[i] / self.avg)
            for t in q:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            if s > 0:
                scores.append((-s, i))
        scores.sort()
        return [self.ids[i] for _, i in scores[:K]]


def ndcg(ranking, grades):
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranking[:K]))
    ideal = sorted(grades.values(), reverse=True)[:K]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def reciprocal_rank(ranking, grades):
    best = max(grades.values())
    for i, d in enumerate(ranking[:K]):
        if grades.get(d, 0) == best:
            return 1.0 / (i + 1)
    return 0.0


def main():
    dsn = sys.argv[1]
    verbose = "--verbose" in sys.argv
    corpus = json.loads((HERE / "corpus.json").read_text())
    queries = json.loads((HERE / "queries.json").read_text())
    ids = {i["issue_id"] for i in corpus}
    for q in queries:
        missing = set(q["grades"]) - ids
        assert not missing, f"{q['query']!r} grades issues not in the corpus: {missing}"
    with psycopg.connect(dsn) as conn:
        load(conn, corpus)
        peer = KiwiBM25(corpus)
        by_class = collections.defaultdict(list)
        for q in queries:
            ours, theirs = ims_ranking(conn, q["query"]), peer.ranking(q["query"])
            row = (ndcg(ours, q["grades"]), ndcg(theirs, q["grades"]),
                   reciprocal_rank(ours, q["grades"]), reciprocal_rank(theirs, q["grades"]))
            by_class[q["class"]].append(row)
            if verbose and row[0] < row[1]:
                print(f"  behind the peer [{q['class']}] {q['query']!r} (nDCG {row[0]:.3f} / {row[1]:.3f}): "
                      f"ims {ours[:3]}, peer {theirs[:3]}, "
                      f"grades {q['grades']}")
    print(f"{len(corpus)} issues, {len(queries)} graded queries")
    print(f"{'class':<16} {'queries':>7} {'ims nDCG@10':>12} {'peer nDCG@10':>13} {'ims MRR':>8} {'peer MRR':>9}")
    rows = []
    for cls in sorted(by_class):
        r = by_class[cls]
        rows.extend(r)
        mean = [sum(x[j] for x in r) / len(r) for j in range(4)]
        print(f"{cls:<16} {len(r):>7} {mean[0]:>12.3f} {mean[1]:>13.3f} {mean[2]:>8.3f} {mean[3]:>9.3f}")
    mean = [sum(x[j] for x in rows) / len(rows) for j in range(4)]
    print(f"{'all':<16} {len(rows):>7} {mean[0]:>12.3f} {mean[1]:>13.3f} {mean[2]:>8.3f} {mean[3]:>9.3f}")


if __name__ == "__main__":
    main()
