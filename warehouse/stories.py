"""Stories in the warehouse: what story matching reads back, and its decisions stored.

Which story an article joins is decided by newswatch.stories (the flows call it
between tagging and loading). Here are the recent articles it compares new
ones with (`recent_articles`: their stories, dates, copy fingerprints and
terms) and the storing of its decisions: `articles.story_id` (set by the
load), `story_links` (how and why each article joined) and what later
matching compares (`article_fingerprints`, `article_terms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np

from newswatch.stories.copies import Fingerprint
from newswatch.stories.match import MAX_ARTICLES, StoryArticle, StoryDecision
from newswatch.stories.terms import Terms

from .bulk import append

STORY_WINDOW = timedelta(days=14)   # articles first seen earlier are no candidates


def recent_articles(con: duckdb.DuckDBPyConnection, now: datetime) -> list[StoryArticle]:
    """The articles first seen in the last STORY_WINDOW (at most MAX_ARTICLES, the
    most recent), with their stories, copy fingerprints and terms.

    Fingerprints and terms are found by first_seen_at, in time order (a join by
    article_id alone would read every row of those tables: seconds in a
    year-sized warehouse), and their lists come as flat numpy columns, not as
    a Python list per row.
    """
    recent = con.execute(
        "SELECT article_id, story_id, published_at, first_seen_at FROM articles"
        " WHERE first_seen_at >= ? ORDER BY first_seen_at DESC, article_id LIMIT ?",
        [now - STORY_WINDOW, MAX_ARTICLES]).fetchall()
    if not recent:
        return []
    since = recent[-1][3]
    con.execute("CREATE OR REPLACE TEMP TABLE story_candidates (i INTEGER, article_id VARCHAR)")
    append(con, "story_candidates", [(i, row[0]) for i, row in enumerate(recent)])
    try:
        sketches = _flat(con, "SELECT c.i, f.sketch AS h FROM article_fingerprints f"
                              " JOIN story_candidates c USING (article_id)"
                              " WHERE f.first_seen_at >= ?", since, ("h",))
        terms = _flat(con, "SELECT c.i, t.hashes AS h, t.weights AS w, t.commonness AS c"
                           " FROM article_terms t JOIN story_candidates c USING (article_id)"
                           " WHERE t.first_seen_at >= ?", since, ("h", "w", "c"))
    finally:
        con.execute("DROP TABLE story_candidates")
    out = []
    for i, (aid, story, published, first_seen) in enumerate(recent):
        hashes, weights, commonness = terms.get(i, _NO_TERMS)
        sketch = sketches.get(i)
        out.append(StoryArticle(
            aid, first_seen, published,
            Terms(hashes, weights.astype(np.float32), commonness.astype(np.float32)),
            Fingerprint(frozenset(sketch[0].tolist())) if sketch else _NO_SKETCH, story))
    return out


_NO_TERMS = (np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.float32))
_NO_SKETCH = Fingerprint(frozenset())


def _flat(con: duckdb.DuckDBPyConnection, select: str, since: datetime,
          columns: tuple[str, ...]) -> dict[int, tuple[np.ndarray, ...]]:
    """{candidate: its lists} of a query of (i, list, ...), read as flat numpy columns."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE story_lists AS {select}", [since])
    try:
        lengths = con.execute(f"SELECT i, len({columns[0]}) FROM story_lists ORDER BY i"
                              ).fetchnumpy()
        unnested = ", ".join(f"unnest({c}) AS {c}" for c in columns)
        # (stored sorted by hash: ordering by it keeps each list's order; by i alone
        # would not, and the zipped columns stay aligned either way)
        flat = con.execute(f"SELECT i, {unnested} FROM story_lists ORDER BY i, {columns[0]}"
                           ).fetchnumpy()
    finally:
        con.execute("DROP TABLE story_lists")
    ids, counts = lengths["i"], lengths[f"len({columns[0]})"]
    ends = np.cumsum(counts)
    starts = ends - counts
    arrays = [np.asarray(flat[c]) for c in columns]
    return {int(i): tuple(a[s:e] for a in arrays)
            for i, s, e in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True)}


def terms_version(con: duckdb.DuckDBPyConnection) -> int:
    """How many articles' terms the warehouse holds: when it changes under a run,
    another process loaded (or a batch rolled back)."""
    return con.execute("SELECT count(*) FROM article_terms").fetchall()[0][0]


