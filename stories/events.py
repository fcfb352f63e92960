"""Events: which recent story an article reports on, judged by the terms they share.

Each article becomes a vector of its most telling terms, TF-IDF weighted: a
term weighs (1 + ln occurrences) x idf, where idf comes from the recent
articles' document frequencies blended with how common the term is in
everyday language (`Terms.commonness`, worth PRIOR_ARTICLES articles), so
that "China" or "United States" alone weighs little from the first article
on. A story is the sum of its articles' vectors (its centroid); an article
joins the story whose centroid it is closest to (cosine), if that reaches
SAME_STORY, the story is open (its articles are within WINDOW of it) and,
beyond NEAR of the story's dates, by FAR_PENALTY more. Articles without a
date are judged on content alone.

Matching is streaming: each article is matched once, in date order, against
the stories of the recent articles; nothing is ever re-clustered. The
thresholds are set on a labelled development set of real news (see
docs/stories.md, which gives their margins).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .terms import Terms

__all__ = ["FAR_PENALTY", "NEAR", "SAME_STORY", "WINDOW", "EventIndex", "Vector"]

SAME_STORY = 0.20                  # cosine with a story's centroid
DAY = 86_400.0
WINDOW = 7 * DAY                   # a story further away in time than this is closed
NEAR = 3 * DAY                     # further than this, a story must be closer by...
FAR_PENALTY = 0.10                 # ...this much
PRIOR_ARTICLES = 1000              # how many articles everyday language counts for
ARTICLE_TERMS = 80                 # an article's vector keeps its most telling terms
STORY_TERMS = 150                  # and a story's centroid its heaviest


@dataclass(frozen=True, slots=True)
class Vector:
    """Term hashes (ascending) and their weights (unit length)."""

    hashes: np.ndarray
    weights: np.ndarray

    def dot(self, other: Vector) -> float:
        _, mine, theirs = np.intersect1d(self.hashes, other.hashes, assume_unique=True,
                                         return_indices=True)
        return float(np.dot(self.weights[mine], other.weights[theirs]))


EMPTY = Vector(np.zeros(0, np.int64), np.zeros(0, np.float32))
_NONE: frozenset[str] = frozenset()


@dataclass(slots=True)
class Story:
    """A story as the index holds it: its articles' summed vectors, their dates."""

    story_id: str
    first: float = math.nan          # POSIX seconds of its earliest and latest dated article
    last: float = math.nan
    total: Vector = EMPTY            # the sum of its articles' vectors
    members: list[tuple[str, Vector, float]] = field(default_factory=list)
    centroid: Vector | None = None   # made from `total` when asked for

    def add(self, article_id: str, vector: Vector, when: float) -> None:
        self.add_many([(article_id, vector, when)])

    def add_many(self, members: Sequence[tuple[str, Vector, float]]) -> None:
        """`add` for several articles, with one sum."""
        self.members += members
        self.total = _summed(self.total, *(vector for _, vector, _ in members))
        self.centroid = None
        dated = [when for _, _, when in members if not math.isnan(when)]
        if dated:
            self.first = min(dated) if math.isnan(self.first) else min(self.first, *dated)
            self.last = max(dated) if math.isnan(self.last) else max(self.last, *dated)

    def drop(self, article_ids: set[str]) -> None:
        """Take these articles out of the story (a matcher's oldest, pruned)."""
        gone = [m for m in self.members if m[0] in article_ids]
        self.members = [m for m in self.members if m[0] not in article_ids]
        total = _summed(self.total, *(Vector(v.hashes, -v.weights) for _, v, _ in gone))
        keep = total.weights > 1e-6  # (what float rounding leaves of a term taken out)
        self.total = Vector(total.hashes[keep], total.weights[keep])
        self.centroid = None
        dated = [when for _, _, when in self.members if not math.isnan(when)]
        self.first = min(dated) if dated else math.nan
        self.last = max(dated) if dated else math.nan

    def closest_member(self, vector: Vector, among: int) -> str:
        """The article of its latest `among` whose vector is closest to `vector` (one
        pass over their terms, not one comparison each)."""
        members = self.members[-among:]
        return members[int(np.argmax(_dots(vector, [m for _, m, _ in members])))][0]

    def center(self) -> Vector:
        if self.centroid is None:
            self.centroid = _top(self.total.hashes, self.total.weights, STORY_TERMS)
        return self.centroid


