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
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

from newswatch.extractors.article import Extraction
from newswatch.lifeline import PARENT_VARIABLE
from newswatch.worker import extract_and_tag, extract_and_tag_many, init_worker

_WARM_UP = "<html><body><article><p>" + "Warm-up text. " * 60 + "</p></article></body></html>"


class ExtractionPool:
    """`async with ExtractionPool(watchlist) as pool: await pool.extract(html, url)`."""

    def __init__(self, watchlist_path: str, workers: int = 2, min_chars: int | None = None,
                 date_languages: Sequence[str] | None = None):
        self._args = (watchlist_path, min_chars,
                      None if date_languages is None else tuple(date_languages))
        self._workers = max(1, min(workers, os.cpu_count() or 1))
        self._executor: ProcessPoolExecutor | None = None
        self._started: asyncio.Future[ProcessPoolExecutor] | None = None
        # chunks sent and not yet extracted: two a worker, one extracting, one next
        self._room = asyncio.Semaphore(2 * self._workers)

    async def __aenter__(self) -> ExtractionPool:
        # Starting the forkserver and its workers blocks for a while: do it in a
        # thread, so that the first pages are fetched meanwhile.
        self._started = asyncio.ensure_future(asyncio.to_thread(self._start))
        return self

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # the forkserver ends with this process (so do the workers, with the forkserver)
        os.environ[PARENT_VARIABLE] = str(os.getpid())
        context.set_forkserver_preload(["newswatch.forkserver_lifeline", "newswatch.worker"])
        executor = ProcessPoolExecutor(
            self._workers, mp_context=context, initializer=init_worker, initargs=self._args
        )
        # Start the workers now and let trafilatura load its models while the
        # first pages are being fetched, not when they arrive.
        for _ in range(self._workers):
            executor.submit(extract_and_tag, _WARM_UP, None)
        self._executor = executor
        return executor

    async def __aexit__(self, *exc: object) -> None:
        if self._started is not None:
            await asyncio.wait([self._started])
            self._started = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    async def _ready(self) -> ProcessPoolExecutor:
        assert self._started is not None, "use ExtractionPool as an async context manager"
        return await self._started

    async def extract(self, html: str, url: str | None) -> Extraction:
        executor = await self._ready()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, extract_and_tag, html, url)

    async def submit_many(self, pages: Iterable[tuple[str, str | None]]
                          ) -> asyncio.Future[list[Extraction]]:
        """Send a chunk of (html, url) pages to one worker call once the pool has room,
        and return its future. Fetching is several times faster than extraction: a
        caller that fetches while it waits here keeps no more pages than the workers
        can take next; `pages` is read only then (a generator can decode them late)."""
        executor = await self._ready()
        await self._room.acquire()
        try:
            future = asyncio.get_running_loop().run_in_executor(
                executor, extract_and_tag_many, list(pages))
        except BaseException:  # never sent (a pool shut down): its room is free again
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        return future
