"""The flows' side of story matching, between tagging and loading.

A run reads the recent stories from the warehouse once (`recent_articles`),
keeps them in a `StoryMatcher`, and matches each batch's new articles against
them inside the batch's load transaction:

    with load_transaction(con):
        new = select_new(con, articles)             # warehouse: not held yet
        stories = recent.decide(con, new, now)      # newswatch.stories decides
        stage_articles(con, new, stories, ...)      # warehouse: stores

The recent stories are read again when the warehouse holds articles this run
did not add (another process loaded, or a batch rolled back) or after an hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from newswatch.extractors.records import Article
from newswatch.stories.copies import Fingerprint, fingerprint
from newswatch.stories.match import StoryArticle, StoryMatcher
from newswatch.stories.novelty import Lead, read_lead
from newswatch.stories.terms import Terms, article_terms
from newswatch.warehouse.load import NewArticles, StoryRows
from newswatch.warehouse.stories import recent_articles, terms_version

__all__ = ["RecentStories", "story_article"]

# a publication date this far after an article was first seen is a page's mistake
_FUTURE = timedelta(days=1)


class RecentStories:
    """The recent stories of one run, read from the warehouse once, kept up to date."""

    REFRESH = timedelta(hours=1)

    def __init__(self) -> None:
        self._matcher: StoryMatcher | None = None
        self._version = -1            # article_terms rows the matcher accounts for
        self._read_at: datetime | None = None

    def matcher(self, con: duckdb.DuckDBPyConnection, now: datetime) -> StoryMatcher:
        version = terms_version(con)
        if (self._matcher is None or version != self._version
                or self._read_at is None or now - self._read_at > self.REFRESH):
            self._matcher = StoryMatcher(recent_articles(con, now))
            self._version, self._read_at = version, now
        return self._matcher

    def decide(self, con: duckdb.DuckDBPyConnection, new: NewArticles,
               now: datetime) -> StoryRows:
        """The stories of a batch's new articles (first seen `now`); the loads take it
        as `partial(recent.decide, con)`."""
        matcher = self.matcher(con, now)
        arrivals = [story_article(aid, article, now) for aid, article in new.articles]
        decisions = matcher.match(arrivals)
        self._version += len(arrivals)  # once committed; a rollback shows as a mismatch
        return StoryRows(arrivals, decisions)


def story_article(aid: str, article: Article, now: datetime) -> StoryArticle:
    """An extracted article as story matching sees it; its terms and fingerprint are
    computed here unless an extraction worker did it ahead."""
    terms = article.terms if isinstance(article.terms, Terms) else article_terms(
        article.title, article.text, article.mentions, article.language)
    copy = article.fingerprint if isinstance(article.fingerprint, Fingerprint) \
        else fingerprint(article.text)
    published = article.published_at
    if published is not None and (published.tzinfo is None or published > now + _FUTURE):
        published = None
    lead = article.lead if isinstance(article.lead, Lead) else read_lead(
        article.text, article.title, article.language)
    return StoryArticle(aid, now, published, terms, copy, lead=lead, language=article.language)
