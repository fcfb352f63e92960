"""Re-processing stored raw documents: what to re-read, and replacing articles in place.

When the extractor or the watchlist changes, `newswatch reprocess` reads the
raw seed texts and raw pages kept in the warehouse, extracts and tags them
again, and replaces each article's text, metadata and mentions. An article
keeps its id, first_seen_at and story; running it twice changes nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from newswatch.extractors.identity import article_id, content_hash
from newswatch.extractors.records import Article
from newswatch.stories.match import StoryArticle

from .bulk import append, transaction
from .load import (
    CHILD_TABLES,
    LoadResult,
    NewArticles,
    StoryRows,
    child_rows,
    date_articles,
    date_rows,
    select_new,
    stage_articles,
)
from .stories import store_features


@dataclass(frozen=True)
class RawRef:
    """A stored raw document to re-process: a seed file's text or a page's latest HTML."""

    kind: str                 # "seed_file" or "html"
    key: str                  # article_id for a seed, url for a page
    name: str                 # seed file name or URL


@dataclass
class ReplaceResult:
    updated: int = 0
    unchanged: int = 0
    added: LoadResult | None = None
    mentions: int = 0


def raw_refs(con: duckdb.DuckDBPyConnection, since: date | None = None) -> list[RawRef]:
    """Every raw document stored on or after `since` (all when None)."""
    since_ts = datetime.combine(since, datetime.min.time(), UTC) if since else None
    seeds = con.execute(
        "SELECT r.article_id, a.seed_file FROM raw_documents r JOIN articles a USING (article_id)"
        " WHERE r.kind = 'seed_file' AND (?::TIMESTAMPTZ IS NULL OR r.stored_at >= ?)"
        " ORDER BY a.seed_file", [since_ts, since_ts]).fetchall()
    pages = con.execute(
        "SELECT DISTINCT url FROM raw_pages WHERE (?::TIMESTAMPTZ IS NULL OR fetched_at >= ?)"
        " ORDER BY url", [since_ts, since_ts]).fetchall()
    return ([RawRef("seed_file", aid, name) for aid, name in seeds]
            + [RawRef("html", url, url) for (url,) in pages])


def read_seed_raw(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> dict[str, str]:
    rows = con.execute(
        "SELECT article_id, raw_zlib FROM raw_documents WHERE article_id IN"
        " (SELECT unnest(?::VARCHAR[]))", [list(article_ids)]).fetchall()
    return {aid: zlib.decompress(blob).decode("utf-8") for aid, blob in rows}


def read_page_raw(
    con: duckdb.DuckDBPyConnection, urls: Sequence[str]
) -> dict[str, tuple[str | None, str | None, bytes]]:
    """{url: (final_url, encoding, raw bytes)} of each URL's latest stored version."""
    rows = con.execute(
        "SELECT url, final_url, encoding, raw_zlib FROM raw_pages WHERE url IN"
        " (SELECT unnest(?::VARCHAR[]))"
        " QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1",
        [list(urls)]).fetchall()
    return {url: (final, enc, zlib.decompress(blob)) for url, final, enc, blob in rows}


def replace_articles(
    con: duckdb.DuckDBPyConnection, articles: Sequence[Article],
    features: Callable[[str, Article, datetime], StoryArticle],
    decide: Callable[[NewArticles, datetime], StoryRows], *, now: datetime | None = None,
) -> ReplaceResult:
    """Replace held articles' text, metadata and mentions; add new ones; one transaction.

    A held article keeps its story; `features(aid, article, first_seen_at)` gives
    what story matching compares of its new text. New ones get their story from
    `decide` (see `load.load_batch`)."""
    now = now or datetime.now(UTC)
    result = ReplaceResult()
    by_id = {article_id(a): a for a in articles}
    with transaction(con):
        first_seen = {r[0]: r[1] for r in con.execute(
            "SELECT article_id, first_seen_at FROM articles WHERE article_id IN"
            " (SELECT unnest(?::VARCHAR[]))", [list(by_id)]).fetchall()} if by_id else {}
        held = set(first_seen)
        rows: list[tuple] = []
        children: dict[str, list[tuple]] = {table: [] for table in CHILD_TABLES}
        dated = date_articles(con, [(aid, a) for aid, a in by_id.items() if aid in held])
        for aid, d in dated.items():
            a = by_id[aid]
            rows.append((aid, a.canonical_url, a.title, a.outlet, a.author, d.published_at,
                         a.language, a.text, content_hash(a.text), d.source, d.disagree))
            for table, new_rows in child_rows(aid, a, first_seen[aid]).items():
                children[table] += new_rows
        if rows:
            con.execute("CREATE TEMP TABLE stage_replace (article_id VARCHAR, canonical_url"
                        " VARCHAR, title VARCHAR, outlet VARCHAR, author VARCHAR, published_at"
                        " TIMESTAMPTZ, language VARCHAR, text VARCHAR, content_hash VARCHAR,"
                        " published_source VARCHAR, dates_disagree BOOLEAN)")
            append(con, "stage_replace", rows)
            result.updated = con.execute(
                "SELECT count(*) FROM stage_replace s JOIN articles a USING (article_id)"
                " WHERE a.content_hash IS DISTINCT FROM s.content_hash"
                " OR a.title IS DISTINCT FROM s.title OR a.outlet IS DISTINCT FROM s.outlet"
                " OR a.published_at IS DISTINCT FROM s.published_at"
                " OR a.published_source IS DISTINCT FROM s.published_source").fetchall()[0][0]
            result.unchanged = len(rows) - result.updated
            con.execute(
                "UPDATE articles SET canonical_url = s.canonical_url, title = s.title,"
                " outlet = s.outlet, author = s.author, published_at = s.published_at,"
                " language = s.language, text = s.text, content_hash = s.content_hash,"
                " published_source = s.published_source, dates_disagree = s.dates_disagree"
                " FROM stage_replace s WHERE articles.article_id = s.article_id")
            con.execute("DELETE FROM article_dates WHERE article_id IN"
                        " (SELECT article_id FROM stage_replace)")
            append(con, "article_dates", date_rows(dated))
            for table, new_rows in children.items():
                con.execute(f"DELETE FROM {table} WHERE article_id IN"
                            " (SELECT article_id FROM stage_replace)")
                append(con, table, new_rows)
            result.mentions = len(children["mentions"])
            # the text may have changed: so has what story matching compares
            for table in ("article_fingerprints", "article_terms"):
                con.execute(f"DELETE FROM {table} WHERE article_id IN"
                            " (SELECT article_id FROM stage_replace)")
            store_features(con, [features(aid, by_id[aid], first_seen[aid])
                                 for aid, *_ in rows])
            con.execute("DROP TABLE stage_replace")
        fresh = [a for aid, a in by_id.items() if aid not in held]
        if fresh:  # pages that a better extractor now recognises as articles
            new = select_new(con, fresh)
            result.added = stage_articles(con, new, decide(new, now), raw_kind=None,
                                          encoding=None, now=now)
    return result
