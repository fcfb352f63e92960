"""Throughput of `ingest urls` against a bare loop over the same libraries.

    python -m benchmarks.ingest_urls --n 2000 --runs 3 [--corpus real|synthetic]

One corpus server (another process) serves N pages for every run: by default
real pages (benchmarks/real_corpus.py: 208 saved pages of many outlets,
articles and index pages, then copies under new addresses), or the synthetic
corpus (benchmarks/corpus.py: distinct generated articles in real templates,
which exercises story matching on N distinct texts). Each run is a process of
its own, and its peak memory is that of its whole process tree (extraction
workers and Prefect's API server included), sampled every 0.2 s; each of
those processes' own peak is printed too. Runs alternate, pipeline and bare.

The pipeline run goes through the real Prefect flow; its API server is started
before the clock starts. The bare loop is the short script a good engineer
would write: httpx (16 connections) fetching while a pool of two processes
extracts and tags what has arrived (the same worker function as the
pipeline's), then one bulk insert into DuckDB: no Prefect, no robots.txt, no
story matching, no raw pages or fetch log.

Stage figures are pages per second of each stage's own time: fetch, the wall
time while any fetch was under way; extract and tag, the workers' seconds
divided by the number of workers; load, the time spent loading. In both the
stages overlap, so end to end is not their sum.

The pool's speed-up over one core is measured after the bare loop's clock, in
rounds of 48 pages extracted on the pool and in one process, back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from benchmarks import corpus, real_corpus

ROOT = Path(__file__).resolve().parent.parent
WATCHLIST = ROOT / "seeds" / "watchlist.toml"
WORKERS = 2
CHUNK = 8
SPEED_UP_ROUNDS = 3  # rounds of the speed-up measurement (see run_bare)
ROUND_CHUNKS = 6     # chunks of CHUNK pages a round extracts on both processes and on one
AHEAD_CHUNKS = 8     # the bare loop's chunks fetched and waiting for a worker, at most
STAGES = ("fetch", "extract", "tag", "load")
ROLES = ("run", "server", "workers")  # the processes of a run, for peak memory


URL_FILE = "urls.txt"  # the run's addresses, in its working directory


def _urls(port: int, n: int) -> Iterator[str]:
    """The first n URLs of the corpus this benchmark serves (the parent's choice,
    passed to each run in BENCH_CORPUS)."""
    if os.environ.get("BENCH_CORPUS") == "synthetic":
        return (f"http://127.0.0.1:{port}/news/{i}" for i in range(n))
    return real_corpus.urls(port, n)


@contextmanager
def _served(which: str, n: int) -> Iterator[int]:
    """The corpus server's port."""
    if which == "synthetic":
        with corpus.serve(n) as urls:
            yield int(urls[0].split(":")[2].split("/")[0])
    else:
        with real_corpus.serve() as port:
            yield port


def run_pipeline(port: int, n: int, workdir: Path) -> dict:
    os.environ.update({
        "NEWSWATCH_ALLOWED_NETWORKS": '["127.0.0.1/32"]', "NEWSWATCH_PER_HOST_DELAY": "0",
        "NEWSWATCH_MAX_PER_HOST": "16", "NEWSWATCH_WATCHLIST": str(WATCHLIST),
        "NEWSWATCH_EXTRACT_WORKERS": str(WORKERS),
    })
    from prefect import flow

    from newswatch.flows.ingest_urls import ingest_urls

    # as `newswatch ingest urls --file` runs: the flow reads the file (no list here)
    url_file = workdir / URL_FILE

    @flow
    async def warm_up() -> None:  # starts Prefect's embedded API before the clock
        return None

    asyncio.run(warm_up())
    started = time.perf_counter()
    summary = asyncio.run(ingest_urls(url_file=str(url_file), db=str(workdir / "bench.duckdb")))
    seconds = time.perf_counter() - started
    assert summary.fetched == n, summary
    # the flow sums its workers' seconds; per worker, as the bare loop counts them
    stages = {stage: spent / WORKERS if stage in ("extract", "tag") else spent
              for stage, spent in summary.stage_seconds.items()}
    return {"seconds": seconds, "stages": stages, "articles": summary.ingested}


