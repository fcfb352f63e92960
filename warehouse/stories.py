"""Assigning new articles to stories: copies and follow-ups join an earlier story.

The scoring is newswatch.extractors.dedup's; here the candidates come from
the warehouse (articles of the last STORY_WINDOW, most recent first) and the
decisions are stored in article_fingerprints and story_links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb
import numpy as np

from newswatch.extractors.dedup import (
    Candidate,
    CandidateIndex,
    Fingerprint,
    fingerprint,
    fingerprint_to_row,
)
from newswatch.extractors.records import Article

from .bulk import append

STORY_WINDOW = timedelta(days=14)   # a story quiet for longer starts anew
MAX_CANDIDATES = 5000               # bounds the cost of matching one article
_UNSIGNED = (1 << 64) - 1


def candidates(con: duckdb.DuckDBPyConnection, now: datetime) -> CandidateIndex:
    """Earlier articles a new one may copy or continue, most recent first, indexed.

    Their fingerprints are found by first_seen_at, in time order (a join by
    article_id alone would read every sketch of the table: seconds in a
    year-sized warehouse), and the sketches come as two flat numpy columns
    (candidate, hash), not as a Python list per row.
    """
    recent = con.execute(
        "SELECT article_id, story_id, coalesce(published_at, first_seen_at), first_seen_at"
        " FROM articles WHERE first_seen_at >= ?"
        " ORDER BY first_seen_at DESC, article_id LIMIT ?",
        [now - STORY_WINDOW, MAX_CANDIDATES]).fetchall()
    if not recent:
        return CandidateIndex()
    con.execute("CREATE OR REPLACE TEMP TABLE story_candidates (i INTEGER, article_id VARCHAR)")
    append(con, "story_candidates", [(i, row[0]) for i, row in enumerate(recent)])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE story_fingerprints AS SELECT c.i, f.*"
        " FROM article_fingerprints f JOIN story_candidates c USING (article_id)"
        " WHERE f.first_seen_at >= ?", [recent[-1][3]])
    rows = con.execute("SELECT i, simhash, entity_ids, entity_counts, len(sketch)"
                       " FROM story_fingerprints ORDER BY i").fetchall()
    hashes = con.execute("SELECT unnest(sketch) AS h FROM story_fingerprints ORDER BY i, h"
                         ).fetchnumpy()["h"]
    con.execute("DROP TABLE story_candidates")
    con.execute("DROP TABLE story_fingerprints")
    positions = [i for i, *_ in rows]  # articles without a fingerprint are no candidates
    index = CandidateIndex()
    index.add_columns(
        [recent[i][0] for i in positions], [recent[i][1] for i in positions],
        [recent[i][2] for i in positions],
        [simhash & _UNSIGNED for _, simhash, *_ in rows],  # stored signed
        [tuple(sorted(zip(ids or (), counts or (), strict=True))) for _, _, ids, counts, _ in rows],
        np.asarray(hashes, dtype=np.int64), [length for *_, length in rows])
    return index


class RecentStories:
    """The candidates of one run's batches, read from the warehouse once.

    Reading and indexing thousands of fingerprints costs more than matching a
    batch against them, so a run keeps them and adds each batch's articles.
    They are read again when the warehouse holds fingerprints this run did not
    add (another process loaded, or a batch rolled back) or after an hour (the
    window moves on); past MAX_CANDIDATES, the oldest are dropped.
    """

    REFRESH = timedelta(hours=1)

    def __init__(self) -> None:
        self._index: CandidateIndex | None = None
        self._rows = -1       # article_fingerprints rows the index accounts for
        self._read_at: datetime | None = None

    def index(self, con: duckdb.DuckDBPyConnection, now: datetime) -> CandidateIndex:
        rows = con.execute("SELECT count(*) FROM article_fingerprints").fetchall()[0][0]
        if (self._index is None or rows != self._rows
                or self._read_at is None or now - self._read_at > self.REFRESH):
            self._index, self._rows, self._read_at = candidates(con, now), rows, now
        elif len(self._index) > MAX_CANDIDATES + MAX_CANDIDATES // 5:
            self._index = self._index.pruned(MAX_CANDIDATES)  # memory stays flat in a long run
        return self._index

    def added(self, rows: int) -> None:
        """This run appended `rows` fingerprints (its index holds them already)."""
        self._rows += rows


def assign_stories(
    con: duckdb.DuckDBPyConnection,
    new: Sequence[tuple[str, Article]],
    now: datetime,
    recent: RecentStories | None = None,
) -> dict[str, str]:
    """Story ids for new articles (by article id); records fingerprints and links.

    Articles are matched in the order of their dates, each against the
    warehouse's recent articles and the batch's earlier ones. `recent` keeps
    the candidates from one batch of a run to the next.
    """
    if not new:
        return {}
    pool = (recent or RecentStories()).index(con, now)
    ordered = sorted(new, key=lambda pair: pair[1].published_at or now)
    # The batch joins the index at once; each article is matched against the
    # candidates before it, the warehouse's and the batch's earlier ones.
    first = pool.extend([Candidate(aid, aid, article.published_at or now,
                                   article_fingerprint(article)) for aid, article in ordered])
    stories: dict[str, str] = {}
    link_rows = []
    for position, (aid, _) in enumerate(ordered, start=first):
        match = pool.match_added(position)
        story = match.story_id or aid
        stories[aid] = story
        pool.set_story(position, story)
        if match.matched_article_id is not None:
            link_rows.append((aid, match.relation, match.matched_article_id, match.score, now))
    _append_fingerprints(con, [(aid, article_fingerprint(a)) for aid, a in ordered],
                         [pool.sketch(p) for p in range(first, first + len(ordered))], now)
    append(con, "story_links", link_rows)
    pool.forget_batch()
    if recent is not None:
        recent.added(len(ordered))
    return stories


def _append_fingerprints(con: duckdb.DuckDBPyConnection, prints: list[tuple[str, Fingerprint]],
                         sketches: list[np.ndarray], now: datetime) -> None:
    """Add fingerprints (first seen `now`): the sketches go in as one flat numpy
    column, which costs half what an Appender row with a 200-item list does."""
    con.execute("CREATE TEMP TABLE stage_fingerprints (i INTEGER, article_id VARCHAR,"
                " simhash BIGINT, entity_ids VARCHAR[], entity_counts INTEGER[])")
    append(con, "stage_fingerprints", [
        (i, aid, simhash, ids, counts)
        for i, (aid, fp) in enumerate(prints)
        for simhash, _, ids, counts in [fingerprint_to_row(fp, sketch=False)]])
    flat = {"i": np.repeat(np.arange(len(sketches), dtype=np.int32), list(map(len, sketches))),
            "h": np.concatenate([*sketches, np.zeros(0, np.int64)])}
    con.register("stage_sketches", flat)
    try:
        con.execute(
            "INSERT INTO article_fingerprints"
            " SELECT s.article_id, s.simhash, coalesce(k.sketch, []), s.entity_ids,"
            " s.entity_counts, ? FROM stage_fingerprints s LEFT JOIN"
            " (SELECT i, list(h ORDER BY h) AS sketch FROM stage_sketches GROUP BY i) k USING (i)"
            " ORDER BY s.i", [now])
    finally:
        con.unregister("stage_sketches")
        con.execute("DROP TABLE stage_fingerprints")


def article_fingerprint(article: Article) -> Fingerprint:
    """The fingerprint an extraction worker computed ahead, or computed now."""
    if isinstance(article.fingerprint, Fingerprint):
        return article.fingerprint
    return fingerprint(article.text, article.mentions)
