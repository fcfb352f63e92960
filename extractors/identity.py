"""Stable identities: which article is which, and which texts are the same."""

from __future__ import annotations

import hashlib
import re

from .records import Article

_SPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """sha256 of the text with case and whitespace normalised.

    Two copies of one article that differ only in line breaks or NBSPs
    get the same hash, so an exact duplicate is stored once.
    """
    normal = _SPACE.sub(" ", text).strip().casefold()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def article_id(article: Article) -> str:
    """A short stable id: from the canonical URL of a page, the file name of a seed."""
    if article.canonical_url or article.url:
        key = "url:" + (article.canonical_url or article.url or "")
    elif article.seed_file:
        key = "seed:" + article.seed_file
    else:
        key = "text:" + content_hash(article.text)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
