"""Poll the configured sources for new links and ingest them: `newswatch poll`.

For each source that is due: poll it (flows/polling.py), keep the links that
pass its filters and were never seen, record its state, then ingest all new
links through the same stages as `ingest urls`. A source that fails is backed
off (30 min, 1 h, 2 h, ... up to a day) and reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from newswatch.config import Settings, settings_for
from newswatch.extractors.fetch import Fetcher
from newswatch.extractors.sources import load_sources
from newswatch.warehouse.connection import connect
from newswatch.warehouse.sources import (
    source_states,
    sync_sources,
)

from .ingest_urls import ingest_urls
from .polling import SourcePoll, poll_source, record_polls, select_links
from .url_counts import UrlIngestSummary
from .url_list import url_parameters


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
    selections = [select_links(p, states.get(p.source.source_id), backfill=backfill, since=since,
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
