"""Staged batches: fetched and extracted pages as Parquet files, merged by one loader.

DuckDB has one writer. When fetching and extraction fan out to many
workers (machines, even), each writes its batch as a Parquet file under a
staging directory, and one loader merges the files into the warehouse: a
file's pages go through the same load as a batch fetched in-process
(`pages.stage_pages`), in one transaction that also records the file's
name, so a file merged twice changes nothing. Merged files move to done/.

A staged file holds one row per page: how the fetch went (with every HTTP
attempt and the raw bytes), the extracted and tagged article, or why the
page was rejected. Analysts can read it too:

    SELECT url, outcome, article.title FROM 'data/staging/*.parquet'
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from newswatch.extractors.fetch import Attempt, FetchResult
from newswatch.extractors.records import Article, Mention, PersonMention, Quote, Reject
from newswatch.stories.copies import Fingerprint, fingerprint_from_row, fingerprint_to_row
from newswatch.stories.novelty import Lead
from newswatch.stories.terms import Terms

from .bulk import append, transaction
from .load import NewArticles, StoryRows
from .pages import Page, PageLoadResult, stage_pages

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TEMP TABLE staged (
    seq INTEGER, url VARCHAR, final_url VARCHAR, status INTEGER, outcome VARCHAR,
    error VARCHAR, bytes BIGINT, elapsed DOUBLE, attempts INTEGER, fetched_at TIMESTAMPTZ,
    etag VARCHAR, last_modified VARCHAR, content_type VARCHAR, encoding VARCHAR, raw BLOB,
    attempt_log STRUCT(url VARCHAR, status INTEGER, error VARCHAR, bytes BIGINT,
                       elapsed DOUBLE, started_at TIMESTAMPTZ)[],
    article STRUCT(text VARCHAR, title VARCHAR, url VARCHAR, canonical_url VARCHAR,
                   outlet VARCHAR, author VARCHAR, published_at TIMESTAMPTZ, language VARCHAR,
                   published_source VARCHAR, dates STRUCT(source VARCHAR, "time" TIMESTAMPTZ)[],
                   mentions STRUCT(entity_id VARCHAR, surface VARCHAR, start_char INTEGER,
                                   end_char INTEGER, sentence VARCHAR, form VARCHAR)[],
                   sketch BIGINT[], term_hashes BIGINT[], term_weights FLOAT[],
                   term_commonness FLOAT[], term_labels VARCHAR[], term_kinds VARCHAR,
                   lead VARCHAR[],
                   people STRUCT(name VARCHAR, surface VARCHAR, start_char INTEGER,
                                 end_char INTEGER, sentence VARCHAR, cue VARCHAR,
                                 near_watched BOOLEAN)[],
                   quotes STRUCT(speaker VARCHAR, text VARCHAR, start_char INTEGER,
                                 end_char INTEGER, score DOUBLE)[]),
    reject STRUCT(item VARCHAR, stage VARCHAR, reason VARCHAR, detail VARCHAR)
)
"""


@dataclass
class MergeResult:
    files: int = 0
    already_merged: int = 0
    pages: int = 0
    loaded: PageLoadResult | None = None

    @property
    def inserted(self) -> int:
        return self.loaded.articles.inserted if self.loaded else 0


def write_batch(pages: Sequence[Page], directory: Path, name: str | None = None) -> Path:
    """Write a batch as `directory/name.parquet`, atomically (a loader never sees half)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = name or uuid.uuid4().hex
    target = directory / f"{name}.parquet"
    partial = directory / f".{name}.parquet.partial"
    con = duckdb.connect()  # in memory: a worker never opens the warehouse
    try:
        con.execute(_SCHEMA)
        append(con, "staged", [_row(i, page) for i, page in enumerate(pages)])
        con.execute(f"COPY staged TO '{_quote(partial)}' (FORMAT parquet, COMPRESSION zstd)")
    finally:
        con.close()
    os.replace(partial, target)
    return target


def read_batch(path: Path) -> list[Page]:
    """The pages of a staged file, as the worker had them."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT * EXCLUDE (seq) FROM read_parquet('{_quote(path)}') ORDER BY seq"
        ).fetchall()
    finally:
        con.close()
    return [_page(row) for row in rows]


def pending(directory: Path) -> list[Path]:
    """Staged files not merged yet, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.parquet"), key=lambda p: (p.stat().st_mtime, p.name))


def merge(con: duckdb.DuckDBPyConnection, directory: Path,
          decide: Callable[[NewArticles, datetime], StoryRows],
          files: Sequence[Path] | None = None) -> MergeResult:
    """Merge staged files (default: all pending) into the warehouse, one transaction each;
    `decide` gives the new articles' stories (see `load.load_batch`)."""
    result = MergeResult()
    done = directory / "done"
    done.mkdir(parents=True, exist_ok=True)
    for path in (pending(directory) if files is None else files):
        pages = read_batch(path)
        with transaction(con):
            merged = con.execute("SELECT 1 FROM staged_batches WHERE name = ?",
                                 [path.name]).fetchall()
            if merged:
                result.already_merged += 1
            else:
                loaded = stage_pages(con, pages, decide, now=datetime.now(UTC))
                con.execute("INSERT INTO staged_batches VALUES (?, ?, ?, now())",
                            [path.name, len(pages), loaded.articles.inserted])
                result.loaded = _add(result.loaded, loaded)
                result.files += 1
                result.pages += len(pages)
        os.replace(path, done / path.name)  # after the commit: a crash here re-merges nothing
    log.info("merged %d staged files (%d pages), %d already merged", result.files,
             result.pages, result.already_merged)
    return result


