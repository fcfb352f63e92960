"""Ingest web pages: fetch -> extract and tag (both cores) -> match stories and load,
one task per batch.

Batches overlap: batch i + 1 is fetched while batch i's last pages are
extracted and batch i - 1 loads, so that neither the network nor the cores wait.

The fetcher retries each URL itself (backoff, Retry-After), so a batch task
is not retried as a whole: that would fetch every page again. Loading
retries only while another process holds the warehouse.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain, islice

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from newswatch.config import Settings, settings_for
from newswatch.extractors.fetch import Fetcher, FetchPolicy, FetchResult
from newswatch.extractors.records import Reject
from newswatch.extractors.urls import SeenUrls, canonical_url, iter_url_file
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import record_rejects, sync_entities
from newswatch.warehouse.pages import Page, load_pages, validators

from .pool import ExtractionPool
from .progress import report
from .retry import only_transient
from .stages import StageTimes
from .stories import RecentStories

_CHUNK = 8  # pages per call to an extraction worker
_SPOOL_CHUNK = 20_000  # URLs made canonical and asked for validators at a time
_AHEAD = 2  # batches fetched and extracted at once

# Prefect refuses a flow run whose parameters serialize to 512 KiB or more
# (about 5,000 real news URLs): a longer list goes to the flow as a file.
MAX_URL_BYTES = 448 * 1024  # (the other parameters are a few paths)


@contextmanager
def url_parameters(urls: Sequence[str]) -> Iterator[dict[str, list[str] | str]]:
    """`ingest_urls`'s parameters for `urls`: the list, or past Prefect's limit, a file.

    One flow run takes a list of any length, so a long one pays once for the
    extraction pool, the story candidates and a last load that overlaps nothing.
    The file is removed when the block ends.
    """
    if len(json.dumps(list(urls))) < MAX_URL_BYTES:
        yield {"urls": list(urls)}
        return
    fd, path = tempfile.mkstemp(prefix="newswatch-urls-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(f"{url}\n" for url in urls)
        yield {"url_file": path}
    finally:
        os.unlink(path)


@dataclass
class UrlIngestSummary:
    """The counts of one URL ingest run, as logged, returned and attached as an artifact."""

    urls: int = 0
    fetched: int = 0
    not_modified: int = 0
    fetch_failed: int = 0
    not_articles: int = 0
    ingested: int = 0
    already_held: int = 0
    mentions: int = 0
    extracted: int = 0        # pages that were articles
    tagged: int = 0           # articles with at least one watched entity
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # see StageTimes
    outcomes: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)

    def add_pages(self, pages: list[Page]) -> None:
        """Count a batch's fetch outcomes, articles and rejects."""
        for page in pages:
            outcome = page.fetch.outcome
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            if outcome == "ok":
                self.fetched += 1
            elif outcome == "not_modified":
                self.not_modified += 1
            if page.article is not None:
                self.extracted += 1
                self.tagged += bool(page.article.mentions)
            if page.reject is not None:
                self.rejects.append(page.reject)
                if page.reject.stage == "extract":
                    self.not_articles += 1
                    reason = page.reject.reason
                    self.outcomes[reason] = self.outcomes.get(reason, 0) + 1
                else:
                    self.fetch_failed += 1


Request = tuple[str, str | None, str | None]  # a URL, its ETag and Last-Modified


@dataclass
class FetchedBatch:
    """A batch's pages, as `fetch_and_extract` returns them.

    Not a bare list: Prefect links each item of a task's result to the task's
    state in a dict that lives as long as the flow run (an entry and a weak
    reference a page: memory that grew with the number of URLs). It links
    one level down only, so a batch costs it one entry.
    """

    pages: list[Page]