@dataclass(frozen=True, slots=True)
class Closest:
    """The story an article is closest to, and how close (after any time penalty)."""

    story: Story
    score: float
    cosine: float


class DocumentFrequencies:
    """How many of the recent articles hold each term: sorted arrays, merged per batch."""

    def __init__(self) -> None:
        self.articles = 0
        self._hashes = np.zeros(0, np.int64)
        self._counts = np.zeros(0, np.float64)

    def _tally(self, terms: Sequence[Terms]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The terms' hashes and how many of the articles hold each; which are held here."""
        hashes, counts = np.unique(np.concatenate([t.hashes for t in terms]),
                                   return_counts=True)
        return hashes, counts, _holds(self._hashes, hashes)

    def add(self, terms: Sequence[Terms]) -> None:
        if not terms:
            return
        hashes, counts, held = self._tally(terms)
        self._counts[np.searchsorted(self._hashes, hashes[held])] += counts[held]
        at = np.searchsorted(self._hashes, hashes[~held])  # (sorted in, not sorted again)
        self._hashes = np.insert(self._hashes, at, hashes[~held])
        self._counts = np.insert(self._counts, at, counts[~held].astype(np.float64))
        self.articles += len(terms)

    def remove(self, terms: Sequence[Terms]) -> None:
        """The articles of `terms` are no longer among the recent ones."""
        if not terms:
            return
        hashes, counts, held = self._tally(terms)
        self._counts[np.searchsorted(self._hashes, hashes[held])] -= counts[held]
        kept = self._counts > 0
        self._hashes, self._counts = self._hashes[kept], self._counts[kept]
        self.articles -= len(terms)

    def idf(self, terms: Terms) -> np.ndarray:
        at = np.minimum(np.searchsorted(self._hashes, terms.hashes), len(self._hashes) - 1)
        held = self._counts[at] * (self._hashes[at] == terms.hashes) if len(self._hashes) \
            else np.zeros(len(terms))
        n = self.articles + PRIOR_ARTICLES
        df = held + PRIOR_ARTICLES * terms.commonness
        return np.maximum(0.0, np.log((n + 1) / (df + 0.5)))


class EventIndex:
    """The recent stories and their centroids, scored at once for each new article.

    The centroids of the stories as they were before the batch sit in one
    posting array sorted by term (a sparse matrix: one gather and one bincount
    score them all); stories that the batch changed are scored one by one, those
    sharing a term with the article (found through a dict of their terms).
    """

    def __init__(self) -> None:
        self.frequencies = DocumentFrequencies()
        self.stories: dict[str, Story] = {}
        self._order: list[Story] = []          # the stories of the posting array
        self._rows: dict[str, int] = {}        # and the row of each
        self._postings = (np.zeros(0, np.int64), np.zeros(0, np.int32),
                          np.zeros(0, np.float32))
        self._first = np.zeros(0)
        self._last = np.zeros(0)
        self._changed: dict[str, Story] = {}   # stories made or changed since the postings
        self._changed_terms: dict[int, set[str]] = {}  # their terms -> their ids
        self._stale: list[int] = []            # the rows of those in the postings

    def vector(self, terms: Terms) -> Vector:
        """The article's TF-IDF vector: its ARTICLE_TERMS most telling terms, unit length."""
        if not len(terms):
            return EMPTY
        weights = (1.0 + np.log(terms.weights)) * self.frequencies.idf(terms)
        return _top(terms.hashes, weights.astype(np.float32), ARTICLE_TERMS)

    def closest(self, vector: Vector, when: float) -> Closest | None:
        """The open story closest to `vector` (an article dated `when`, or NaN)."""
        if not len(vector.hashes):
            return None
        best: Closest | None = None
        scores = self._scores(vector)
        if len(scores):
            scores -= self._penalties(when)
            scores[self._stale] = -np.inf  # changed since posted: scored below
            top = int(np.argmax(scores))
            if scores[top] > -1:
                story = self._order[top]
                best = Closest(story, float(scores[top]), float(scores[top])
                               + _penalty(story.first, story.last, when))
        sharing: set[str] = set()
        for term in _telling(vector).tolist():
            sharing |= self._changed_terms.get(term, _NONE)
        candidates = [self._changed[s] for s in sorted(sharing)]  # (sorted: the same ties)
        cosines = _dots(vector, [story.center() for story in candidates])
        for story, cosine in zip(candidates, cosines.tolist(), strict=True):
            score = cosine - _penalty(story.first, story.last, when)
            if best is None or score > best.score:
                best = Closest(story, score, cosine)
        return best if best is not None and best.score > -1 else None

    def add(self, story_id: str, article_id: str, vector: Vector, when: float) -> Story:
        """The article joins story `story_id` (a new one when the index has none)."""
        story = self.stories.get(story_id)
        if story is None:
            story = self.stories[story_id] = Story(story_id)
        story.add(article_id, vector, when)
        if story_id not in self._changed and (row := self._rows.get(story_id)) is not None:
            self._stale.append(row)
        self._changed[story_id] = story
        for term in vector.hashes.tolist():
            self._changed_terms.setdefault(term, set()).add(story_id)
        return story

    def add_many(self, entries: Sequence[tuple[str, str, Vector, float]]) -> None:
        """Add (story id, article id, vector, date) entries in bulk, as a run's start or a
        pruning does: one sum per story, not one per article; then `refresh`."""
        grouped: dict[str, list[tuple[str, Vector, float]]] = {}
        for story_id, article_id, vector, when in entries:
            grouped.setdefault(story_id, []).append((article_id, vector, when))
        for story_id, members in grouped.items():
            story = self.stories.get(story_id)
            if story is None:
                story = self.stories[story_id] = Story(story_id)
            story.add_many(members)
        self.refresh()

    def remove(self, entries: Sequence[tuple[str, str]]) -> None:
        """Take (story id, article id) entries out (a matcher's oldest articles, pruned:
        their stories go when nothing is left of them); then `refresh`."""
        grouped: dict[str, set[str]] = {}
        for story_id, article_id in entries:
            grouped.setdefault(story_id, set()).add(article_id)
        for story_id, article_ids in grouped.items():
            story = self.stories.get(story_id)
            if story is None:
                continue
            story.drop(article_ids)
            if not story.members:
                del self.stories[story_id]
        self.refresh()

    def refresh(self) -> None:
        """Put every story's current centroid in the posting array (after a batch)."""
        self._order = list(self.stories.values())
        self._rows = {story.story_id: row for row, story in enumerate(self._order)}
        centers = [story.center() for story in self._order]
        lengths = np.fromiter((len(c.hashes) for c in centers), np.int64, len(centers))
        hashes = np.concatenate([c.hashes for c in centers] or [EMPTY.hashes])
        order = np.argsort(hashes, kind="stable")
        rows = np.repeat(np.arange(len(centers), dtype=np.int32), lengths)
        weights = np.concatenate([c.weights for c in centers] or [EMPTY.weights])
        self._postings = (hashes[order], rows[order], weights[order])
        self._first = np.fromiter((s.first for s in self._order), np.float64, len(centers))
        self._last = np.fromiter((s.last for s in self._order), np.float64, len(centers))
        self._changed, self._changed_terms, self._stale = {}, {}, []

    def _scores(self, vector: Vector) -> np.ndarray:
        """Each posted story's cosine with `vector` (its centroid as of the last refresh)."""
        hashes, rows, weights = self._postings
        if not len(hashes):
            return np.zeros(0)
        first = np.searchsorted(hashes, vector.hashes, "left")
        held = np.searchsorted(hashes, vector.hashes, "right") - first
        at = np.repeat(first - np.cumsum(held) + held, held) + np.arange(int(held.sum()))
        return np.bincount(rows[at], weights=weights[at] * np.repeat(vector.weights, held),
                           minlength=len(self._order)).astype(np.float64)  # (int64 if none)

    def _penalties(self, when: float) -> np.ndarray:
        """`_penalty` of every posted story at once."""
        if math.isnan(when):
            return np.zeros(len(self._first))
        with np.errstate(invalid="ignore"):
            gap = np.fmax(when - self._last, self._first - when)  # NaN: a story undated
            return np.where(gap > WINDOW, 2.0, np.where(gap > NEAR, FAR_PENALTY, 0.0))


def _penalty(first: float, last: float, when: float) -> float:
    """What a story's distance in time takes off an article's cosine with it: nothing
    within NEAR, FAR_PENALTY within WINDOW, 2 (never joins) beyond; nothing when the
    article or every article of the story has no date."""
    if math.isnan(when) or math.isnan(first):
        return 0.0
    gap = max(when - last, first - when)
    return 2.0 if gap > WINDOW else FAR_PENALTY if gap > NEAR else 0.0


def _dots(vector: Vector, others: Sequence[Vector]) -> np.ndarray:
    """`vector.dot(other)` for each of `others`, in one pass over their terms."""
    if not others or not len(vector.hashes):
        return np.zeros(len(others))
    hashes = np.concatenate([o.hashes for o in others])
    weights = np.concatenate([o.weights for o in others])
    rows = np.repeat(np.arange(len(others)), [len(o.hashes) for o in others])
    at = np.minimum(np.searchsorted(vector.hashes, hashes), len(vector.hashes) - 1)
    shared = vector.hashes[at] == hashes
    return np.bincount(rows[shared], weights=(weights[shared] * vector.weights[at[shared]]
                                              ).astype(np.float64), minlength=len(others))


def _telling(vector: Vector) -> np.ndarray:
    """The article's heaviest terms, enough of them that a story sharing none of them
    could not reach SAME_STORY: the rest weigh less than that together (Cauchy-Schwarz),
    so only the stories holding one of these need scoring."""
    order = np.argsort(-vector.weights)
    tail = np.sqrt(np.cumsum(np.square(vector.weights[order][::-1]))[::-1])  # norm from i on
    enough = int(np.argmax(tail < SAME_STORY)) if tail[-1] < SAME_STORY else len(order)
    return vector.hashes[order[:enough]]


def _holds(ordered: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Which of the query values the sorted array holds (a boolean mask)."""
    if not len(ordered):
        return np.zeros(len(query), bool)
    at = np.minimum(np.searchsorted(ordered, query), len(ordered) - 1)
    return ordered[at] == query


def _top(hashes: np.ndarray, weights: np.ndarray, k: int) -> Vector:
    """The k heaviest terms, unit length, in hash order."""
    if len(weights) > k:
        keep = np.sort(np.argpartition(weights, len(weights) - k)[-k:])
        hashes, weights = hashes[keep], weights[keep]
    keep = weights > 0
    hashes, weights = hashes[keep], weights[keep]
    norm = float(np.sqrt(np.dot(weights, weights)))
    return Vector(hashes, (weights / norm).astype(np.float32)) if norm else EMPTY


def _summed(*vectors: Vector) -> Vector:
    """The vectors' sum, term by term (not normalised)."""
    hashes, inverse = np.unique(np.concatenate([v.hashes for v in vectors]),
                                return_inverse=True)
    weights = np.bincount(inverse, weights=np.concatenate([v.weights for v in vectors]))
    return Vector(hashes, weights.astype(np.float32))
