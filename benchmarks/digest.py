"""The digest on a year of news: build one day's data, load a day's worth of batches.

    python -m benchmarks.digest --articles 1000000 --mentions 10000000 --load 100000

Builds a synthetic warehouse with the real migrations: ARTICLES articles
first seen evenly over 365 days, MENTIONS mentions of the watchlist's
entities spread over them, and a fingerprint per article (as story matching
stores them), all generated in bulk by DuckDB. Then it times, RUNS times:

- building one day's digest data: warehouse.digest.new_articles (the
  digest_new_articles and digest_article_entities macros, the spans, the
  story links) and warehouse.digest.attention (digest_attention);
- loading LOAD new articles with ten mentions each through the real load
  path (warehouse.load.load_batch: staging, anti-joins against the
  warehouse, story matching against the last 14 days, fingerprints, raw
  documents), in batches of BATCH (2,000 and 10,000 unless told), each in
  its own transaction and its own opening of the file, as `ingest` loads.

The warehouse is built once (`--db` keeps it for another time); each load
run works on a copy of it, so runs do not feed each other.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHLIST = ROOT / "seeds" / "watchlist.toml"
END = datetime(2026, 11, 1, tzinfo=UTC)   # the warehouse's year ends here
TZ = "Asia/Almaty"


def build(path: Path, articles: int, mentions: int) -> None:
    """A warehouse of `articles` over the year before END, `mentions` spread over them."""
    from newswatch.extractors.watchlist import load_watchlist
    from newswatch.warehouse.connection import connect
    from newswatch.warehouse.load import sync_entities

    with connect(path) as con:
        sync_entities(con, load_watchlist(WATCHLIST))
        start = END - timedelta(days=365)
        step = 365 * 86400 / articles
        # ids are hashes, as newswatch's are: no order to exploit
        con.execute("CREATE TEMP MACRO aid(i) AS left(md5('article ' || i), 16)")
        # article i: first seen i * step seconds into the year; every 5th joins
        # the story of the article before it
        con.execute(f"""
            INSERT INTO articles
            SELECT aid(i),
                   'https://outlet' || (i % 40) || '.example/news/' || i,
                   'https://outlet' || (i % 40) || '.example/news/' || i,
                   NULL, 'Headline of article ' || i || ' about the region',
                   'Outlet ' || (i % 40), 'Reporter ' || (i % 300), seen, seen, 'en',
                   'Headline of article ' || i || ' about the region. '
                       || repeat('A sentence of the body of the article. ', 40),
                   md5(i::VARCHAR),
                   aid(i - CASE WHEN i % 5 = 4 THEN 1 ELSE 0 END), 'meta', false
            FROM (SELECT i, TIMESTAMPTZ '{start.isoformat()}' + to_seconds(i * {step}) AS seen
                  FROM range({articles}) t(i))
        """)
        entities = [r[0] for r in con.execute(
            "SELECT entity_id FROM entities ORDER BY entity_id").fetchall()]
        per = mentions / articles
        # mention j belongs to article floor(j / per), in article order as batches load them;
        # its entity is skewed towards the first few (a story has its main actors)
        con.execute(f"""
            INSERT INTO mentions
            SELECT aid(floor(j / {per})::BIGINT), e.entity_id, e.name,
                   s, s + length(e.name), 'A sentence that names ' || e.name || '.',
                   TIMESTAMPTZ '{start.isoformat()}' + to_seconds(floor(j / {per}) * {step})
            FROM (SELECT j, (hash(j) % 1600)::INTEGER AS s,
                         least(floor(-ln(1 - (hash(j, 1) % 1000000) / 1000000.0) * 6),
                               {len(entities) - 1})::INTEGER AS k
                  FROM range({mentions}) t(j)) m
            JOIN (SELECT row_number() OVER (ORDER BY entity_id) - 1 AS k, entity_id, name
                  FROM entities) e USING (k)
            ORDER BY j
        """)
        con.execute(f"""
            INSERT INTO article_fingerprints
            SELECT aid(i),
                   list_sort(list_transform(range(200), lambda x: (hash(i, x) >> 1)::BIGINT)),
                   TIMESTAMPTZ '{start.isoformat()}' + to_seconds(i * {step})
            FROM range({articles}) t(i)
        """)
        # 150 terms an article: a few hundred common to its story, the rest its own
        con.execute(f"""
            INSERT INTO article_terms
            SELECT aid(i), TIMESTAMPTZ '{start.isoformat()}' + to_seconds(i * {step}), h,
                   list_transform(h, lambda x: 1.0 + (x % 5)::FLOAT),
                   list_transform(h, lambda x: ((x % 100) / 1000.0)::FLOAT)
            FROM (SELECT i, list_sort(list_transform(range(150), lambda x:
                      (hash(CASE WHEN x < 30 THEN i // 5 ELSE i END, x) >> 1)::BIGINT)) AS h
                  FROM range({articles}) t(i))
        """)
        con.execute(f"""
            INSERT INTO story_links
            SELECT aid(i), CASE WHEN i % 5 = 0 THEN 'new' ELSE 'same_event' END,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE aid(i - 1) END, 0.5,
                   TIMESTAMPTZ '{start.isoformat()}' + to_seconds(i * {step}), aid(i - i % 5),
                   [{{'term': 'Almaty', 'kind': 'name', 'share': 0.3}}],
                   'A sentence of the body of the article.'
            FROM range({articles}) t(i)
        """)
        con.execute("CHECKPOINT")


def time_digest(path: Path, day: date) -> tuple[float, float, int, int]:
    """Seconds to build one day's digest data and to answer its stories and counts by
    plain SQL joins (benchmarks/digest_reference.py), checked equal; (digest seconds,
    plain seconds, articles, entities)."""
    from benchmarks.digest_reference import digest_answers, plain_answers, plain_attention
    from newswatch.warehouse.connection import connect
    from newswatch.warehouse.digest import digest_data

    with connect(path, read_only=True) as con:
        started = time.perf_counter()
        data = digest_data(con, day, TZ)  # what the digest flow reads: articles, attention, names
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        plain = plain_answers(con, day, TZ)
        plain_seconds = time.perf_counter() - started
        attention = plain_attention(con, day, TZ)
    if digest_answers(data.stories, data.articles) != plain or attention != sorted(
            (a.entity_id, a.today, a.trailing_mean) for a in data.attention):
        raise SystemExit("digest_data and the plain SQL disagree on the day")
    return seconds, plain_seconds, len(data.articles), len(data.attention)


def synthetic_articles(n: int, seed: int, now: datetime) -> list:
    """n tagged articles as extraction workers hand them over (copy fingerprints,
    terms, leads and content hashes computed)."""
    import numpy as np

    from newswatch.extractors.identity import content_hash
    from newswatch.extractors.records import Article, Mention
    from newswatch.extractors.watchlist import load_watchlist
    from newswatch.stories.copies import Fingerprint
    from newswatch.stories.novelty import read_lead
    from newswatch.stories.terms import Terms

    entities = [(e.entity_id, e.name) for e in load_watchlist(WATCHLIST)]
    rng = random.Random(seed)
    body = "A sentence of the body of a newly fetched article. " * 30
    articles = []
    for i in range(n):
        title = f"New article {seed}-{i} on the region"
        mentions = []
        for k in range(10):
            eid, name = entities[min(int(rng.expovariate(1 / 6)), len(entities) - 1)]
            start = 80 + 150 * k
            mentions.append(Mention(eid, name, start, start + len(name),
                                    f"A sentence that names {name}."))
        fp = Fingerprint(frozenset(rng.getrandbits(63) for _ in range(200)))
        hashes = np.unique(np.array([rng.getrandbits(63) for _ in range(150)], np.int64))
        terms = Terms(hashes, np.ones(len(hashes), np.float32),
                      np.full(len(hashes), 0.01, np.float32))
        text = f"{title}. {body} Article {seed}-{i}."
        articles.append(Article(
            text=text, raw=f"<html>{title}</html>", text_hash=content_hash(text),
            title=title, url=f"https://new.example/{seed}/{i}", outlet="New Outlet",
            published_at=now - timedelta(minutes=rng.randint(0, 600)), language="en",
            mentions=mentions, fingerprint=fp, terms=terms, lead=read_lead(text, title)))
    return articles


def time_load(path: Path, n: int, batch: int, seed: int) -> tuple[float, int, float]:
    """Seconds to load n new articles in batches, on a copy of the warehouse; the
    articles it then holds; and the seconds of the compaction that follows."""
    from newswatch.config import Settings
    from newswatch.flows.stories import RecentStories
    from newswatch.warehouse.compact import compact
    from newswatch.warehouse.connection import connect
    from newswatch.warehouse.load import load_batch

    now = END + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(path, copy)
        recent = RecentStories()
        seconds = 0.0
        for i in range(0, n, batch):
            # Made batch by batch, untimed: ingest holds one batch at a time, and
            # 100,000 articles held at once would have Python's garbage collector
            # walk their millions of objects again and again.
            articles = synthetic_articles(min(batch, n - i), seed * n + i, now)
            started = time.perf_counter()
            # as ingest: the file is held only while a batch loads
            with connect(copy) as con:
                load_batch(con, articles, partial(recent.decide, con), now=now)
            seconds += time.perf_counter() - started
        with connect(copy, read_only=True) as con:
            held = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
        # the day's maintenance merges the row groups the loads left (as the digest does)
        compacted = compact(copy, memory_limit=Settings().load_memory_limit).seconds
    return seconds, held, compacted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--mentions", type=int, default=10_000_000)
    parser.add_argument("--load", type=int, default=100_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[2000, 10000],
                        help="articles per load transaction; each size is timed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the warehouse here (reused when present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "year.duckdb"
        if not path.exists():
            started = time.perf_counter()
            build(path, args.articles, args.mentions)
            print(f"built {args.articles:,} articles, {args.mentions:,} mentions in"
                  f" {time.perf_counter() - started:.1f} s ({path.stat().st_size / 2**20:.0f} MB)")
        from newswatch.warehouse.connection import connect

        with connect(path):  # a kept warehouse gets the migrations added since it was built
            pass
        day = (END - timedelta(days=1)).date()
        # the digest takes a fraction of a second: more runs for a steadier median
        digest = [time_digest(path, day) for _ in range(max(args.runs, 7))]
        _, _, found, focus = digest[0]
        seconds = statistics.median(d[0] for d in digest)
        plain = statistics.median(d[1] for d in digest)
        print(f"  one day's digest data ({day}, {found} articles, {focus} entities):"
              f" {seconds:.3f} s (runs: {', '.join(f'{d[0]:.3f}' for d in digest)});"
              f" its stories and counts by plain SQL joins: {plain:.3f} s"
              f" (runs: {', '.join(f'{d[1]:.3f}' for d in digest)}), same answers;"
              f" digest / plain {seconds / plain:.2f}")
        for batch in args.batch if args.load else ():  # --load 0: the digest alone
            loads = [time_load(path, args.load, batch, seed) for seed in range(args.runs)]
            seconds = statistics.median(s for s, _, _ in loads)
            print(f"  loading {args.load:,} articles with {10 * args.load:,} mentions in batches"
                  f" of {batch:,}: {seconds:.1f} s, {args.load / seconds:,.0f} articles/s"
                  f" (runs: {', '.join(f'{s:.1f}' for s, _, _ in loads)}; warehouse then holds"
                  f" {loads[0][1]:,} articles); then compacted in"
                  f" {statistics.median(c for _, _, c in loads):.1f} s"
                  f" (runs: {', '.join(f'{c:.1f}' for _, _, c in loads)})", flush=True)


if __name__ == "__main__":
    main()