def _add(total: PageLoadResult | None, more: PageLoadResult) -> PageLoadResult:
    if total is None:
        return more
    total.fetches += more.fetches
    total.raw_pages += more.raw_pages
    total.rejects += more.rejects
    a, b = total.articles, more.articles
    a.inserted += b.inserted
    a.duplicates += b.duplicates
    a.mentions += b.mentions
    a.demonyms += b.demonyms
    a.inserted_ids += b.inserted_ids
    return total


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _row(seq: int, page: Page) -> tuple:
    f, a, r = page.fetch, page.article, page.reject
    attempts = [{"url": t.url, "status": t.status, "error": t.error, "bytes": t.bytes,
                 "elapsed": t.elapsed, "started_at": t.started_at} for t in f.attempt_log]
    article = None
    if a is not None:
        terms = a.terms if isinstance(a.terms, Terms) else None
        sketch = fingerprint_to_row(a.fingerprint) if isinstance(a.fingerprint, Fingerprint) \
            else None
        article = {
            "text": a.text, "title": a.title, "url": a.url, "canonical_url": a.canonical_url,
            "outlet": a.outlet, "author": a.author, "published_at": a.published_at,
            "language": a.language, "published_source": a.published_source,
            "dates": [{"source": source, "time": at} for source, at in a.dates],
            "mentions": [{"entity_id": m.entity_id, "surface": m.surface,
                          "start_char": m.start_char, "end_char": m.end_char,
                          "sentence": m.sentence, "form": m.form} for m in a.mentions],
            "sketch": sketch,
            "term_hashes": terms.hashes.tolist() if terms else None,
            "term_weights": terms.weights.tolist() if terms else None,
            "term_commonness": terms.commonness.tolist() if terms else None,
            "term_labels": list(terms.labels) if terms else None,
            "term_kinds": terms.kinds if terms else None,
            "lead": list(a.lead.sentences) if isinstance(a.lead, Lead) else None,
            "people": [asdict(p) for p in a.people],
            "quotes": [asdict(q) for q in a.quotes],
        }
    reject = None if r is None else {"item": r.item, "stage": r.stage, "reason": r.reason,
                                     "detail": r.detail}
    return (seq, f.url, f.final_url, f.status, f.outcome, f.error, f.bytes, f.elapsed,
            f.attempts, f.fetched_at, f.etag, f.last_modified, f.content_type, f.encoding,
            f.raw, attempts, article, reject)


def _page(row: tuple) -> Page:
    (url, final_url, status, outcome, error, size, elapsed, attempts, fetched_at, etag,
     last_modified, content_type, encoding, raw, attempt_log, article, reject) = row
    fetch = FetchResult(
        url=url, final_url=final_url, status=status, outcome=outcome, error=error,
        bytes=size, elapsed=elapsed, attempts=attempts, fetched_at=fetched_at, etag=etag,
        last_modified=last_modified, content_type=content_type, encoding=encoding,
        raw=bytes(raw) if raw is not None else None,
        attempt_log=[Attempt(**t) for t in attempt_log or []],
    )
    found = None
    if article is not None:
        found = Article(
            text=article["text"], raw="", title=article["title"], url=article["url"],
            canonical_url=article["canonical_url"], outlet=article["outlet"],
            author=article["author"], published_at=article["published_at"],
            # files staged before dates had their sources lack these two fields
            published_source=article.get("published_source"),
            dates=tuple((d["source"], d["time"]) for d in article.get("dates") or []),
            language=article["language"],
            mentions=[Mention(**m) for m in article["mentions"] or []],
            people=[PersonMention(**p) for p in article["people"] or []],
            quotes=[Quote(**q) for q in article["quotes"] or []],
            fingerprint=None if article["sketch"] is None
            else fingerprint_from_row(article["sketch"]),
            terms=None if article["term_hashes"] is None else Terms(
                np.asarray(article["term_hashes"], np.int64),
                np.asarray(article["term_weights"], np.float32),
                np.asarray(article["term_commonness"], np.float32),
                tuple(article["term_labels"]), article["term_kinds"]),
            lead=None if article["lead"] is None else Lead.of(article["lead"],
                                                              article["language"]),
        )
    return Page(fetch, article=found, reject=Reject(**reject) if reject else None)
