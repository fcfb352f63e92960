"""robots.txt: fetched once per origin, cached with its failures, obeyed for our user agent.

    robots = RobotsCache(user_agent, download)
    if await robots.allowed("https://example.com/news/1"): ...

`download(url)` is the fetcher's: it returns (status, body), or None when the
server could not be reached. A 4xx robots.txt allows everything; a 5xx or an
unreachable server is logged and, as this pipeline's policy, allows everything too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from protego import Protego

__all__ = ["MAX_CRAWL_DELAY", "MAX_ROBOTS_BYTES", "Robots", "RobotsCache", "origin_of"]

logger = logging.getLogger(__name__)

MAX_CRAWL_DELAY = 30.0  # a site's Crawl-delay beyond this would stall a batch for minutes
MAX_ROBOTS_BYTES = 500_000  # what Google reads of a robots.txt; the rest is ignored

Download = Callable[[str], Awaitable[tuple[int, bytes] | None]]


def origin_of(url: httpx.URL) -> str:
    """scheme://host:port, the unit robots.txt applies to."""
    port = url.port or (443 if url.scheme == "https" else 80)
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{port}"


@dataclass(frozen=True)
class Robots:
    """The rules of one origin; `parser` is None when everything is allowed."""

    parser: Protego | None
    user_agent: str

    def allowed(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, self.user_agent)

    @property
    def crawl_delay(self) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(self.user_agent)
        return min(float(delay), MAX_CRAWL_DELAY) if delay else None


class RobotsCache:
    """One robots.txt per origin, downloaded by the first URL that needs it."""

    def __init__(self, user_agent: str, download: Download):
        self.user_agent = user_agent
        self._download = download
        self._rules: dict[str, Robots] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, url: httpx.URL) -> Robots:
        origin = origin_of(url)
        if origin in self._rules:
            return self._rules[origin]
        # many URLs of one site arrive together: only the first downloads robots.txt
        async with self._locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._rules:
                self._rules[origin] = await self._load(origin)
                self._locks.pop(origin, None)
        return self._rules[origin]

    async def allowed(self, url: str) -> bool:
        return (await self.get(httpx.URL(url))).allowed(url)

    async def _load(self, origin: str) -> Robots:
        robots_url = f"{origin}/robots.txt"
        answer = await self._download(robots_url)
        if answer is None:
            logger.warning("robots.txt unreachable at %s: allowing all", robots_url)
            return Robots(None, self.user_agent)
        status, body = answer
        if status >= 500:
            logger.warning("robots.txt at %s answered %d: allowing all", robots_url, status)
            return Robots(None, self.user_agent)
        if status >= 300:  # 4xx: no rules; a redirect the download could not follow: same
            logger.debug("no robots.txt at %s (HTTP %d)", robots_url, status)
            return Robots(None, self.user_agent)
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return Robots(Protego.parse(text), self.user_agent)
