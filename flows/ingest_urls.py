"""Ingest web pages: fetch -> extract and tag (both cores) -> match stories and load,
one task per batch (flows/page_batches.py), or on a Dask cluster (flows/staging.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import chain

from prefect import flow, get_run_logger

from newswatch.config import Settings, settings_for
from newswatch.extractors.urls import iter_url_file
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import record_rejects, sync_entities

from .page_batches import fetch_and_load
from .stories import RecentStories
from .url_counts import UrlIngestSummary, finish
from .url_list import UrlSpool


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
            await fetch_and_load(spool, settings, recent, summary)
    return await finish(summary, invalid, started)
