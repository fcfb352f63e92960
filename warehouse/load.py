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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from newswatch.extractors.identity import article_id, content_hash
from newswatch.extractors.page_meta import disagree
from newswatch.extractors.records import Article, Reject
from newswatch.extractors.urls import canonical_url

from .bulk import append, transaction
from .load_tuning import collector_paused, small_scan_cache
from .stories import store_decisions

if TYPE_CHECKING:
    from newswatch.extractors.watchlist import Watchlist
    from newswatch.stories.match import StoryArticle, StoryDecision

log = logging.getLogger(__name__)

# the articles table's columns, in order: the Appender fills them by position
ARTICLE_COLUMNS = ("article_id", "url", "canonical_url", "seed_file", "title", "outlet",
                   "author", "published_at", "first_seen_at", "language", "text",
                   "content_hash", "story_id", "published_source", "dates_disagree")
# what each article adds besides itself, one row per item
CHILD_TABLES = ("mentions", "demonym_mentions", "person_mentions", "quotes")


@dataclass(frozen=True, slots=True)
class Dating:
    """An article's publication date as stored: the time, where it came from, whether
    the dates seen disagree by more than a day, and every (source, time) seen."""

    published_at: datetime | None
    source: str
    disagree: bool
    seen: tuple[tuple[str, datetime], ...]


def date_articles(con: duckdb.DuckDBPyConnection,
                  articles: Sequence[tuple[str, Article]]) -> dict[str, Dating]:
    """Each article's dates with the date of the feed that listed its link (source_links),
    which stands in when the page's metadata and URL state none; "first_seen" when
    nothing gives one."""
    keys = {aid: {k for k in (a.canonical_url, a.url and canonical_url(a.url)) if k}
            for aid, a in articles if a.url}
    wanted = sorted(set().union(*keys.values())) if keys else []
    feed = dict(con.execute(
        "SELECT url, min(published_at) FROM source_links WHERE published_at IS NOT NULL"
        " AND url IN (SELECT unnest(?::VARCHAR[])) GROUP BY url", [wanted]).fetchall()
    ) if wanted else {}
    dated = {}
    for aid, a in articles:
        seen = tuple(a.dates)
        feed_at = min((feed[k] for k in keys.get(aid, ()) if k in feed), default=None)
        if feed_at is not None:
            seen += (("feed", feed_at),)
        published, source = a.published_at, a.published_source
        # a feed's date beats none, and beats a date htmldate read off the page's text
        # (often a link's); what the page states in its metadata or URL beats the feed
        if feed_at is not None and (published is None or source == "text"):
            published, source = feed_at, "feed"
        dated[aid] = Dating(published, source or ("first_seen" if published is None
                                                  else "unknown"),
                            disagree([t for _, t in seen]), seen)
    return dated


def date_rows(dated: dict[str, Dating]) -> list[tuple]:
    """The rows of `article_dates` for the dated articles."""
    return [(aid, source, at) for aid, d in dated.items() for source, at in d.seen]


def child_rows(aid: str, article: Article, first_seen_at: datetime) -> dict[str, list[tuple]]:
    """The rows of one article in each of CHILD_TABLES (its mentions, demonyms,
    people and quotes), for the first load and for reprocessing alike; a mention
    carries the article's `first_seen_at` (017: a day's are read by time)."""
    rows: dict[str, list[tuple]] = {table: [] for table in CHILD_TABLES}
    for m in article.mentions:
        row = (aid, m.entity_id, m.surface, m.start_char, m.end_char, m.sentence)
        if m.form == "name":
            rows["mentions"].append((*row, first_seen_at))
        else:
            rows["demonym_mentions"].append(row)
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


@dataclass
class NewArticles:
    """A batch sorted out before loading: the articles the warehouse does not hold yet
    (`articles`, with their ids, in batch order), the ids it holds already (`held`)
    and how many of the batch are copies of another's id or text (`duplicates`)."""

    articles: list[tuple[str, Article]] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    duplicates: int = 0


