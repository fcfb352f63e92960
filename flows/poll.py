"""Poll the configured sources for new links and ingest them: `newswatch poll`.

For each source that is due: fetch it (conditionally), parse it as a feed,
a sitemap (its index's children too) or a site whose feed is discovered,
keep the links that pass its filters and were never seen, record its state,
then ingest all new links through the same stages as `ingest urls`. A source
that fails is backed off (30 min, 1 h, 2 h, ... up to a day) and reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings, settings_for
from newswatch.errors import SourceParseError
from newswatch.extractors.feeds import Link, parse_source
from newswatch.extractors.fetch import Fetcher, FetchResult
from newswatch.extractors.sources import Source, load_sources
from newswatch.extractors.urls import canonical_url
from newswatch.warehouse.bulk import transaction
from newswatch.warehouse.connection import connect
from newswatch.warehouse.sources import (
    SourceState,
    pending_links,
    record_links,
    record_poll,
    source_states,
    sync_sources,
)

from .ingest_urls import UrlIngestSummary, ingest_urls, url_parameters
from .retry import only_transient

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


@dataclass
class PollSummary:
    sources: int = 0
    polled: int = 0
    skipped: int = 0          # backed off after failures
    failed: int = 0
    links: int = 0
    new_links: int = 0
    resumed_links: int = 0    # accepted by an earlier poll that did not get to them
    seconds: float = 0.0
    ingest: UrlIngestSummary | None = None
    reports: list[str] = field(default_factory=list)


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


def _select(poll: SourcePoll, state: SourceState | None, *, backfill: bool, since: date | None,
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


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
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


@flow(name="poll")
async def poll(
    db: str | None = None,
    sources: str | None = None,
    backfill: bool = False,
    since: date | None = None,
    limit: int | None = None,
    settings: Settings | None = None,
) -> PollSummary:
    """Poll the due sources and ingest their new links.

    `backfill` reads every source whole (no conditional request, no backoff),
    keeping links published on or after `since`, at most `limit` per source.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    settings = settings_for(settings, db=db, sources=sources)
    configured = load_sources(settings.resolved_sources())
    now = datetime.now(UTC)
    with connect(settings.db, lock_timeout=settings.lock_timeout) as con:
        sync_sources(con, configured)
        states = source_states(con)
    summary = PollSummary(sources=len(configured))
    due = [s for s in configured if backfill or states[s.source_id].due(now)]
    for s in configured:
        if s not in due:
            st = states[s.source_id]
            summary.skipped += 1
            summary.reports.append(
                f"{s.name}: backed off after {st.consecutive_failures} failures until "
                f"{st.next_poll_at:%Y-%m-%d %H:%M} UTC (last error: {st.last_error})")
    polls: list[SourcePoll] = []
    if due:
        async with Fetcher(settings.fetch_policy()) as fetcher:
            for source in due:
                polls.append(await poll_source(source, states.get(source.source_id), fetcher,
                                               not backfill, settings.max_child_sitemaps))
    selections = [_select(p, states.get(p.source.source_id), backfill=backfill, since=since,
                          limit=limit, first_days=settings.first_poll_days,
                          max_new=settings.max_new_per_poll, now=now) for p in polls]
    interval = timedelta(minutes=settings.poll_interval_minutes)
    new_urls, pending, after = record_polls(str(settings.db), polls, selections, interval,
                                            settings.lock_timeout) if polls else ([], [], [])
    for p, state in zip(polls, after, strict=True):
        summary.polled += 1
        summary.links += len(p.links)
        if p.outcome not in ("ok", "not_modified"):
            summary.failed += 1
            summary.reports.append(
                f"{p.source.name}: {p.outcome}: {p.error} ({state.consecutive_failures} "
                f"failures in a row; next try after {state.next_poll_at:%Y-%m-%d %H:%M} UTC)")
        for problem in p.problems:
            summary.reports.append(f"{p.source.name}: {problem}")
    for report_line in summary.reports:
        logger.warning(report_line)
    summary.new_links = len(new_urls)
    summary.resumed_links = len(pending) - len(set(pending) & set(new_urls))
    if summary.resumed_links:
        logger.warning("%d links accepted earlier were not done (an interrupted poll): "
                       "ingesting them now", summary.resumed_links)
    if pending:  # past Prefect's limit on parameters, as a file (see url_parameters)
        with url_parameters(pending) as given:
            summary.ingest = await ingest_urls(**given, db=str(settings.db), settings=settings)
    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info("sources: %d, polled: %d, backed off: %d, failed: %d, links: %d, new: %d, "
                "ingested: %d, %.2f s", summary.sources, summary.polled, summary.skipped,
                summary.failed, summary.links, summary.new_links,
                summary.ingest.ingested if summary.ingest else 0, summary.seconds)
    await create_table_artifact(
        key="poll-counts", description="Counts of the last poll",
        table=[{"count": k, "value": v} for k, v in (
            ("sources", summary.sources), ("polled", summary.polled),
            ("backed off", summary.skipped), ("failed", summary.failed),
            ("links listed", summary.links), ("new links", summary.new_links),
            ("resumed links", summary.resumed_links),
            *_ingest_counts(summary.ingest), ("seconds", summary.seconds))])
    return summary


def _ingest_counts(ingest: UrlIngestSummary | None) -> list[tuple[str, int]]:
    """What became of the new links (the ingest's own artifact has the details)."""
    names = ("fetched", "fetch_failed", "extracted", "not_articles", "tagged", "ingested",
             "mentions")
    return [(name.replace("_", " "), getattr(ingest, name) if ingest else 0) for name in names]