def run_compact(workdir: Path) -> dict:
    """Compact the pipeline's warehouse, as the daily digest would: what the loads
    no longer pay, in a process of its own (its peak is not the pipeline's)."""
    import resource

    from newswatch.config import Settings
    from newswatch.errors import WarehouseError
    from newswatch.warehouse.compact import compact

    try:
        result = compact(workdir / "bench.duckdb", memory_limit=Settings().load_memory_limit)
    except WarehouseError as exc:  # reported, not fatal: the ingest figures stand
        return {"seconds": 0.0, "merged": 0, "error": str(exc)[:160],
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    return {"seconds": result.seconds, "merged": result.merged,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def _bare_loop(urls: list[str], pool: ProcessPoolExecutor, stages: dict) -> list:
    """Fetch with httpx (16 connections) while both processes extract and tag what
    has arrived, CHUNK pages a call, at most AHEAD_CHUNKS chunks waiting: the
    short script a good engineer would write. Returns the extractions in order."""
    import httpx

    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(16)
    room = asyncio.Semaphore(AHEAD_CHUNKS)  # chunks sent and not yet extracted
    fetching, since = 0, 0.0

    async def fetch(client: httpx.AsyncClient, url: str) -> str:
        nonlocal fetching, since
        async with limit:
            if not fetching:
                since = time.perf_counter()
            fetching += 1
            try:
                return (await client.get(url)).text
            finally:
                fetching -= 1
                if not fetching:
                    stages["fetch"] += time.perf_counter() - since

    async def chunk(client: httpx.AsyncClient, part: list[str]) -> list:
        async with room:
            pages = await asyncio.gather(*(fetch(client, u) for u in part))
            return await loop.run_in_executor(
                pool, extract_and_tag_many, list(zip(pages, part, strict=True)))

    from newswatch.worker import extract_and_tag_many

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:
        done = await asyncio.gather(*(chunk(client, urls[i:i + CHUNK])
                                      for i in range(0, len(urls), CHUNK)))
    return [e for part in done for e in part]


def run_bare(urls: list[str], workdir: Path) -> dict:
    import duckdb
    import httpx

    from newswatch.extractors.identity import article_id
    from newswatch.worker import init_worker

    stages = dict.fromkeys(STAGES, 0.0)
    pool = ProcessPoolExecutor(WORKERS, initializer=init_worker, initargs=(str(WATCHLIST),))
    list(pool.map(abs, range(WORKERS)))  # the workers started before the clock, as the pipeline's
    t0 = time.perf_counter()
    extractions = asyncio.run(_bare_loop(urls, pool, stages))
    stages["extract"] = sum(e.seconds[0] for e in extractions) / WORKERS
    stages["tag"] = sum(e.seconds[1] for e in extractions) / WORKERS
    t2 = time.perf_counter()
    con = duckdb.connect(str(workdir / "bare.duckdb"))
    con.execute("CREATE TABLE articles (article_id VARCHAR, url VARCHAR, title VARCHAR,"
                " text VARCHAR, content_hash VARCHAR)")
    con.execute("CREATE TABLE mentions (article_id VARCHAR, entity_id VARCHAR,"
                " surface VARCHAR, start_char INT, end_char INT, sentence VARCHAR)")
    rows, mentions = [], []
    for url, ex in zip(urls, extractions, strict=True):
        if (a := ex.article) is None:
            continue
        aid = article_id(a)
        rows.append((aid, url, a.title, a.text, a.text_hash))  # hashed by the worker
        mentions += [(aid, m.entity_id, m.surface, m.start_char, m.end_char, m.sentence)
                     for m in a.mentions]
    for table, data in (("articles", rows), ("mentions", mentions)):
        appender = con.appender(table)
        appender.append_rows(data)
        appender.flush()
    con.close()
    stages["load"] = time.perf_counter() - t2
    seconds = time.perf_counter() - t0
    # The pool's speed-up, after the clock: the same pages on both processes (warm)
    # and on one core in this process, back to back, in rounds that alternate
    # which goes first. The machine's speed, which drifts on a shared host, is then
    # about the same for both halves of a round; the median round is the figure.
    sample_urls = urls[:ROUND_CHUNKS * CHUNK]
    sample = [httpx.get(u).text for u in sample_urls]
    chunks = [list(zip(sample[i:i + CHUNK], sample_urls[i:i + CHUNK], strict=True))
              for i in range(0, len(sample), CHUNK)]
    init_worker(str(WATCHLIST))
    rounds = []
    for r in range(SPEED_UP_ROUNDS):
        if r % 2 == 0:
            both = _pool_rate(pool, chunks)
            one = _one_core_rate(chunks)
        else:
            one = _one_core_rate(chunks)
            both = _pool_rate(pool, chunks)
        rounds.append((both, one))
    pool.shutdown()
    both, one = (statistics.median(r[i] for r in rounds) for i in (0, 1))
    speed_up = statistics.median(b / o for b, o in rounds)
    return {"seconds": seconds, "stages": stages, "articles": len(rows),
            "pool_pages_per_s": both, "one_core_pages_per_s": one, "speed_up": speed_up,
            "speed_up_rounds": [round(b / o, 2) for b, o in rounds]}


def _pool_rate(pool: ProcessPoolExecutor, chunks: list[list[tuple[str, str]]]) -> float:
    """Pages per second extracting and tagging `chunks` on the pool."""
    from newswatch.worker import extract_and_tag_many

    started = time.perf_counter()
    list(pool.map(extract_and_tag_many, chunks))
    return sum(map(len, chunks)) / (time.perf_counter() - started)


def _one_core_rate(chunks: list[list[tuple[str, str]]]) -> float:
    """Pages per second extracting and tagging `chunks` in this process."""
    from newswatch.worker import extract_and_tag

    started = time.perf_counter()
    for chunk in chunks:
        for html, url in chunk:
            extract_and_tag(html, url)
    return sum(map(len, chunks)) / (time.perf_counter() - started)


def _tree_memory_mb(root: int) -> tuple[dict[str, float], dict[str, float]]:
    """Memory of a process and all its descendants, in MiB (2**20 bytes), by role (the run's own
    process, Prefect's API server, and the rest: extraction workers), twice: as
    resident sizes, and as each process's proportional share (PSS), where a page
    that n processes share (libraries, what workers inherit from the process they
    were forked from) counts 1/n in each, so the roles add up to what the tree
    occupies."""
    resident, shared_once = dict.fromkeys(ROLES, 0.0), dict.fromkeys(ROLES, 0.0)
    for pid, role in _tree(root):  # one walk of /proc for both
        try:
            rss, pss = _rss_and_pss(pid)
        except (OSError, IndexError, ValueError):  # ended meanwhile
            continue
        resident[role] += rss / 2**20
        shared_once[role] += pss / 2**20
    return resident, shared_once


def _tree(root: int) -> list[tuple[int, str]]:
    """(pid, role) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found = []
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                server = b"prefect.server" in f.read()
        except OSError:
            continue
        found.append((pid, "run" if pid == root else "server" if server else "workers"))
    return found


def _rss_and_pss(pid: int) -> tuple[int, int]:
    """A process's resident size and PSS in bytes, from one read of smaps_rollup."""
    sizes = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Rss:", "Pss:")):
                sizes[line[:3]] = int(line.split()[1]) * 1024
    if len(sizes) != 2:
        raise ValueError(f"no Rss or Pss for process {pid}")
    return sizes["Rss"], sizes["Pss"]


def _child(mode: str, port: int, n: int, workdir: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ingest_urls", "--child", mode, "--n", str(n),
         "--port", str(port), "--workdir", workdir], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
             "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL", "PREFECT_LOGGING_LEVEL": "WARNING"})


