"""The benchmarks' own parts, small: the corpus is what it claims, the digest bench runs.

Timings are never asserted here (the machine is shared); `make bench` and
`make bench-digest` print them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from benchmarks import corpus, digest, ingest_urls, real_corpus
from newswatch.stories.copies import Candidate, CopyIndex, best_copy
from newswatch.warehouse.connection import connect
from newswatch.worker import extract_and_tag, init_worker


def test_corpus_pages_are_distinct_articles_some_copies_some_with_entities():
    init_worker(str(digest.WATCHLIST))
    n = 60
    extractions = [extract_and_tag(corpus.make_page(i), f"http://127.0.0.1/news/{i}")
                   for i in range(n)]
    articles = [e.article for e in extractions]
    assert all(a is not None and len(a.text.split()) > 500 for a in articles)
    assert len({a.canonical_url for a in articles}) == n
    assert 0 < sum(1 for a in articles if a.mentions) < n
    assert all(len(a.terms) > 100 for a in articles)  # story matching's terms, worked out
    index, copies = CopyIndex(), 0
    for i, a in enumerate(articles):
        when = digest.END + timedelta(minutes=i)
        copies += best_copy(a.fingerprint, index) is not None
        index.extend([Candidate(str(i), str(i), when, a.fingerprint)])
    # one page in ten is a syndicated copy of a recent page, found as such
    assert 0 < copies < n // 4


def test_the_real_corpus_serves_its_pages_under_distinct_addresses_then_copies():
    import httpx

    pages = real_corpus.pages()
    labels = [label for label, _, _ in pages]
    assert len(pages) == 208 and labels.count("article") == 141
    n = len(pages) + 3
    with real_corpus.serve() as port:
        urls = list(real_corpus.urls(port, n))
        assert len(set(urls)) == n  # distinct addresses, copies included
        with httpx.Client() as client:
            first, copy = client.get(urls[2]), client.get(urls[len(pages) + 2])
            missing = client.get(f"http://127.0.0.1:{port}/no-number")
    assert first.status_code == copy.status_code == 200
    assert first.content == copy.content == pages[2][2]  # the page again, as a copy
    assert missing.status_code == 404
    assert real_corpus.articles_among(n) == 141 + labels[:3].count("article")


def test_digest_bench_builds_a_year_and_loads_into_it(tmp_path):
    path = tmp_path / "year.duckdb"
    digest.build(path, articles=3650, mentions=36500)  # ten a day
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles"
                           ).fetchall() == [(3650, 3650)]
        assert con.execute("SELECT count(*) FROM mentions m JOIN articles USING (article_id)"
                           ).fetchall() == [(36500,)]
        # 017: each mention carries its article's first_seen_at, as loads write them
        assert con.execute("SELECT count(*) FROM mentions m JOIN articles a USING (article_id)"
                           " WHERE m.first_seen_at = a.first_seen_at").fetchall() == [(36500,)]
    # time_digest checks digest_data against plain SQL (it exits when they disagree)
    _, _, found, focus = digest.time_digest(path, (digest.END - timedelta(days=1)).date())
    assert 8 <= found <= 12 and focus > 0
    _, held, compacted = digest.time_load(path, 30, 10, seed=1)
    assert held == 3650 + 30 and compacted > 0


def test_peak_memory_is_split_by_process_the_run_its_server_and_its_workers():
    # a child that holds 50 MB: counted under "workers", not under this process
    child = subprocess.Popen([sys.executable, "-c", "import sys; b = bytearray(50 * 2**20);"
                              " b[::4096] = b'x' * len(b[::4096]); print('held', flush=True);"
                              " sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"  # every page of it touched
        roles, shared_once = ingest_urls._tree_memory_mb(os.getpid())
        assert set(roles) == {"run", "server", "workers"}
        assert roles["workers"] >= 50
        # "server" holds the session's Prefect test server when one is up already
        assert roles["run"] > 10
        # shared pages counted once: no more than resident, the child's 50 MB still in
        assert 50 <= shared_once["workers"] <= roles["workers"] + 1
        assert 0 < shared_once["run"] <= roles["run"] + 1
    finally:
        child.communicate("")


def _run(seconds: float, speed_up: float, peaks: dict[str, float]) -> dict:
    stages = dict.fromkeys(ingest_urls.STAGES, seconds / 4)
    return {"seconds": seconds, "stages": stages, "articles": 100, "peak_mb": sum(peaks.values()),
            "peaks_mb": peaks, "peak_pss_mb": sum(peaks.values()) * 0.8,
            "pool_pages_per_s": 250.0, "one_core_pages_per_s": 100.0,
            "speed_up": speed_up, "speed_up_rounds": [speed_up, speed_up + 0.1],
            "compact": {"seconds": seconds * 2, "merged": 12, "peak_mb": 150.0}}


def test_bench_report_gives_the_median_speed_up_and_each_process_s_peak(capsys):
    peaks = {"run": 300.0, "server": 220.0, "workers": 120.0}
    ingest_urls.report(100, {
        "bare": [_run(1.0, 1.9, peaks), _run(1.2, 1.5, peaks), _run(1.1, 1.8, peaks)],
        "pipeline": [_run(1.0, 0, {**peaks, "run": 350.0}), _run(1.0, 0, peaks),
                     _run(2.0, 0, peaks)],
    })
    out = capsys.readouterr().out
    assert "= 1.80 x one core" in out  # the median run's, not 250/100 of the medians
    assert "rounds: 1.90 2.00 1.50 1.60 1.80 1.90" in out
    assert "pipeline by process (each at its own peak): the run 350, Prefect's API server" in out
    assert [line.split()[3:5] for line in out.splitlines() if "peak PSS MiB" in line] == [
        ["512", "552"]]
    # pages/s of both, their ratio, then the seconds the user waited (medians)
    assert [line.split() for line in out.splitlines() if "end to end" in line][0][3:] == [
        "90.9", "100.0", "1.10", "1.1", "1.0"]
    assert "compacted, as the daily digest does (not in the pipeline's time): 2.0 s, 12 row" \
        " groups merged, peak 150 MiB" in out
