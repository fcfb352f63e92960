"""From the warehouse's rows to a Digest: summaries and labels, no SQL, no HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from newswatch.extractors.summary import summarize
from newswatch.warehouse.digest import DigestArticle

from .model import Digest, DigestStory


def build_digest(
    articles: Sequence[DigestArticle], day: date, timezone: str, *, now: datetime | None = None
) -> Digest:
    stories = []
    for article in articles:
        title = article.title or _first_words(article.text)
        stories.append(DigestStory(
            title=title,
            outlet=article.outlet,
            link=_safe_link(article.url),
            source_label=article.url or f"seed file {article.seed_file}",
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            summary=summarize(article.text, article.spans, n=2, title=article.title),
            mentions=article.mentions,
            entities=list(article.entities),
        ))
    return Digest(day=day, timezone=timezone, stories=stories,
                  generated_at=now or datetime.now(UTC))


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _safe_link(url: str | None) -> str | None:
    # Only web links become <a href>: a javascript: or data: URL stays text.
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
