"""Which story each new article joins: the story of what it copies, the closest
story of the same event or its continuation, or a new story of its own.

    matcher = StoryMatcher(history)     # the recent articles, read from the warehouse
    decisions = matcher.match(arrivals) # one StoryDecision per new article

Each article is matched once, when it arrives, in date order, against the
stories of the recent articles and of the batch's earlier ones. A decision
says how the article joined and why: the score and the terms that weighed
most (`Evidence`). The warehouse stores the decisions; it never makes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from .copies import Candidate, CopyIndex, Fingerprint
from .events import DAY, SAME_STORY, EventIndex, Vector
from .novelty import NO_LEAD, Lead, development
from .terms import Terms

__all__ = ["Evidence", "StoryArticle", "StoryDecision", "StoryMatcher"]

MAX_ARTICLES = 5000        # the recent articles a matcher keeps: memory stays flat
EVIDENCE_TERMS = 6         # the shared terms a link keeps as its evidence
RELATED_AMONG = 64         # a link names the closest of a story's latest articles
# a story's article dated more than this after the story began is a development
DEVELOPMENT_AFTER = DAY
_KINDS = {"n": "name", "e": "name", "w": "word", "d": "number"}


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article as story matching sees it; `story_id` is known for the warehouse's."""

    article_id: str
    first_seen_at: datetime
    published_at: datetime | None
    terms: Terms
    fingerprint: Fingerprint
    story_id: str | None = None
    lead: Lead = NO_LEAD            # its first sentences (novelty.read_lead)
    language: str | None = None

    @property
    def when(self) -> float:
        """Its date in POSIX seconds, NaN when unknown (then judged on content alone)."""
        return self.published_at.timestamp() if self.published_at else math.nan


@dataclass(frozen=True, slots=True)
class Evidence:
    """A term two articles of a story share, and its part of the link's score."""

    term: str          # as the new article writes it
    kind: str          # "name", "word" or "number"
    share: float       # of the score, 0..1


@dataclass(frozen=True, slots=True)
class StoryDecision:
    """The story an article joins, and how: "new", "copy" (of `related_article_id`),
    "same_event" or "development" (closest to `related_article_id` in that story)."""

    article_id: str
    story_id: str
    relation: str
    related_article_id: str | None = None
    score: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    development: str | None = None  # the sentence that says what it adds to the story


class StoryMatcher:
    """The recent stories, and the matching of new articles against them."""

    def __init__(self, history: Sequence[StoryArticle] = ()):
        # the articles the index holds, by arrival, with their vectors
        self._kept: list[tuple[StoryArticle, Vector]] = []
        self.copies = CopyIndex()
        self.events = EventIndex()
        self._load(history)

    def __len__(self) -> int:
        return len(self._kept)

    def _load(self, history: Sequence[StoryArticle]) -> None:
        history = sorted(history, key=lambda a: a.first_seen_at)
        self.copies.extend([Candidate(a.article_id, a.story_id or a.article_id,
                                      a.first_seen_at, a.fingerprint) for a in history])
        self.copies.forget_batch()
        self.events.frequencies.add([a.terms for a in history])
        self._kept = [(_plain(a), self.events.vector(a.terms)) for a in history]
        self._index_kept()

    def match(self, arrivals: Sequence[StoryArticle]) -> list[StoryDecision]:
        """Decide each new article's story, in date order; return the decisions in the
        order given. Each article sees the ones before it."""
        ordered = _in_date_order(arrivals)
        first = self.copies.extend([Candidate(a.article_id, a.article_id, a.first_seen_at,
                                              a.fingerprint) for a in ordered])
        self.events.frequencies.add([a.terms for a in ordered])
        decided: dict[str, StoryDecision] = {}
        for position, article in enumerate(ordered, start=first):
            vector = self.events.vector(article.terms)
            decision = self._decide(position, article, vector)
            decided[article.article_id] = decision
            self.copies.set_story(position, decision.story_id)
            self.events.add(decision.story_id, article.article_id, vector, article.when)
            self._kept.append((_plain(article, decision.story_id), vector))
        self.copies.forget_batch()
        self.events.refresh()
        if len(self._kept) > MAX_ARTICLES + MAX_ARTICLES // 5:
            self._prune()
        return [decided[a.article_id] for a in arrivals]

    def _decide(self, position: int, article: StoryArticle, vector: Vector) -> StoryDecision:
        copy = self.copies.best_added(position)
        if copy is not None:
            score, original = copy
            return StoryDecision(article.article_id, original.story_id, "copy",
                                 original.article_id, round(score, 4))
        close = self.events.closest(vector, article.when)
        if close is None or close.score < SAME_STORY:
            return StoryDecision(article.article_id, article.article_id, "new",
                                 development=development(article.lead, _NOTHING))
        story = close.story
        # the closest of its latest articles (a long story's earliest ones are far)
        related = story.closest_member(vector, RELATED_AMONG)
        later = not math.isnan(article.when) and not math.isnan(story.first) \
            and article.when - story.first > DEVELOPMENT_AFTER
        return StoryDecision(
            article.article_id, story.story_id, "development" if later else "same_event",
            related, round(close.cosine, 4), _evidence(vector, story.center(), article.terms),
            development(article.lead, story.total.hashes, article.language))

    def _prune(self) -> None:
        """Keep the MAX_ARTICLES most recent articles (by first seen): a long run's
        memory stays flat. The others are taken out of their stories and of the
        document frequencies."""
        self._kept.sort(key=lambda kept: kept[0].first_seen_at)
        gone = [a for a, _ in self._kept[:-MAX_ARTICLES]]
        self._kept = self._kept[-MAX_ARTICLES:]
        self.copies = self.copies.pruned(MAX_ARTICLES)
        self.events.frequencies.remove([a.terms for a in gone])
        self.events.remove([(a.story_id or a.article_id, a.article_id) for a in gone])

    def _index_kept(self) -> None:
        vectors = {a.article_id: v for a, v in self._kept}
        self.events.add_many([(a.story_id or a.article_id, a.article_id, vectors[a.article_id],
                               a.when) for a in _in_date_order([a for a, _ in self._kept])])


