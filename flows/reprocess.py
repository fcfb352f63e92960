"""Re-extract and re-tag stored raw documents, without fetching: `newswatch reprocess`.

Run it after the extractor or the watchlist changes. Batches are read,
processed (pages on every core) and replaced one transaction at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings, settings_for
from newswatch.extractors.annotate import annotate
from newswatch.extractors.records import Article
from newswatch.extractors.seeds import load_manifest, parse_seed_text
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import sync_entities
from newswatch.warehouse.reprocess import (
    RawRef,
    ReplaceResult,
    raw_refs,
    read_page_raw,
    read_seed_raw,
    replace_articles,
)

from .pool import ExtractionPool
from .progress import report
from .retry import warehouse_task
from .stories import RecentStories, story_article


@dataclass
class ReprocessSummary:
    documents: int = 0
    articles: int = 0
    changed: int = 0
    unchanged: int = 0
    new_articles: int = 0
    not_articles: int = 0
    mentions: int = 0
    seconds: float = 0.0


@warehouse_task
def read_batch(db: str, refs: list[RawRef], lock_timeout: float) -> tuple[dict, dict]:
    with connect(db, lock_timeout=lock_timeout) as con:
        seeds = read_seed_raw(con, [r.key for r in refs if r.kind == "seed_file"])
        pages = read_page_raw(con, [r.key for r in refs if r.kind == "html"])
    return seeds, pages


@task(cache_policy=NO_CACHE)
async def process_batch(
    refs: list[RawRef], seeds: dict, pages: dict, manifest: dict, tagger: Tagger,
    pool: ExtractionPool,
) -> tuple[list[Article], int]:
    articles, not_articles = [], 0
    for ref in refs:
        if ref.kind == "seed_file" and ref.key in seeds:
            article = parse_seed_text(ref.name, seeds[ref.key], manifest.get(ref.name))
            articles.append(annotate(article, tagger))
        elif ref.kind == "html" and ref.key in pages:
            final_url, encoding, raw = pages[ref.key]
            html = raw.decode(encoding or "utf-8", errors="replace")
            extraction = await pool.extract(html, final_url or ref.key)
            if extraction.article is None:
                not_articles += 1
                continue
            articles.append(replace(extraction.article, url=ref.key))
    return articles, not_articles


@warehouse_task
def replace_batch(
    db: str, articles: list[Article], lock_timeout: float, recent: RecentStories,
) -> ReplaceResult:
    """Replace a batch in one transaction: held articles keep their stories; articles
    found anew are matched to stories as at ingest."""
    with connect(db, lock_timeout=lock_timeout) as con:
        return replace_articles(con, articles, story_article, partial(recent.decide, con))


@flow(name="reprocess")
async def reprocess(
    since: date | None = None, db: str | None = None, batch_size: int | None = None,
    settings: Settings | None = None,
) -> ReprocessSummary:
    """Re-extract and re-tag raw documents stored on or after `since` (default: all)."""
    logger = get_run_logger()
    started = time.perf_counter()
    settings = settings_for(settings, db=db, url_batch_size=batch_size)
    watchlist_path = settings.resolved_watchlist()
    tagger = Tagger(load_watchlist(watchlist_path))
    manifest = load_manifest(settings.resolved_manifest())
    with connect(settings.db, lock_timeout=settings.lock_timeout) as con:
        sync_entities(con, tagger.watchlist)
        refs = raw_refs(con, since)
    summary = ReprocessSummary(documents=len(refs))
    logger.info("re-processing %d raw documents stored since %s", len(refs), since or "ever")
    report(0, len(refs))
    recent = RecentStories()
    async with ExtractionPool(str(watchlist_path), settings.extract_workers,
                              settings.min_article_chars, settings.date_languages) as pool:
        for i in range(0, len(refs), settings.url_batch_size):
            batch = refs[i:i + settings.url_batch_size]
            seeds, pages = read_batch(str(settings.db), batch, settings.lock_timeout)
            articles, not_articles = await process_batch(batch, seeds, pages, manifest,
                                                         tagger, pool)
            replaced = replace_batch(str(settings.db), articles, settings.lock_timeout, recent)
            summary.articles += len(articles)
            summary.changed += replaced.updated
            summary.unchanged += replaced.unchanged
            summary.new_articles += replaced.added.inserted if replaced.added else 0
            summary.not_articles += not_articles
            summary.mentions += replaced.mentions
            report(min(i + len(batch), len(refs)), len(refs))
    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info("raw documents: %d, articles: %d (changed %d, unchanged %d, new %d), "
                "not articles: %d, %.2f s", summary.documents, summary.articles,
                summary.changed, summary.unchanged, summary.new_articles,
                summary.not_articles, summary.seconds)
    await create_table_artifact(
        key="reprocess-counts",
        table=[{"count": k, "value": v} for k, v in vars(summary).items()],
        description="Counts of the last reprocess run")
    return summary
