"""From the warehouse's rows to a Digest: summaries and labels, no SQL, no HTML."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from newswatch.extractors.summary import summarize
from newswatch.warehouse.digest import Attention, DigestArticle

from .model import Digest, DigestStory


def build_digest(
    articles: Sequence[DigestArticle], day: date, timezone: str, *, now: datetime | None = None,
    attention: Sequence[Attention] = (),
) -> Digest:
    """One DigestStory per group of copies, led by its most concerned article.

    `articles` come most concerned first (see warehouse.digest); a group whose
    article copies or continues one first seen before `day` is a follow-up.
    """
    zone = ZoneInfo(timezone)
    groups: dict[str, list[DigestArticle]] = {}
    for article in articles:
        groups.setdefault(article.copy_root or article.article_id, []).append(article)
    stories = []
    for group in groups.values():
        lead = group[0]
        entities: Counter[str] = Counter()
        for article in group:
            entities.update(dict(article.entities))
        stories.append(DigestStory(
            title=lead.title or _first_words(lead.text),
            outlet=lead.outlet,
            link=_safe_link(lead.url),
            source_label=lead.url or f"seed file {lead.seed_file}",
            published_at=lead.published_at,
            first_seen_at=lead.first_seen_at,
            summary=summarize(lead.text, lead.spans, n=2, title=lead.title),
            mentions=sum(a.mentions for a in group),
            entities=sorted(entities.items(), key=lambda kv: (-kv[1], kv[0])),
            also=[(a.outlet or "unknown outlet", _safe_link(a.url)) for a in group[1:]],
            earlier=_earlier(group, day, zone),
        ))
    return Digest(day=day, timezone=timezone, stories=stories,
                  generated_at=now or datetime.now(UTC), attention=list(attention))


def _earlier(group: Sequence[DigestArticle], day: date, zone: ZoneInfo) -> str | None:
    """What a group continues, when that was first seen before the digest's day."""
    for article in group:
        if article.earlier is None:
            continue
        relation, title, outlet, seen = article.earlier
        if seen.astimezone(zone).date() >= day:
            continue
        kind = "Follow-up to" if relation == "follow_up" else "Also ran as"
        source = f" ({outlet})" if outlet else ""
        first = seen.astimezone(zone).date().isoformat()
        return f"{kind} “{title or 'an earlier article'}”{source}, first seen on {first}"
    return None


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _safe_link(url: str | None) -> str | None:
    # Only web links become <a href>: a javascript: or data: URL stays text.
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