def _in_date_order(articles: Sequence[StoryArticle]) -> list[StoryArticle]:
    """Dated articles by date, then the undated in the order given."""
    return sorted(articles, key=lambda a: (a.published_at is None,
                                           a.when if a.published_at else 0.0))


def _plain(article: StoryArticle, story_id: str | None = None) -> StoryArticle:
    """What the matcher keeps of an article: no fingerprint (the copy index holds the
    sketch), no labels (only a new article's evidence needs them)."""
    terms = article.terms
    if terms.labels:
        terms = replace(terms, labels=(), kinds="")
    return replace(article, terms=terms, fingerprint=_NO_FINGERPRINT,
                   story_id=story_id or article.story_id, lead=NO_LEAD)


_NO_FINGERPRINT = Fingerprint(frozenset())
_NOTHING = np.zeros(0, np.int64)


def _evidence(vector: Vector, center: Vector, terms: Terms) -> tuple[Evidence, ...]:
    """The shared terms that weighed most in the article's cosine with the story."""
    shared, mine, theirs = np.intersect1d(vector.hashes, center.hashes, assume_unique=True,
                                          return_indices=True)
    parts = vector.weights[mine] * center.weights[theirs]
    total = float(parts.sum())
    if not total:
        return ()
    where = np.searchsorted(terms.hashes, shared)
    # a watched entity, its name and its word are one piece of evidence ("Kazakhstan")
    merged: dict[str, list] = {}
    for i in np.argsort(-parts, kind="stable").tolist():
        label, kind = terms.labels[where[i]], _KINDS.get(terms.kinds[where[i]], "word")
        entry = merged.setdefault(label.casefold(), [label, kind, 0.0])
        entry[2] += float(parts[i])
        if kind == "name":
            entry[:2] = label, kind
    # and a name's words are the name ("tokayev" is "Kassym-Jomart Tokayev")
    names = [(e, _words(e[0])) for e in merged.values() if e[1] == "name"]
    for key, entry in list(merged.items()):
        if entry[1] != "name":
            owner = next((n for n, words in names if key in words), None)
            if owner is not None:
                owner[2] += entry[2]
                del merged[key]
    ranked = sorted(merged.values(), key=lambda e: -e[2])[:EVIDENCE_TERMS]
    return tuple(Evidence(label, kind, round(part / total, 3)) for label, kind, part in ranked)


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^\w]+", name.casefold()) if w}
