"""The process pool that extracts and tags pages on every core.

A forkserver pool: workers start from a clean interpreter that has imported
only the extractors (not Prefect, not its threads), and each compiles the
watchlist once. Prefect's own process task runner would start an API
server per worker here, which costs far more than it saves.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from newswatch.extractors.article import Extraction
from newswatch.extractors.worker import extract_and_tag, extract_and_tag_many, init_worker

_WARM_UP = "<html><body><article><p>" + "Warm-up text. " * 60 + "</p></article></body></html>"


class ExtractionPool:
    """`async with ExtractionPool(watchlist) as pool: await pool.extract(html, url)`."""

    def __init__(self, watchlist_path: str, workers: int = 2, min_chars: int | None = None):
        self._args = (watchlist_path, min_chars)
        self._workers = max(1, min(workers, os.cpu_count() or 1))
        self._executor: ProcessPoolExecutor | None = None

    async def __aenter__(self) -> ExtractionPool:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["newswatch.extractors.worker"])
        self._executor = ProcessPoolExecutor(
            self._workers, mp_context=context, initializer=init_worker, initargs=self._args
        )
        # Start the workers now and let trafilatura load its models while the
        # first pages are being fetched, not when they arrive.
        for _ in range(self._workers):
            self._executor.submit(extract_and_tag, _WARM_UP, None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    async def extract(self, html: str, url: str | None) -> Extraction:
        assert self._executor is not None, "use ExtractionPool as an async context manager"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, extract_and_tag, html, url)

    async def extract_many(self, pages: list[tuple[str, str | None]]) -> list[Extraction]:
        """Extract a chunk of (html, url) pages in one worker call."""
        assert self._executor is not None, "use ExtractionPool as an async context manager"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, extract_and_tag_many, pages)