@dataclass(frozen=True)
class StoryRows:
    """The story decisions of a batch's new articles, as the load stores them."""

    articles: Sequence[StoryArticle]
    decisions: Sequence[StoryDecision]

    def story_of(self) -> dict[str, str]:
        return {d.article_id: d.story_id for d in self.decisions}


def load_batch(
    con: duckdb.DuckDBPyConnection,
    articles: Sequence[Article],
    decide: Callable[[NewArticles, datetime], StoryRows],
    *,
    raw_kind: str = "seed_file",
    encoding: str | None = "utf-8",
    now: datetime | None = None,
) -> LoadResult:
    """Load tagged articles, their raw text, mentions and stories in one transaction.

    `decide(new, now)` gives the new articles' stories (the flow's story matching,
    e.g. `partial(recent.decide, con)`): it is called inside the transaction,
    between sorting out the new articles and inserting them.
    """
    now = now or datetime.now(UTC)
    with collector_paused(), transaction(con):
        new = select_new(con, articles)
        result = stage_articles(con, new, decide(new, now), raw_kind=raw_kind,
                                encoding=encoding, now=now)
    log.info("loaded %d new articles (%d already held), %d mentions",
             result.inserted, result.duplicates, result.mentions)
    return result


def select_new(con: duckdb.DuckDBPyConnection, articles: Sequence[Article]) -> NewArticles:
    """The articles the warehouse does not hold yet: neither their id nor their text.

    Within a batch, the first copy of an id or of a text wins. Only the keys are
    staged for the two anti-joins (a copy's id too, with no content: is it held?).
    """
    new = NewArticles()
    keys: list[tuple[str, str]] = []
    kept: list[tuple[str, Article]] = []
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    copy_ids: list[str] = []
    for article in articles:
        aid, digest = article_id(article), article.text_hash or content_hash(article.text)
        if aid in seen_ids or digest in seen_hashes:
            new.duplicates += 1
            copy_ids.append(aid)
            continue
        seen_ids.add(aid)
        seen_hashes.add(digest)
        keys.append((aid, digest))
        kept.append((aid, article))
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
    new.articles = [(aid, a) for aid, a in kept if aid not in held and aid not in copies]
    new.held = held
    new.duplicates += len(kept) - len(new.articles)
    return new


def stage_articles(
    con: duckdb.DuckDBPyConnection,
    new: NewArticles,
    stories: StoryRows,
    *,
    raw_kind: str | None,
    encoding: str | None,
    now: datetime,
) -> LoadResult:
    """Insert the new articles with their stories, inside the caller's transaction.

    `raw_kind=None` stores no raw document (fetched pages keep theirs in raw_pages).
    """
    story_of = stories.story_of()
    dated = date_articles(con, new.articles)
    article_rows, raw_rows = [], []
    children: dict[str, list[tuple]] = {table: [] for table in CHILD_TABLES}
    for aid, article in new.articles:
        d = dated[aid]
        article_rows.append((  # as ARTICLE_COLUMNS
            aid, article.url, article.canonical_url, article.seed_file, article.title,
            article.outlet, article.author, d.published_at, now, article.language,
            article.text, article.text_hash or content_hash(article.text), story_of[aid],
            d.source, d.disagree,
        ))
        if raw_kind is not None:
            raw = article.raw.encode("utf-8")
            raw_rows.append((aid, raw_kind, encoding, len(raw), zlib.compress(raw, 6), now))
        for table, rows in child_rows(aid, article, now).items():
            children[table] += rows
    append(con, "articles", article_rows)
    append(con, "article_dates", date_rows(dated))
    append(con, "raw_documents", raw_rows)
    added = {table: append(con, table, rows) for table, rows in children.items()}
    store_decisions(con, stories.articles, stories.decisions, now)
    result = LoadResult()
    result.inserted_ids = sorted(aid for aid, _ in new.articles)
    result.held_ids = new.held | set(result.inserted_ids)
    result.inserted = len(new.articles)
    result.duplicates = new.duplicates
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
