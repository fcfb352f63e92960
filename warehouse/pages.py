"""Loading fetched pages: every fetch attempt, every raw page, and the articles.

One transaction per batch, as for seeds: `fetches` rows, `raw_pages`, the new
articles with their mentions, and the rejects land together or not at all.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from newswatch.extractors.identity import article_id
from newswatch.extractors.records import Article, Reject

from .bulk import append, transaction
from .load import LoadResult, NewArticles, StoryRows, record_rejects, select_new, stage_articles
from .load_tuning import collector_paused, small_scan_cache

if TYPE_CHECKING:
    from newswatch.extractors.fetch import FetchResult


@dataclass(frozen=True)
class PackedRaw:
    """A fetched page's bytes as raw_pages stores them: compressed, with their hash."""

    sha256: str
    size: int
    zlib: bytes


@dataclass
class Page:
    """One URL of a batch: how its fetch went and what extraction made of it."""

    fetch: FetchResult
    article: Article | None = None        # tagged, when the page is an article
    reject: Reject | None = None          # why it is not, when it is not
    packed: PackedRaw | None = None       # the raw bytes, once `pack` took them from `fetch`


def pack(page: Page) -> Page:
    """The page as a batch holds it until its load: the raw bytes compressed (as
    raw_pages stores them; the load would compress them anyway). Real pages average
    190 KB: a batch waiting for its load held about 1 MB a page, now about 40 KB."""
    fetch = replace(page.fetch, raw=None)
    raw = page.fetch.raw
    packed = PackedRaw(hashlib.sha256(raw).hexdigest(), len(raw), zlib.compress(raw, 6)) \
        if raw else page.packed
    return Page(fetch, page.article, page.reject, packed)


@dataclass
class PageLoadResult:
    fetches: int = 0
    raw_pages: int = 0
    articles: LoadResult = field(default_factory=LoadResult)
    rejects: int = 0


def validators(con: duckdb.DuckDBPyConnection, urls: Iterable[str]) -> dict[str, tuple]:
    """{url: (etag, last_modified)} of each URL's latest good fetch, for conditional GETs."""
    urls = list(urls)
    if not urls:
        return {}
    rows = con.execute(
        "SELECT url, etag, last_modified FROM fetch_validators WHERE url IN "
        "(SELECT unnest(?::VARCHAR[]))", [urls]
    ).fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


def load_pages(
    con: duckdb.DuckDBPyConnection,
    pages: Sequence[Page],
    decide: Callable[[NewArticles, datetime], StoryRows],
    *,
    now: datetime | None = None,
) -> PageLoadResult:
    """Record a batch of fetched pages in one transaction; `decide` gives the new
    articles' stories (the flow's story matching, as for `load.load_batch`)."""
    with collector_paused(), transaction(con):
        return stage_pages(con, pages, decide, now=now or datetime.now(UTC))


def stage_pages(
    con: duckdb.DuckDBPyConnection, pages: Sequence[Page],
    decide: Callable[[NewArticles, datetime], StoryRows], *, now: datetime,
) -> PageLoadResult:
    """`load_pages` inside the caller's transaction (the staged-batch merge adds its own row)."""
    raw = _new_raw_pages(con, pages)
    new = select_new(con, [p.article for p in pages if p.article is not None])
    result = PageLoadResult()
    result.articles = stage_articles(con, new, decide(new, now), raw_kind=None,
                                     encoding=None, now=now)
    held = result.articles.held_ids
    fetch_rows = []
    for page in pages:
        aid = article_id(page.article) if page.article is not None else None
        fetch_rows += _fetch_rows(page.fetch, aid if aid in held else None)
    result.fetches = append(con, "fetches", fetch_rows)
    result.raw_pages = append(con, "raw_pages", [_raw_row(f, r) for f, r in raw])
    result.rejects = record_rejects(con, [p.reject for p in pages if p.reject], now=now)
    return result


def _new_raw_pages(con: duckdb.DuckDBPyConnection,
                   pages: Sequence[Page]) -> list[tuple[FetchResult, PackedRaw]]:
    """(fetch, raw) of the batch's raw pages the warehouse does not hold yet:
    a page's unchanged version (the same bytes from the same URL) is kept once."""
    first: dict[tuple[str, str], tuple[FetchResult, PackedRaw]] = {}
    for page in pages:
        if page.packed is None and page.fetch.raw:
            page = pack(page)
        if page.packed is not None:
            first.setdefault((page.fetch.url, page.packed.sha256), (page.fetch, page.packed))
    if not first:
        return []
    con.execute("CREATE TEMP TABLE stage_raw_keys (url VARCHAR, sha256 VARCHAR)")
    append(con, "stage_raw_keys", list(first))
    with small_scan_cache(con):
        held = set(con.execute(
            "SELECT s.url, s.sha256 FROM stage_raw_keys s WHERE EXISTS"
            " (SELECT 1 FROM raw_pages r WHERE r.url = s.url AND r.sha256 = s.sha256)"
        ).fetchall())
    con.execute("DROP TABLE stage_raw_keys")
    return [found for key, found in first.items() if key not in held]


def _raw_row(f: FetchResult, raw: PackedRaw) -> tuple:
    return (f.url, f.final_url, raw.sha256, f.encoding, f.content_type, raw.size, raw.zlib,
            f.fetched_at)


def _fetch_rows(f: FetchResult, article: str | None) -> list[tuple]:
    """One `fetches` row per HTTP attempt; the last one carries the fetch's outcome."""
    last = (f.url, f.final_url, len(f.attempt_log), f.status, f.outcome, f.error, f.bytes,
            f.elapsed, f.etag, f.last_modified, f.content_type, f.encoding, article,
            f.fetched_at)
    rows = []
    for number, attempt in enumerate(f.attempt_log[:-1], start=1):
        redirected = attempt.status is not None and 300 <= attempt.status < 400
        rows.append((f.url, attempt.url, number, attempt.status,
                     "redirected" if redirected else "retried", attempt.error, attempt.bytes,
                     attempt.elapsed, None, None, None, None, None, attempt.started_at))
    if f.attempt_log:  # the last request's own URL and status, the fetch's outcome
        final = f.attempt_log[-1]
        last = (f.url, final.url, *last[2:])
    return [*rows, last]