def _last_json(child: subprocess.Popen, mode: str) -> dict:
    out, err = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _one(mode: str, port: int, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        # written here: the runs measured do not hold the corpus (its addresses are
        # known by reading the whole archive)
        with (Path(tmp) / URL_FILE).open("w", encoding="utf-8") as out:
            out.writelines(f"{url}\n" for url in _urls(port, n))
        child = _child(mode, port, n, tmp)
        peak, peak_pss, done = 0.0, 0.0, threading.Event()
        peaks = dict.fromkeys(ROLES, 0.0)  # each role's own peak

        def sample() -> None:
            nonlocal peak, peak_pss
            while not done.wait(0.2):
                roles, shared_once = _tree_memory_mb(child.pid)
                peak = max(peak, sum(roles.values()))
                peak_pss = max(peak_pss, sum(shared_once.values()))
                for role, mb in roles.items():
                    peaks[role] = max(peaks[role], mb)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            result = _last_json(child, mode)
        finally:
            done.set()
            sampler.join()
        if mode == "pipeline":
            result["compact"] = _last_json(_child("compact", port, n, tmp), "compact")
        return {**result, "peak_mb": peak, "peaks_mb": peaks, "peak_pss_mb": peak_pss}


def report(n: int, results: dict[str, list[dict]]) -> None:
    runs = len(results["bare"])
    print(f"ingest urls: {n} pages from 127.0.0.1, {runs} run(s) each, medians,"
          f" {os.cpu_count()} cores")
    print(f"  {'pages/s':12s} {'bare loop':>10s} {'pipeline':>10s} {'pipeline/bare':>14s}"
          f"   {'seconds: bare':>13s} {'pipeline':>9s}")
    seconds = {mode: {stage: statistics.median(r["stages"][stage] for r in rs)
                      for stage in STAGES} for mode, rs in results.items()}
    for stage in STAGES:
        bare, pipe = seconds["bare"][stage], seconds["pipeline"][stage]
        print(f"  {stage:12s} {n / bare:10.1f} {n / pipe:10.1f} {bare / pipe:14.2f}"
              f"   {bare:13.1f} {pipe:9.1f}")
    ends = {mode: statistics.median(r["seconds"] for r in rs) for mode, rs in results.items()}
    print(f"  {'end to end':12s} {n / ends['bare']:10.1f} {n / ends['pipeline']:10.1f}"
          f" {ends['bare'] / ends['pipeline']:14.2f}   {ends['bare']:13.1f}"
          f" {ends['pipeline']:9.1f}")
    ends = {mode: n / s for mode, s in ends.items()}  # pages/s, for the lines below
    peaks = {mode: max(r["peak_mb"] for r in rs) for mode, rs in results.items()}
    print(f"  {'peak MiB':12s} {peaks['bare']:10.0f} {peaks['pipeline']:10.0f}"
          "   (largest over the runs, whole process tree: the sum of resident sizes)")
    pss = {mode: max(r["peak_pss_mb"] for r in rs) for mode, rs in results.items()}
    print(f"  {'peak PSS MiB':12s} {pss['bare']:10.0f} {pss['pipeline']:10.0f}"
          "   (the same, shared pages counted once: what the tree occupies)")
    for mode, rs in results.items():
        parts = {role: max(r["peaks_mb"][role] for r in rs) for role in ROLES}
        print(f"    {mode} by process (each at its own peak): the run {parts['run']:.0f},"
              f" Prefect's API server {parts['server']:.0f}, workers {parts['workers']:.0f}")
    compacts = [r["compact"] for r in results["pipeline"]]
    for error in {c["error"] for c in compacts if "error" in c}:
        print(f"  compaction FAILED: {error}")
    print(f"  then compacted, as the daily digest does (not in the pipeline's time):"
          f" {statistics.median(c['seconds'] for c in compacts):.1f} s, "
          f"{max(c['merged'] for c in compacts)} row groups merged, peak"
          f" {max(c['peak_mb'] for c in compacts):.0f} MiB in a process of its own")
    pool = statistics.median(r["pool_pages_per_s"] for r in results["bare"])
    one = statistics.median(r["one_core_pages_per_s"] for r in results["bare"])
    speed_up = statistics.median(r["speed_up"] for r in results["bare"])
    rounds = " ".join(f"{x:.2f}" for r in results["bare"] for x in r["speed_up_rounds"])
    print(f"  extract+tag on {WORKERS} processes: {pool:.1f} pages/s = {speed_up:.2f} x one core"
          f" ({one:.1f} pages/s; rounds: {rounds});"
          f" pipeline end to end = {ends['pipeline'] / one:.2f} x one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["pipeline", "bare", "compact"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--corpus", choices=["real", "synthetic"], default="real")
    args = parser.parse_args()
    if args.child == "compact":
        print(json.dumps(run_compact(args.workdir)))
        return
    if args.child:
        if args.child == "pipeline":
            print(json.dumps(run_pipeline(args.port, args.n, args.workdir)))
        else:
            urls = (args.workdir / URL_FILE).read_text(encoding="utf-8").split()
            print(json.dumps(run_bare(urls, args.workdir)))
        return
    os.environ["BENCH_CORPUS"] = args.corpus
    results: dict[str, list[dict]] = {"bare": [], "pipeline": []}
    with _served(args.corpus, args.n) as port:
        for run in range(args.runs):  # alternate, so that a burst of load hits both
            for mode in results:
                results[mode].append(_one(mode, port, args.n))
                r = results[mode][-1]
                print(f"  run {run + 1} {mode:8s} {args.n / r['seconds']:7.1f} pages/s"
                      f"  {r['peak_mb']:5.0f} MiB", file=sys.stderr, flush=True)
    report(args.n, results)


if __name__ == "__main__":
    main()
