"""Ingest URL batches on a distributed task runner, staged as Parquet, merged by one loader.

Each batch is one task on a cluster worker: fetch it, extract and tag its
pages there, and write them as a Parquet file under `staging_dir` (a path
every worker and the flow can reach). The flow merges each file into the
warehouse as its task finishes: DuckDB has one writer, the flow's process.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings
from newswatch.extractors.fetch import Fetcher, FetchPolicy, FetchResult
from newswatch.extractors.records import Reject
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import LoadResult
from newswatch.warehouse.pages import Page
from newswatch.warehouse.staging import merge, write_batch
from newswatch.worker import extract_and_tag, init_worker

from .retry import warehouse_task
from .runners import task_runner
from .stories import RecentStories
from .url_counts import UrlIngestSummary

_worker_ready: tuple | None = None   # the setup this worker process has (init_worker's)


def _page(result: FetchResult) -> Page:
    """A fetched page, extracted and tagged here, as the local path makes it."""
    if result.ok and (html := result.html) is not None:
        extraction = extract_and_tag(html, result.final_url or result.url)
        if extraction.article is not None:
            return Page(result, article=replace(extraction.article, url=result.url))
        return Page(result, reject=Reject(result.url, "extract",
                                          extraction.reason or "not_article",
                                          extraction.detail or ""))
    if result.outcome == "not_modified":
        return Page(result)
    return Page(result, reject=Reject(result.url, "fetch", result.outcome,
                                      result.error or result.outcome))


@task(cache_policy=NO_CACHE)
async def stage_batch(batch: list[tuple[str, str | None, str | None]], policy: FetchPolicy,
                      watchlist: str, min_chars: int, date_languages: list[str],
                      staging_dir: str, name: str) -> tuple[str, UrlIngestSummary]:
    """On a cluster worker: fetch, extract and tag a batch; write it as Parquet."""
    global _worker_ready
    setup = (watchlist, min_chars, tuple(date_languages))
    if _worker_ready != setup:
        init_worker(*setup)
        _worker_ready = setup
    async with Fetcher(policy) as fetcher:
        fetched = [result async for result in fetcher.fetch_many(batch)]
    pages = [_page(result) for result in fetched]
    path = write_batch(pages, Path(staging_dir), name)
    counts = UrlIngestSummary()
    counts.add_pages(pages)
    return str(path), counts   # counts, not pages: the pages travel as the Parquet file


@warehouse_task
def merge_batch(db: str, staging_dir: str, path: str, lock_timeout: float,
                recent: RecentStories) -> LoadResult:
    """In the flow's process: match one staged file's new articles to stories and merge it."""
    with connect(db, lock_timeout=lock_timeout) as con:
        result = merge(con, Path(staging_dir), partial(recent.decide, con), [Path(path)])
    # merged before (a retried run): nothing new
    return result.loaded.articles if result.loaded is not None else LoadResult()


@flow(name="ingest-urls-fan-out")
async def fan_out(requests: list[tuple[str, str | None, str | None]], db: str,
                  policy: FetchPolicy, watchlist: str, min_chars: int,
                  date_languages: list[str], staging_dir: str, batch_size: int,
                  lock_timeout: float) -> UrlIngestSummary:
    """Submit every batch to the task runner; merge each staged file as it is written."""
    run = uuid.uuid4().hex[:12]
    futures = [
        stage_batch.submit(requests[i:i + batch_size], policy, watchlist, min_chars,
                           date_languages, staging_dir, f"{run}-{i // batch_size:05d}")
        for i in range(0, len(requests), batch_size)]
    get_run_logger().info("%d batches sent to %d-URL tasks", len(futures), batch_size)
    total = UrlIngestSummary()
    recent = RecentStories()
    for future in futures:
        path, counts = future.result()
        _add(total, counts)
        total.add_loaded(merge_batch(db, staging_dir, path, lock_timeout, recent))
    return total


def _add(total: UrlIngestSummary, part: UrlIngestSummary) -> None:
    for name in ("fetched", "not_modified", "fetch_failed", "not_articles", "extracted",
                 "tagged"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for key, n in part.outcomes.items():
        total.outcomes[key] = total.outcomes.get(key, 0) + n
    total.rejects += part.rejects


async def ingest_staged(requests: list[tuple[str, str | None, str | None]], settings: Settings,
                        summary: UrlIngestSummary) -> None:
    """The scale-out path of `ingest_urls`: fan out on the configured runner, count into
    `summary`."""
    distributed = fan_out.with_options(task_runner=task_runner(settings))
    counts = await distributed(
        requests, str(settings.db), settings.fetch_policy(), str(settings.resolved_watchlist()),
        settings.min_article_chars, settings.date_languages, str(settings.staging_dir),
        settings.url_batch_size,
        settings.lock_timeout)
    _add(summary, counts)
    summary.ingested += counts.ingested
    summary.already_held += counts.already_held
    summary.mentions += counts.mentions

