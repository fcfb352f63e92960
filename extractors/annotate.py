"""Everything read off an article's text once it is clean: mentions, people, quotes.

One function for every path that makes an Article (seed files, fetched pages,
reprocessing), so that they all store the same things.
"""

from __future__ import annotations

from .people import find_people, find_quotes
from .records import Article
from .tagging import Tagger

__all__ = ["annotate"]


def annotate(article: Article, tagger: Tagger) -> Article:
    """Tag watched entities, then find the other people and the quotes with a speaker."""
    article.mentions = tagger.tag(article.text)
    article.people = find_people(article.text, article.mentions)
    article.quotes = find_quotes(article.text, article.mentions, tagger.speakers, article.people)
    return article
