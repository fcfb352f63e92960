"""Ingest seed files: read and clean -> tag -> match stories and load, a task per batch.

Each task is a thin call into extractors/ or warehouse/. Reading and tagging
are deterministic and never retried; loading retries only when the
warehouse is locked by another process.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings, settings_for
from newswatch.errors import SeedFileError
from newswatch.extractors.annotate import annotate
from newswatch.extractors.records import Article, Reject
from newswatch.extractors.seeds import iter_seed_files, load_manifest, read_seed
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import LoadResult, load_batch, record_rejects, sync_entities

from .retry import warehouse_task
from .stories import RecentStories


@dataclass
class IngestSummary:
    """The counts of one ingest run, as logged and returned."""

    files: int = 0
    ingested: int = 0
    already_held: int = 0
    rejected: int = 0
    mentions: int = 0
    demonyms: int = 0
    seconds: float = 0.0
    rejects: list[Reject] = field(default_factory=list)


@task(cache_policy=NO_CACHE)
def read_seed_batch(
    paths: list[Path], manifest: dict[str, dict], max_bytes: int
) -> tuple[list[Article], list[Reject]]:
    """Read and clean a batch of seed files; a bad file becomes a Reject, not a failure."""
    articles, rejects = [], []
    for path in paths:
        try:
            articles.append(read_seed(path, manifest.get(path.name), max_bytes=max_bytes))
        except SeedFileError as exc:
            rejects.append(Reject(str(path), "read", exc.reason, str(exc)))
    return articles, rejects


@task(cache_policy=NO_CACHE)
def tag_batch(articles: list[Article], tagger: Tagger) -> list[Article]:
    return [annotate(article, tagger) for article in articles]


@warehouse_task
def load_seed_batch(
    db: Path, articles: list[Article], rejects: list[Reject], tagger: Tagger,
    lock_timeout: float, recent: RecentStories,
) -> LoadResult:
    """Match the batch's new articles to stories and load it in one transaction."""
    with connect(db, lock_timeout=lock_timeout) as con:
        sync_entities(con, tagger.watchlist)
        result = load_batch(con, articles, partial(recent.decide, con))
        record_rejects(con, rejects)
    return result


@flow(name="ingest-seeds", log_prints=False)
async def ingest_seeds(
    directory: str | None = None,
    db: str | None = None,
    watchlist: str | None = None,
    batch_size: int | None = None,
    settings: Settings | None = None,
) -> IngestSummary:
    """Ingest every *.txt seed file of `directory` into the warehouse at `db`
    (`settings`: the caller's, else loaded here; see config.settings_for)."""
    logger = get_run_logger()
    started = time.perf_counter()
    settings = settings_for(settings, db=db, seeds_dir=directory, watchlist=watchlist,
                            batch_size=batch_size)
    seeds_dir = settings.resolved_seeds_dir()
    tagger = Tagger(load_watchlist(settings.resolved_watchlist()))
    manifest = load_manifest(settings.resolved_manifest())
    paths = iter_seed_files(seeds_dir)
    logger.info("ingesting %d seed files from %s into %s", len(paths), seeds_dir, settings.db)

    summary = IngestSummary(files=len(paths))
    recent = RecentStories()
    for i in range(0, max(len(paths), 1), settings.batch_size):
        batch = paths[i:i + settings.batch_size]
        articles, rejects = read_seed_batch(batch, manifest, settings.max_seed_bytes)
        for reject in rejects:
            logger.warning("skipped %s", reject.detail)
        articles = tag_batch(articles, tagger)
        loaded = load_seed_batch(
            settings.db, articles, rejects, tagger, settings.lock_timeout, recent
        )
        summary.ingested += loaded.inserted
        summary.already_held += loaded.duplicates
        summary.rejected += len(rejects)
        summary.mentions += loaded.mentions
        summary.demonyms += loaded.demonyms
        summary.rejects.extend(rejects)

    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "seed files: %d, ingested: %d, already held: %d, rejected: %d, mentions: %d, "
        "demonyms: %d, %.2f s", summary.files, summary.ingested, summary.already_held,
        summary.rejected, summary.mentions, summary.demonyms, summary.seconds,
    )
    counts = {k: v for k, v in asdict(summary).items() if k != "rejects"}
    reasons = Counter(reject.reason for reject in summary.rejects)
    await create_table_artifact(
        key="ingest-seeds-counts",
        table=[{"count": k, "value": v} for k, v in counts.items()]
        + [{"count": f"rejected: {k}", "value": v} for k, v in sorted(reasons.items())],
        description="Counts of the last seed ingest",
    )
    return summary
