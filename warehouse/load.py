"""Bulk loading into the warehouse: one transaction per batch, idempotent.

The batch's keys go through DuckDB's Appender into a temporary table, where
two joins find the articles the warehouse holds already (same article_id, or
the same content under another id), with DuckDB's cache of the blocks they
scan kept small; the rows of the others go through the Appender straight into
their tables. A batch that fails half-way rolls back whole: the warehouse
holds all of it or none.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from newswatch.extractors.identity import article_id, content_hash
from newswatch.extractors.records import Article, Reject

from .bulk import append, collector_paused, small_scan_cache, transaction
from .stories import RecentStories, assign_stories

if TYPE_CHECKING:
    from newswatch.extractors.watchlist import Watchlist

log = logging.getLogger(__name__)

# the articles table's columns, in order: the Appender fills them by position
ARTICLE_COLUMNS = ("article_id", "url", "canonical_url", "seed_file", "title", "outlet",
                   "author", "published_at", "first_seen_at", "language", "text",
                   "content_hash", "story_id")
# what each article adds besides itself, one row per item
CHILD_TABLES = ("mentions", "demonym_mentions", "person_mentions", "quotes")


def child_rows(aid: str, article: Article) -> dict[str, list[tuple]]:
    """The rows of one article in each of CHILD_TABLES (its mentions, demonyms,
    people and quotes), for the first load and for reprocessing alike."""
    rows: dict[str, list[tuple]] = {table: [] for table in CHILD_TABLES}
    for m in article.mentions:
        table = "mentions" if m.form == "name" else "demonym_mentions"
        rows[table].append((aid, m.entity_id, m.surface, m.start_char, m.end_char, m.sentence))
    rows["person_mentions"] = [(aid, p.name, p.surface, p.start_char, p.end_char, p.sentence,
                                p.cue, p.near_watched) for p in article.people]
    rows["quotes"] = [(aid, q.speaker, q.text, q.start_char, q.end_char, q.score)
                      for q in article.quotes]
    return rows


@dataclass
class LoadResult:
    """What one batch did to the warehouse."""

    inserted: int = 0
    duplicates: int = 0
    mentions: int = 0
    demonyms: int = 0
    inserted_ids: list[str] = field(default_factory=list)
    # every article id of the batch that the warehouse holds after the load
    held_ids: set[str] = field(default_factory=set)


def load_batch(
    con: duckdb.DuckDBPyConnection,
    articles: Sequence[Article],
    *,
    raw_kind: str = "seed_file",
    encoding: str | None = "utf-8",
    now: datetime | None = None,
    recent: RecentStories | None = None,
) -> LoadResult:
    """Load tagged articles, their raw text and their mentions in one transaction.

    `recent`: the story candidates kept by a run of many batches (see RecentStories).
    """
    with collector_paused(), transaction(con):
        result = stage_articles(con, articles, raw_kind=raw_kind, encoding=encoding,
                                now=now or datetime.now(UTC), recent=recent)
    log.info("loaded %d new articles (%d already held), %d mentions",
             result.inserted, result.duplicates, result.mentions)
    return result


def stage_articles(
    con: duckdb.DuckDBPyConnection,
    articles: Sequence[Article],
    *,
    raw_kind: str | None,
    encoding: str | None,
    now: datetime,
    recent: RecentStories | None = None,
) -> LoadResult:
    """Insert the articles the warehouse does not hold yet, inside the caller's transaction.

    `raw_kind=None` stores no raw document (fetched pages keep theirs in raw_pages).
    """
    article_rows, raw_rows, keys = [], [], []
    children: dict[str, list[tuple]] = {table: [] for table in CHILD_TABLES}
    kept: list[Article] = []
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    copy_ids: list[str] = []  # copies of an earlier text of the batch, under their own id
    batch_duplicates = 0
    for article in articles:
        aid, digest = article_id(article), article.text_hash or content_hash(article.text)
        # Within a batch, the first copy of an id or of a text wins.
        if aid in seen_ids or digest in seen_hashes:
            batch_duplicates += 1
            copy_ids.append(aid)
            continue
        seen_ids.add(aid)
        seen_hashes.add(digest)
        kept.append(article)
        keys.append((aid, digest))
        article_rows.append((  # as ARTICLE_COLUMNS; story_id set once matched
            aid, article.url, article.canonical_url, article.seed_file, article.title,
            article.outlet, article.author, article.published_at, now, article.language,
            article.text, digest, aid,
        ))
        if raw_kind is not None:
            raw = article.raw.encode("utf-8")
            raw_rows.append((aid, raw_kind, encoding, len(raw), zlib.compress(raw, 6), now))
        for table, rows in child_rows(aid, article).items():
            children[table] += rows

    result = LoadResult()
    # New = neither its id nor its content is in the warehouse yet. Only the keys
    # are staged for that (a copy's id too, with no content: is it held?); the
    # new articles' rows then go straight into their tables.
    con.execute("CREATE TEMP TABLE stage_keys (article_id VARCHAR, content_hash VARCHAR)")
    append(con, "stage_keys", keys + [(aid, None) for aid in dict.fromkeys(copy_ids)
                                      if aid not in seen_ids])
    # Two joins (hash joins; one statement each: DuckDB runs the pair in one
    # plan at nearly twice their time apart).
    with small_scan_cache(con):
        held = {r[0] for r in con.execute(
            "SELECT s.article_id FROM stage_keys s"
            " WHERE EXISTS (SELECT 1 FROM articles a WHERE a.article_id = s.article_id)"
        ).fetchall()}
        copies = {r[0] for r in con.execute(
            "SELECT s.article_id FROM stage_keys s JOIN articles a USING (content_hash)"
        ).fetchall()}
    con.execute("DROP TABLE stage_keys")
    ids = [aid for aid, _ in keys if aid not in held and aid not in copies]  # batch order
    new = set(ids)
    # Copies and follow-ups join the story of an earlier article.
    by_id = {row[0]: article for row, article in zip(article_rows, kept, strict=True)}
    stories = assign_stories(con, [(aid, by_id[aid]) for aid in ids], now, recent)
    every = len(ids) == len(article_rows)  # the usual case: every article is new

    def of_new(rows: list[tuple]) -> list[tuple]:  # (each row starts with its article id)
        return rows if every else [row for row in rows if row[0] in new]

    append(con, "articles", [(*row[:-1], stories[row[0]]) for row in of_new(article_rows)])
    append(con, "raw_documents", of_new(raw_rows))
    added = {table: append(con, table, of_new(rows)) for table, rows in children.items()}
    result.inserted_ids = sorted(ids)
    result.held_ids = held | new
    result.inserted = len(ids)
    result.duplicates = len(article_rows) - len(ids) + batch_duplicates
    result.mentions, result.demonyms = added["mentions"], added["demonym_mentions"]
    return result


def sync_entities(con: duckdb.DuckDBPyConnection, watchlist: Watchlist) -> int:
    """Make the `entities` table match the watchlist; return the entity count."""
    rows = [(e.entity_id, e.name, e.kind, list(e.aliases), list(e.demonyms)) for e in watchlist]
    with transaction(con):
        con.execute("DELETE FROM entities")
        return append(con, "entities", rows)


def record_rejects(
    con: duckdb.DuckDBPyConnection, rejects: Sequence[Reject], *, now: datetime | None = None
) -> int:
    """Record inputs that could not be ingested."""
    now = now or datetime.now(UTC)
    return append(con, "rejects", [(r.item, r.stage, r.reason, r.detail, now) for r in rejects])


def read_raw(con: duckdb.DuckDBPyConnection, article_id_: str) -> str | None:
    """The raw document stored for an article, decompressed."""
    rows = con.execute(
        "SELECT raw_zlib FROM raw_documents WHERE article_id = ?", [article_id_]
    ).fetchall()
    return zlib.decompress(rows[0][0]).decode("utf-8") if rows else None
