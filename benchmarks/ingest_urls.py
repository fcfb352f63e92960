"""Throughput of `ingest urls` against a bare loop over the same libraries.

    python -m benchmarks.ingest_urls --n 500 --runs 3

Each run is its own process, so peak memory is that run's alone. The pipeline
run goes through the real Prefect flow (its embedded API is started before
the clock starts); the bare loop is httpx + trafilatura + the tagger on two
processes + one bulk insert into DuckDB, with no Prefect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.corpus import serve

ROOT = Path(__file__).resolve().parent.parent
WATCHLIST = ROOT / "seeds" / "watchlist.toml"


def _peak_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_child_rss_mb": round(children, 1)}


def run_pipeline(n: int, workdir: Path) -> dict:
    os.environ.update({
        "NEWSWATCH_ALLOWED_NETWORKS": '["127.0.0.1/32"]', "NEWSWATCH_PER_HOST_DELAY": "0",
        "NEWSWATCH_MAX_PER_HOST": "16", "NEWSWATCH_WATCHLIST": str(WATCHLIST),
    })
    from prefect import flow

    from newswatch.flows import ingest_urls

    @flow
    async def warm_up() -> None:  # starts Prefect's embedded API before the clock
        return None

    asyncio.run(warm_up())
    with serve(n) as urls:
        started = time.perf_counter()
        summary = asyncio.run(ingest_urls(urls=urls, db=str(workdir / "bench.duckdb")))
        seconds = time.perf_counter() - started
    assert summary.ingested == n, summary
    return {"seconds": seconds, "pages": n, **_peak_mb()}


def _extract_and_tag(html: str, url: str):
    from newswatch.extractors.worker import extract_and_tag

    return extract_and_tag(html, url)


async def _fetch_all(urls: list[str]) -> list[str]:
    import httpx

    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:
        async def one(url: str) -> str:
            async with limit:
                return (await client.get(url)).text
        return await asyncio.gather(*(one(u) for u in urls))


def run_bare(n: int, workdir: Path) -> dict:
    import duckdb

    from newswatch.extractors.identity import article_id, content_hash
    from newswatch.extractors.worker import init_worker

    stages = {}
    with serve(n) as urls:
        t0 = time.perf_counter()
        pages = asyncio.run(_fetch_all(urls))
        stages["fetch"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        with ProcessPoolExecutor(2, initializer=init_worker,
                                 initargs=(str(WATCHLIST),)) as pool:
            extractions = list(pool.map(_extract_and_tag, pages, urls, chunksize=8))
        stages["extract_tag"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        con = duckdb.connect(str(workdir / "bare.duckdb"))
        con.execute("CREATE TABLE articles (article_id VARCHAR, url VARCHAR, title VARCHAR,"
                    " text VARCHAR, content_hash VARCHAR)")
        con.execute("CREATE TABLE mentions (article_id VARCHAR, entity_id VARCHAR,"
                    " surface VARCHAR, start_char INT, end_char INT, sentence VARCHAR)")
        rows, mentions = [], []
        for url, ex in zip(urls, extractions, strict=True):
            a = ex.article
            aid = article_id(a)
            rows.append((aid, url, a.title, a.text, content_hash(a.text)))
            mentions += [(aid, m.entity_id, m.surface, m.start_char, m.end_char, m.sentence)
                         for m in a.mentions]
        for table, data in (("articles", rows), ("mentions", mentions)):
            appender = con.appender(table)
            appender.append_rows(data)
            appender.flush()
        con.close()
        stages["load"] = time.perf_counter() - t2
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "pages": n, "stages": stages, **_peak_mb()}


def _one(mode: str, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.ingest_urls", "--child", mode, "--n", str(n),
             "--workdir", tmp], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL", "PREFECT_LOGGING_LEVEL": "WARNING"})
        if out.returncode != 0:
            raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["pipeline", "bare"])
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.child:
        run = run_pipeline if args.child == "pipeline" else run_bare
        print(json.dumps(run(args.n, args.workdir)))
        return
    results = {mode: [_one(mode, args.n) for _ in range(args.runs)]
               for mode in ("bare", "pipeline")}
    print(f"ingest urls, {args.n} pages from 127.0.0.1, {args.runs} runs, median:")
    medians = {}
    for mode, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        medians[mode] = seconds
        peak = max(r["peak_rss_mb"] for r in runs)
        child = max(r["peak_child_rss_mb"] for r in runs)
        print(f"  {mode:9s} {args.n / seconds:7.1f} pages/s  ({seconds:.2f} s)  "
              f"peak RSS {peak:.0f} MB, largest child {child:.0f} MB")
        if mode == "bare":
            for stage in runs[0]["stages"]:
                s = statistics.median(r["stages"][stage] for r in runs)
                print(f"      {stage:12s} {args.n / s:8.1f} pages/s")
    print(f"  pipeline / bare throughput: {medians['bare'] / medians['pipeline']:.2f}")


if __name__ == "__main__":
    main()
