"""The benchmarks' own parts, small: the corpus is what it claims, the digest bench runs.

Timings are never asserted here (the machine is shared); `make bench` and
`make bench-digest` print them.
"""

from __future__ import annotations

from datetime import timedelta

from benchmarks import corpus, digest
from newswatch.extractors.dedup import Candidate, CandidateIndex, match_story
from newswatch.extractors.worker import extract_and_tag, init_worker
from newswatch.warehouse.connection import connect


def test_corpus_pages_are_distinct_articles_some_copies_some_with_entities():
    init_worker(str(digest.WATCHLIST))
    n = 60
    extractions = [extract_and_tag(corpus.make_page(i), f"http://127.0.0.1/news/{i}")
                   for i in range(n)]
    articles = [e.article for e in extractions]
    assert all(a is not None and len(a.text.split()) > 500 for a in articles)
    assert len({a.canonical_url for a in articles}) == n
    assert 0 < sum(1 for a in articles if a.mentions) < n
    index, relations = CandidateIndex(), []
    for i, a in enumerate(articles):
        when = digest.END + timedelta(minutes=i)
        relations.append(match_story(a.fingerprint, when, index).relation)
        index.append(Candidate(str(i), str(i), when, a.fingerprint))
    # syndicated copies are found as copies; the rest are stories of their own
    assert 0 < relations.count("copy") < n // 4
    assert relations.count("new") == n - relations.count("copy")


def test_digest_bench_builds_a_year_and_loads_into_it(tmp_path):
    path = tmp_path / "year.duckdb"
    digest.build(path, articles=3650, mentions=36500)  # ten a day
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles"
                           ).fetchall() == [(3650, 3650)]
        assert con.execute("SELECT count(*) FROM mentions m JOIN articles USING (article_id)"
                           ).fetchall() == [(36500,)]
    _, found, focus = digest.time_digest(path, (digest.END - timedelta(days=1)).date())
    assert 8 <= found <= 12 and focus > 0
    _, held = digest.time_load(path, 30, 10, seed=1)
    assert held == 3650 + 30
