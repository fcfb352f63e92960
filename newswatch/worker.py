"""Entry points for the extraction process pool: extract and tag a page in one go,
and read off it what story matching compares.

Extraction, tagging and the story features are CPU-bound, so the flows run
them in a pool of processes (both cores). Each worker builds its tagger once, from the
watchlist file, in `init_worker`; pages then arrive as (html, url) pairs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from newswatch.extractors.annotate import annotate
from newswatch.extractors.article import Extraction, extract_article
from newswatch.extractors.date_languages import read_dates_in
from newswatch.extractors.identity import content_hash
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.lifeline import end_with_parent
from newswatch.stories.copies import fingerprint
from newswatch.stories.novelty import read_lead
from newswatch.stories.terms import article_terms

_tagger: Tagger | None = None
_min_chars: int | None = None


def init_worker(watchlist_path: str, min_chars: int | None = None,
                date_languages: Sequence[str] | None = None) -> None:
    """Pool initializer: compile the watchlist once per worker process, read dates
    in the sources' languages (None: the default ones), and end with the pool's
    forkserver (which ends with the run)."""
    global _tagger, _min_chars
    end_with_parent()
    if date_languages is not None:
        read_dates_in(date_languages)
    _tagger = Tagger(load_watchlist(watchlist_path))
    _min_chars = min_chars


def extract_and_tag(html: str, url: str | None) -> Extraction:
    """Extract the article of a page and tag it; the raw HTML is not sent back."""
    if _tagger is None:
        raise RuntimeError("init_worker was not called in this process")
    kwargs = {"min_chars": _min_chars} if _min_chars is not None else {}
    started = time.perf_counter()
    extraction = extract_article(html, url, **kwargs)
    extracted = time.perf_counter()
    article = extraction.article
    if article is not None:
        article = annotate(article, _tagger)
        # story matching and loading need them later: computed here, on every core;
        # the raw HTML is not sent back (the caller holds the page already)
        article = replace(
            article, raw="", fingerprint=fingerprint(article.text),
            terms=article_terms(article.title, article.text, article.mentions,
                                article.language),
            lead=read_lead(article.text, article.title, article.language),
            text_hash=content_hash(article.text))
    return replace(extraction, article=article,
                   seconds=(extracted - started, time.perf_counter() - extracted))


def extract_and_tag_many(pages: list[tuple[str, str | None]]) -> list[Extraction]:
    """Several pages per call: one round trip to the worker instead of one per page."""
    return [extract_and_tag(html, url) for html, url in pages]
