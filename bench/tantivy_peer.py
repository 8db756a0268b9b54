"""The peer in the search benchmark: Tantivy (PyPI `tantivy`, the engine
inside ParadeDB's pg_search) on the same corpus and queries as
bench/search.sql, timed in the same run. Writes its timings into bench.t
(name 'tantivy'), next to ims.search_issues and B0.

Usage: python3 bench/tantivy_peer.py "<libpq conninfo>"

The corpus is read from the benchmark database (titles, descriptions,
comments, products). Text is tokenized by Tantivy's default analyser with
English stemming (Hangul words stay whole). Queries of one or two words
are conjunctions, longer ones disjunctions ranked by BM25 (Tantivy's
default, like ims.search_issues' natural questions), `product:X` a
required term; each search fetches the issue_id of its top 50.
"""

import pathlib
import re
import shutil
import sys
import tempfile
import time

import psycopg
import tantivy

TOP_K = 50
RUNS = 3


def schema():
    b = tantivy.SchemaBuilder()
    b.add_text_field("issue_id", stored=True, tokenizer_name="raw")
    for field in ("title", "description", "comments"):
        b.add_text_field(field, stored=False, tokenizer_name="en_stem")
    b.add_text_field("product", stored=False, tokenizer_name="raw")
    return b.build()


def build_index(conn, path):
    index = tantivy.Index(schema(), path=path)
    writer = index.writer(heap_size=512_000_000)
    with conn.transaction(), conn.cursor(name="corpus") as cur:
        cur.itersize = 5000
        cur.execute(
            """SELECT i.issue_id, coalesce(i.title, ''), coalesce(i.description, ''),
                      coalesce((SELECT string_agg(c.content, ' ') FROM ims.issue_comments c
                                 WHERE c.issue_pk = i.issue_pk), ''),
                      coalesce(i.product, '')
                 FROM ims.issues i"""
        )
        for issue_id, title, description, comments, product in cur:
            writer.add_document(
                tantivy.Document(
                    issue_id=issue_id,
                    title=title,
                    description=description,
                    comments=comments,
                    product=product,
                )
            )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def tantivy_query(index, query):
    product = None
    m = re.search(r"\s*product:(\S+)", query)
    if m:
        product = m.group(1)
        query = query[: m.start()] + query[m.end():]
    words = query.split()
    text = index.parse_query(
        " ".join(words),
        ["title", "description", "comments"],
        conjunction_by_default=len(words) <= 2,
    )
    if product is None:
        return text
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, text),
            (tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "product", product)),
        ]
    )


def search(index, searcher, query):
    hits = searcher.search(query, TOP_K, count=False).hits
    return [searcher.doc(address)["issue_id"][0] for _, address in hits]


def main():
    conninfo = sys.argv[1]
    path = tempfile.mkdtemp(prefix="tantivy-bench-")
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            t0 = time.perf_counter()
            index = build_index(conn, path)
            build_s = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in pathlib.Path(path).rglob("*") if f.is_file())
            searcher = index.searcher()
            queries = conn.execute("SELECT bucket, query FROM bench.q").fetchall()
            parsed = [(bucket, tantivy_query(index, q)) for bucket, q in queries]
            results = sum(len(search(index, searcher, q)) for _, q in parsed)  # warm up
            rows = []
            for _ in range(RUNS):
                for bucket, q in parsed:
                    t = time.perf_counter()
                    search(index, searcher, q)
                    rows.append(("tantivy", bucket, (time.perf_counter() - t) * 1000))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO bench.t VALUES (%s, %s, %s)", rows)
            print(
                f"tantivy {tantivy.__version__ if hasattr(tantivy, '__version__') else ''}: "
                f"{searcher.num_docs} issues indexed in {build_s:.1f} s, index {size / 2**20:.0f} MB, "
                f"{results} results for {len(parsed)} queries"
            )
    finally:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