@task(cache_policy=NO_CACHE)
async def fetch_and_extract(
    batch: list[Request], fetcher: Fetcher, pool: ExtractionPool,
    times: StageTimes | None = None,
) -> FetchedBatch:
    """Fetch a batch; each page goes to the extraction pool as soon as it arrives."""
    pages: list[Page] = []
    chunk: list[FetchResult] = []
    pending: list[tuple[list[FetchResult], asyncio.Future]] = []

    def send() -> None:
        # a few pages per worker call: less inter-process overhead than one by one
        work = [(r.html, r.final_url or r.url) for r in chunk]
        pending.append((list(chunk), asyncio.ensure_future(pool.extract_many(work))))
        chunk.clear()

    times = times or StageTimes()
    with times.fetching():
        async for result in fetcher.fetch_many(batch):
            if result.ok and result.html is not None:
                chunk.append(result)
                if len(chunk) >= _CHUNK:
                    send()
            elif result.outcome == "not_modified":
                pages.append(Page(result))
            else:
                pages.append(Page(result, reject=Reject(
                    result.url, "fetch", result.outcome, result.error or result.outcome)))
    if chunk:
        send()
    for results, future in pending:
        for result, extraction in zip(results, await future, strict=True):
            times.add("extract", extraction.seconds[0])
            times.add("tag", extraction.seconds[1])
            if extraction.article is not None:
                extraction.article.url = result.url
                pages.append(Page(result, article=extraction.article))
            else:
                pages.append(Page(result, reject=Reject(
                    result.url, "extract", extraction.reason or "not_article",
                    extraction.detail or "")))
    return FetchedBatch(pages)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_jitter_factor=0.5, retry_condition_fn=only_transient)
async def load_page_batch(
    db: str, pages: list[Page], lock_timeout: float, recent: RecentStories,
    times: StageTimes | None = None, memory_limit: str | None = None,
) -> tuple[int, int, int]:
    """Match the batch's new articles to stories and load it in one transaction, in a
    thread; (inserted, already held, mentions)."""
    def load() -> tuple[int, int, int]:
        started = time.perf_counter()
        with connect(db, lock_timeout=lock_timeout, memory_limit=memory_limit) as con:
            result = load_pages(con, pages, partial(recent.decide, con))
        if times is not None:
            times.add("load", time.perf_counter() - started)
        return result.articles.inserted, result.articles.duplicates, result.articles.mentions

    return await asyncio.to_thread(load)


@flow(name="ingest-urls")
async def ingest_urls(
    urls: list[str] | None = None,
    db: str | None = None,
    watchlist: str | None = None,
    batch_size: int | None = None,
    url_file: str | None = None,
    settings: Settings | None = None,
) -> UrlIngestSummary:
    """Fetch, extract, tag and load the pages at `urls` and those listed in `url_file`
    (one per line, `#` comments); known URLs are asked conditionally."""
    logger = get_run_logger()
    started = time.perf_counter()
    settings = settings_for(settings, db=db, watchlist=watchlist, url_batch_size=batch_size)
    entities = load_watchlist(settings.resolved_watchlist())  # a malformed one fails here
    summary = UrlIngestSummary()
    recent = RecentStories()
    with UrlSpool() as spool:
        with connect(settings.db, lock_timeout=settings.lock_timeout,
                     memory_limit=settings.load_memory_limit) as con:
            sync_entities(con, entities)
            summary.urls, invalid = spool.fill(
                chain(urls or [], iter_url_file(url_file) if url_file else []), con)
            record_rejects(con, invalid)
            if settings.task_runner == "local":
                # The story candidates are read before the pool starts and the first
                # pages arrive: read in the first load, beside DuckDB's cache and a
                # batch being matched, they were the peak of every flow run after the first.
                recent.matcher(con, datetime.now(UTC))
        summary.rejects.extend(invalid)
        summary.outcomes["invalid_url"] = len(invalid)
        logger.info("ingesting %d URLs (%d asked conditionally, %d invalid) into %s",
                    spool.count, len(spool.known), len(invalid), settings.db)
        if settings.task_runner != "local":  # scale-out: batches on a cluster, staged as Parquet
            from .staging import ingest_staged

            await ingest_staged(spool.take(), settings, summary)
        else:
            await _fetch_and_load(spool, settings, recent, summary)
    return await _finish(summary, invalid, started)


