"""The local path of `ingest urls`: batch i + 1 is fetched while batch i's last pages
are extracted (on both cores) and batch i - 1 loads: neither network nor cores wait.

The fetcher retries each URL itself, so a batch is never retried whole (every
page fetched again); a load is retried while another process holds the warehouse.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import replace
from functools import partial

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from newswatch.config import Settings
from newswatch.extractors.fetch import Fetcher, FetchResult
from newswatch.extractors.records import Reject
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import LoadResult
from newswatch.warehouse.pages import Page, load_pages, pack

from .pool import ExtractionPool
from .progress import report
from .retry import warehouse_task
from .stages import StageTimes
from .stories import RecentStories
from .task_results import FetchedBatch
from .url_counts import UrlIngestSummary
from .url_list import Request, UrlSpool

_CHUNK = 8  # pages per call to an extraction worker
_AHEAD = 2  # batches fetched and extracted at once, while the one before loads


@task(cache_policy=NO_CACHE)
async def fetch_and_extract(
    batch: list[Request], fetcher: Fetcher, pool: ExtractionPool,
    times: StageTimes | None = None,
) -> FetchedBatch:
    """Fetch a batch; each page goes to the pool as it arrives, then waits packed.
    Fetching waits while the pool has no room (pages fetched early waited decoded:
    1.4 GB at 2,000 real pages), and each chunk is packed as soon as it is extracted."""
    pages: list[Page] = []
    chunk: list[FetchResult] = []
    pending: deque[tuple[list[FetchResult], asyncio.Future]] = deque()
    times = times or StageTimes()

    async def send() -> None:
        # a few pages per worker call: less inter-process overhead than one by one;
        # decoded once the pool has room (the chunk waits with their bytes only)
        work = ((r.html, r.final_url or r.url) for r in chunk)
        pending.append((list(chunk), await pool.submit_many(work)))
        chunk.clear()

    async def settle() -> None:
        results, future = pending.popleft()
        for result, extraction in zip(results, await future, strict=True):
            times.add("extract", extraction.seconds[0])
            times.add("tag", extraction.seconds[1])
            if extraction.article is not None:
                page = Page(result, article=replace(extraction.article, url=result.url))
            else:
                page = Page(result, reject=Reject(
                    result.url, "extract", extraction.reason or "not_article",
                    extraction.detail or ""))
            pages.append(pack(page))

    with times.fetching():
        async for result in fetcher.fetch_many(batch):
            if result.ok and result.encoding is not None:  # an HTML page
                chunk.append(result)
                if len(chunk) >= _CHUNK:
                    await send()
                while pending and pending[0][1].done():
                    await settle()
            elif result.outcome == "not_modified":
                pages.append(Page(result))
            else:
                pages.append(pack(Page(result, reject=Reject(
                    result.url, "fetch", result.outcome, result.error or result.outcome))))
    if chunk:
        await send()
    while pending:
        await settle()
    return FetchedBatch(pages)


@warehouse_task
async def load_page_batch(
    db: str, pages: list[Page], lock_timeout: float, recent: RecentStories,
    times: StageTimes | None = None, memory_limit: str | None = None,
) -> LoadResult:
    """Match stories and load the batch in one transaction (in a thread)."""

    def load() -> LoadResult:
        started = time.perf_counter()
        with connect(db, lock_timeout=lock_timeout, memory_limit=memory_limit) as con:
            result = load_pages(con, pages, partial(recent.decide, con))
        (times or StageTimes()).add("load", time.perf_counter() - started)
        return result.articles

    return await asyncio.to_thread(load)


async def fetch_and_load(spool: UrlSpool, settings: Settings, recent: RecentStories,
                          summary: UrlIngestSummary) -> None:
    """Fetch, extract and load the spool's URLs a batch at a time; count into `summary`."""
    report(0, spool.count)

    async def collect(load: asyncio.Future, pages: list[Page]) -> None:
        summary.add_load(pages, await load)
        report(summary.pages_done, spool.count)

    async with Fetcher(settings.fetch_policy()) as fetcher, ExtractionPool(
        str(settings.resolved_watchlist()), settings.extract_workers, settings.min_article_chars,
        settings.date_languages,
    ) as pool:
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
