"""Polling one source: fetch it (conditionally), parse it as a feed, a sitemap (its
index's children too) or a site whose feed is discovered, pick the links that pass
its filters, and record every source's links and state in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from newswatch.errors import SourceParseError
from newswatch.extractors.feeds import Link, parse_source
from newswatch.extractors.fetch import Fetcher, FetchResult
from newswatch.extractors.sources import Source
from newswatch.extractors.urls import canonical_url
from newswatch.warehouse.bulk import transaction
from newswatch.warehouse.connection import connect
from newswatch.warehouse.sources import SourceState, pending_links, record_links, record_poll

from .retry import warehouse_task

_EXPECTED = {"feed": "feed", "sitemap": "sitemap", "site": None}


@dataclass
class SourcePoll:
    """What polling one source found."""

    source: Source
    outcome: str = "ok"
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    feed_url: str | None = None
    links: list[Link] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def _fetch(fetcher: Fetcher, url: str, state: SourceState | None,
                 conditional: bool) -> FetchResult:
    etag = state.etag if state and conditional else None
    modified = state.last_modified if state and conditional else None
    return await fetcher.fetch(url, etag=etag, last_modified=modified, document=True)


@task(cache_policy=NO_CACHE)
async def poll_source(
    source: Source, state: SourceState | None, fetcher: Fetcher, conditional: bool,
    max_children: int,
) -> SourcePoll:
    """Fetch and parse one source; every failure becomes an outcome, never an exception."""
    result = SourcePoll(source)
    url = (state.feed_url if state and source.kind == "site" and state.feed_url
           else source.url)
    try:
        fetched = await _fetch(fetcher, url, state, conditional)
        result.etag, result.last_modified = fetched.etag, fetched.last_modified
        if fetched.outcome != "ok":
            result.outcome, result.error = fetched.outcome, fetched.error
            return result
        base = fetched.final_url or url
        expected = "feed" if url != source.url else _EXPECTED[source.kind]
        parsed = parse_source(fetched.raw or b"", base, expected)
        result.problems += parsed.problems
        if parsed.kind == "html":  # a site: follow the first feed it advertises
            if not parsed.feeds:
                result.outcome, result.error = "no_feed", f"no feed found on {base}"
                return result
            result.feed_url = parsed.feeds[0]
            feed = await fetcher.fetch(result.feed_url, document=True)
            if feed.outcome != "ok":
                result.outcome, result.error = feed.outcome, feed.error
                return result
            parsed = parse_source(feed.raw or b"", feed.final_url or result.feed_url, "feed")
            result.problems += parsed.problems
        result.links = list(parsed.links)
        seen = {canonical_url(base) or base}
        for child in parsed.children[:max_children]:  # a sitemap index, one level down
            if child in seen:
                continue
            seen.add(child)
            page = await fetcher.fetch(child, document=True)
            if page.outcome != "ok":
                result.problems.append(f"child sitemap {child}: {page.error or page.outcome}")
                continue
            try:
                result.links += parse_source(page.raw or b"", child, "sitemap").links
            except SourceParseError as exc:
                result.problems.append(f"child sitemap {child}: {exc}")
        if len(parsed.children) > max_children:
            result.problems.append(f"only the first {max_children} of "
                                   f"{len(parsed.children)} child sitemaps were read")
    except SourceParseError as exc:
        result.outcome, result.error = exc.reason, str(exc)
    return result


def select_links(poll: SourcePoll, state: SourceState | None, *, backfill: bool, since: date | None,
            limit: int | None, first_days: int, max_new: int, now: datetime) -> list[bool]:
    """Which links pass the source's filters and the time window."""
    first_poll = state is None or state.last_ok_at is None
    if backfill:
        oldest = datetime.combine(since, datetime.min.time(), UTC) if since else None
    else:  # a new source's first poll takes recent links, not its whole history
        oldest = now - timedelta(days=first_days) if first_poll else None
    cap = limit if backfill else max_new
    accepted, taken = [], 0
    # newest first, so that a cap keeps the latest links
    order = sorted(range(len(poll.links)), key=lambda i: poll.links[i].published_at
                   or datetime.min.replace(tzinfo=UTC), reverse=True)
    chosen = set()
    for i in order:
        link = poll.links[i]
        text = " ".join(filter(None, (link.title, link.summary)))
        if not poll.source.accepts(link.url, text):
            continue
        if oldest and link.published_at and link.published_at < oldest:
            continue
        if cap is not None and taken >= cap:
            break
        chosen.add(i)
        taken += 1
    for i in range(len(poll.links)):
        accepted.append(i in chosen)
    return accepted


@warehouse_task
def record_polls(db: str, polls: list[SourcePoll], selections: list[list[bool]],
                 interval: timedelta, lock_timeout: float,
                 ) -> tuple[list[str], list[str], list[SourceState]]:
    """Record every source's links and state in one transaction; the new links, and
    every link to ingest now (the new ones and those earlier polls left undone)."""
    new_urls: list[str] = []
    states = []
    with connect(db, lock_timeout=lock_timeout) as con, transaction(con):
        for poll, accepted in zip(polls, selections, strict=True):
            new = record_links(con, poll.source.source_id, poll.links, accepted)
            new = [u for u in new if u not in new_urls]
            new_urls += new
            states.append(record_poll(
                con, poll.source.source_id, outcome=poll.outcome, error=poll.error,
                etag=poll.etag, last_modified=poll.last_modified, feed_url=poll.feed_url,
                items=len(poll.links), new_links=len(new), interval=interval))
        pending = pending_links(con)
    return new_urls, pending, states