class UrlSpool:
    """A run's URLs, canonical and each once, in a temporary file of their own,
    read back a batch at a time with their validators (ETag, Last-Modified).

    The run then holds 8 bytes a URL (SeenUrls), not the list: 150 bytes a URL.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="newswatch-urls-")
        self.count = 0                                 # URLs to fetch
        self.known: dict[str, tuple[str | None, str | None]] = {}  # their validators, if any

    def fill(self, listed: Iterable[str], con: duckdb.DuckDBPyConnection,
             ) -> tuple[int, list[Reject]]:
        """Spool `listed`; return how many were listed and a reject for each invalid URL."""
        seen, invalid, total = SeenUrls(), [], 0
        listed = iter(listed)
        while chunk := list(islice(listed, _SPOOL_CHUNK)):
            total += len(chunk)
            canonical = []
            for url in chunk:
                if (form := canonical_url(url.strip())) is None:
                    invalid.append(Reject(url, "fetch", "invalid_url",
                                          f"not an http(s) URL: {url!r}"))
                else:
                    canonical.append(form)
            fresh = [url for url, first in zip(canonical, seen.first_time(canonical),
                                               strict=True) if first]
            self._file.writelines(f"{url}\n" for url in fresh)
            self.count += len(fresh)
            self.known.update(validators(con, fresh))
        self._file.seek(0)
        return total, invalid

    def take(self, count: int | None = None) -> list[Request]:
        """The next `count` URLs (None: all that are left), each with its validators."""
        return [(url, *self.known.get(url, (None, None)))
                for url in (line.rstrip("\n") for line in islice(self._file, count))]

    def __enter__(self) -> UrlSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


async def _fetch_and_load(spool: UrlSpool, settings: Settings, recent: RecentStories,
                          summary: UrlIngestSummary) -> None:
    """The local path of `ingest_urls`: batches fetched and extracted on this machine's
    cores, loaded one after the other; counts go into `summary`."""
    done = 0
    report(0, spool.count)

    async def collect(load: asyncio.Future, pages: list[Page]) -> None:
        """Wait for a batch's load and count it."""
        nonlocal done
        inserted, held, mentions = await load
        summary.add_pages(pages)
        summary.ingested += inserted
        summary.already_held += held
        summary.mentions += mentions
        done += len(pages)
        report(done, spool.count)

    policy: FetchPolicy = settings.fetch_policy()
    async with Fetcher(policy) as fetcher, ExtractionPool(
        str(settings.resolved_watchlist()), settings.extract_workers,
        settings.min_article_chars,
    ) as pool:
        # Up to _AHEAD batches are fetched and extracted while the one before loads.
        times = StageTimes()
        ahead: deque[asyncio.Future[FetchedBatch]] = deque()
        loading: tuple[asyncio.Future, list[Page]] | None = None

        def fetch_next() -> None:
            if batch := spool.take(settings.url_batch_size):
                # quote(): Prefect would otherwise walk every page of a batch for futures
                ahead.append(asyncio.ensure_future(
                    fetch_and_extract(quote(batch), fetcher, pool, times)))

        try:
            for _ in range(_AHEAD):
                fetch_next()
            while ahead:
                pages = (await ahead.popleft()).pages
                fetch_next()
                if loading is not None:
                    await collect(*loading)
                loading = (asyncio.ensure_future(load_page_batch(
                    str(settings.db), quote(pages), settings.lock_timeout, recent, times,
                    settings.load_memory_limit)), pages)
            if loading is not None:
                await collect(*loading)
        finally:  # after a failure, stop fetching; a load under way ends (its thread would)
            for future in ahead:
                future.cancel()
            await asyncio.gather(*ahead, *(loading[:1] if loading else ()),
                                 return_exceptions=True)
        summary.stage_seconds = {k: round(v, 3) for k, v in times.seconds.items()}


async def _finish(summary: UrlIngestSummary, invalid: list[Reject],
                  started: float) -> UrlIngestSummary:
    """Log the run's counts and attach them as a table artifact."""
    logger = get_run_logger()
    summary.fetch_failed += len(invalid)
    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "URLs: %d, fetched: %d, not modified: %d, failed: %d, extracted: %d, "
        "not articles: %d, tagged: %d, ingested: %d, already held: %d, mentions: %d, %.2f s",
        summary.urls, summary.fetched, summary.not_modified, summary.fetch_failed,
        summary.extracted, summary.not_articles, summary.tagged, summary.ingested,
        summary.already_held, summary.mentions, summary.seconds,
    )
    await create_table_artifact(key="ingest-urls-counts", table=count_rows(summary),
                                description="Counts of the last URL ingest")
    return summary


def count_rows(summary: UrlIngestSummary) -> list[dict]:
    """The artifact's rows: the counts, then every reject reason and fetch outcome."""
    counts = {k: v for k, v in asdict(summary).items()
              if k not in ("rejects", "outcomes", "stage_seconds")}
    rows = [{"count": k, "value": v} for k, v in counts.items()]
    rows += [{"count": f"seconds: {k}", "value": v} for k, v in summary.stage_seconds.items()]
    rejected: dict[str, int] = {}
    for reject in summary.rejects:
        key = f"rejected: {reject.stage} {reject.reason}"
        rejected[key] = rejected.get(key, 0) + 1
    rows += [{"count": k, "value": v} for k, v in sorted(rejected.items())]
    rows += [{"count": f"outcome: {k}", "value": v} for k, v in sorted(summary.outcomes.items())]
    return rows