def store_decisions(con: duckdb.DuckDBPyConnection, articles: Sequence[StoryArticle],
                    decisions: Sequence[StoryDecision], now: datetime) -> None:
    """Store, inside the caller's transaction, each new article's features
    (`store_features`) and its story decision, one `story_links` row each."""
    store_features(con, articles)
    append(con, "story_links", [
        (d.article_id, d.relation, d.related_article_id, d.score, now, d.story_id,
         [{"term": e.term, "kind": e.kind, "share": e.share} for e in d.evidence],
         d.development) for d in decisions])


def store_features(con: duckdb.DuckDBPyConnection, articles: Sequence[StoryArticle]) -> None:
    """Store what later matching compares: each article's copy fingerprint and terms,
    with its first_seen_at. The lists go in as flat numpy columns: an Appender row
    with a 200-item list costs about twice as much."""
    _append_lists(con, "article_fingerprints",
                  "SELECT s.article_id, coalesce(k.h, []), s.first_seen_at FROM stage_ids s"
                  " LEFT JOIN (SELECT i, list(h ORDER BY h) AS h FROM stage_lists GROUP BY i) k"
                  " USING (i) ORDER BY s.i",
                  articles, {"h": [np.fromiter(a.fingerprint.ordered, np.int64)
                                   for a in articles]})
    _append_lists(con, "article_terms",
                  "SELECT s.article_id, s.first_seen_at, coalesce(k.h, []), coalesce(k.w, []),"
                  " coalesce(k.c, []) FROM stage_ids s LEFT JOIN"
                  " (SELECT i, list(h ORDER BY h) AS h, list(w ORDER BY h) AS w,"
                  " list(c ORDER BY h) AS c FROM stage_lists GROUP BY i) k USING (i)"
                  " ORDER BY s.i",
                  articles, {"h": [a.terms.hashes for a in articles],
                             "w": [a.terms.weights for a in articles],
                             "c": [a.terms.commonness for a in articles]})


def _append_lists(con: duckdb.DuckDBPyConnection, table: str, select: str,
                  articles: Sequence[StoryArticle], lists: dict[str, list[np.ndarray]]) -> None:
    if not articles:
        return
    con.execute("CREATE TEMP TABLE stage_ids (i INTEGER, article_id VARCHAR,"
                " first_seen_at TIMESTAMPTZ)")
    append(con, "stage_ids", [(i, a.article_id, a.first_seen_at)
                              for i, a in enumerate(articles)])
    first = next(iter(lists.values()))
    flat = {"i": np.repeat(np.arange(len(first), dtype=np.int32), [len(x) for x in first])}
    for name, arrays in lists.items():
        flat[name] = np.concatenate(arrays)
    con.register("stage_lists", flat)
    try:
        con.execute(f"INSERT INTO {table} {select}")
    finally:
        con.unregister("stage_lists")
        con.execute("DROP TABLE stage_ids")


@dataclass(frozen=True)
class TimelineEntry:
    """One article of a story's timeline (a row of the story_timeline macro)."""

    published_at: datetime
    outlet: str | None
    title: str | None
    relation: str | None         # new, copy, same_event, development (None: not recorded)
    development: str | None      # the sentence that says what it added
    related_article_id: str | None
    score: float | None
    evidence: list[dict]         # [{term, kind, share}], the most weight first
    url: str | None
    seed_file: str | None
    article_id: str


def find_story(con: duckdb.DuckDBPyConnection, prefix: str) -> list[str]:
    """The story ids that start with `prefix` (a story id, or enough of one)."""
    return [row[0] for row in con.execute(
        "SELECT DISTINCT story_id FROM articles WHERE starts_with(story_id, ?) ORDER BY 1"
        " LIMIT 5", [prefix]).fetchall()]


def timeline(con: duckdb.DuckDBPyConnection, story_id: str) -> list[TimelineEntry]:
    """A story's articles in publication order (the story_timeline macro)."""
    return [TimelineEntry(*row) for row in con.execute(
        "SELECT published_at, outlet, title, relation, development, related_article_id, score,"
        " evidence, url, seed_file, article_id FROM story_timeline(?)", [story_id]).fetchall()]


def recent_stories(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[tuple]:
    """(story_id, articles, title, began_at, latest_at) of the stories last reported."""
    return con.execute(
        "SELECT story_id, articles, title, began_at, latest_at FROM stories"
        " ORDER BY latest_at DESC, story_id LIMIT ?", [limit]).fetchall()
