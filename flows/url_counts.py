"""What a URL ingest did: its counts, logged, returned and attached as an artifact."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact

from newswatch.extractors.records import Reject
from newswatch.warehouse.load import LoadResult
from newswatch.warehouse.pages import Page


@dataclass
class UrlIngestSummary:
    """The counts of one URL ingest run, as logged, returned and attached as an artifact."""

    urls: int = 0
    fetched: int = 0
    not_modified: int = 0
    fetch_failed: int = 0
    not_articles: int = 0
    ingested: int = 0
    already_held: int = 0
    mentions: int = 0
    extracted: int = 0        # pages that were articles
    tagged: int = 0           # articles with at least one watched entity
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # see StageTimes
    outcomes: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    pages_done: int = 0       # pages through a load, for the progress line

    def add_load(self, pages: list[Page], loaded: LoadResult) -> None:
        """Count a loaded batch: its pages, and what the load did."""
        self.add_pages(pages)
        self.add_loaded(loaded)
        self.pages_done += len(pages)

    def add_loaded(self, loaded: LoadResult) -> None:
        self.ingested += loaded.inserted
        self.already_held += loaded.duplicates
        self.mentions += loaded.mentions

    def add_pages(self, pages: list[Page]) -> None:
        """Count a batch's fetch outcomes, articles and rejects."""
        for page in pages:
            outcome = page.fetch.outcome
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            if outcome == "ok":
                self.fetched += 1
            elif outcome == "not_modified":
                self.not_modified += 1
            if page.article is not None:
                self.extracted += 1
                self.tagged += bool(page.article.mentions)
            if page.reject is not None:
                self.rejects.append(page.reject)
                if page.reject.stage == "extract":
                    self.not_articles += 1
                    reason = page.reject.reason
                    self.outcomes[reason] = self.outcomes.get(reason, 0) + 1
                else:
                    self.fetch_failed += 1


async def finish(summary: UrlIngestSummary, invalid: list[Reject],
                  started: float) -> UrlIngestSummary:
    """Log the run's counts and attach them as a table artifact."""
    logger = get_run_logger()
    summary.fetch_failed += len(invalid)
    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "URLs: %d, fetched: %d, not modified: %d, failed: %d, extracted: %d, "
        "not articles: %d, tagged: %d, ingested: %d, already held: %d, mentions: %d, %.2f s",
        summary.urls, summary.fetched, summary.not_modified, summary.fetch_failed,
        summary.extracted, summary.not_articles, summary.tagged, summary.ingested,
        summary.already_held, summary.mentions, summary.seconds,
    )
    await create_table_artifact(key="ingest-urls-counts", table=count_rows(summary),
                                description="Counts of the last URL ingest")
    return summary


def count_rows(summary: UrlIngestSummary) -> list[dict]:
    """The artifact's rows: the counts, then every reject reason and fetch outcome."""
    counts = {k: v for k, v in asdict(summary).items()
              if k not in ("rejects", "outcomes", "stage_seconds", "pages_done")}
    rows = [{"count": k, "value": v} for k, v in counts.items()]
    rows += [{"count": f"seconds: {k}", "value": v} for k, v in summary.stage_seconds.items()]
    rejected: dict[str, int] = {}
    for reject in summary.rejects:
        key = f"rejected: {reject.stage} {reject.reason}"
        rejected[key] = rejected.get(key, 0) + 1
    rows += [{"count": k, "value": v} for k, v in sorted(rejected.items())]
    rows += [{"count": f"outcome: {k}", "value": v} for k, v in sorted(summary.outcomes.items())]
    return rows
