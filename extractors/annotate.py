"""Everything read off an article's text once it is clean: mentions, people, quotes.

One function for every path that makes an Article (seed files, fetched pages,
reprocessing), so that they all store the same things.
"""

from __future__ import annotations

from dataclasses import replace

from .people import find_people, find_quotes
from .records import Article
from .tagging import Tagger

__all__ = ["annotate"]


def annotate(article: Article, tagger: Tagger) -> Article:
    """Tag watched entities, then find the other people and the quotes with a speaker."""
    mentions = tagger.tag(article.text)
    people = find_people(article.text, mentions)
    quotes = find_quotes(article.text, mentions, tagger.speakers, people)
    return replace(article, mentions=tuple(mentions), people=tuple(people),
                   quotes=tuple(quotes))
