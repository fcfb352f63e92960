"""From the warehouse's rows to a Digest: summaries and labels, no SQL, no HTML."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from newswatch.extractors.summary import summarize
from newswatch.warehouse.digest import Attention, DigestArticle, NewName

from .model import Digest, DigestStory


def build_digest(
    articles: Sequence[DigestArticle], day: date, timezone: str, *, now: datetime | None = None,
    attention: Sequence[Attention] = (), names: Sequence[NewName] = (),
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
        earlier, earlier_link = _earlier(group, day, zone)
        summary = summarize(lead.text, lead.spans, n=2, title=lead.title)
        stories.append(DigestStory(
            title=lead.title or _first_words(lead.text),
            outlet=lead.outlet,
            link=_safe_link(lead.url),
            source_label=lead.url or f"seed file {lead.seed_file}",
            published_at=lead.published_at,
            first_seen_at=lead.first_seen_at,
            summary=summary,
            mentions=sum(a.mentions for a in group),
            entities=sorted(entities.items(), key=lambda kv: (-kv[1], kv[0])),
            also=[(a.outlet or "unknown outlet", _safe_link(a.url)) for a in group[1:]],
            earlier=earlier,
            earlier_link=earlier_link,
            quote=_quote(group, summary),
        ))
    return Digest(day=day, timezone=timezone, stories=stories,
                  generated_at=now or datetime.now(UTC), attention=list(attention),
                  names=list(names))


def _earlier(
    group: Sequence[DigestArticle], day: date, zone: ZoneInfo
) -> tuple[str | None, str | None]:
    """What a group continues, when that was first seen before the digest's day,
    and the link to that earlier coverage."""
    for article in group:
        earlier = article.earlier
        if earlier is None or earlier.first_seen_at.astimezone(zone).date() >= day:
            continue
        kind = "Follow-up to" if earlier.relation == "follow_up" else "Also ran as"
        source = f" ({earlier.outlet})" if earlier.outlet else ""
        first = earlier.first_seen_at.astimezone(zone).date().isoformat()
        return (f"{kind} “{earlier.title or 'an earlier article'}”{source},"
                f" first seen on {first}", _safe_link(earlier.url))
    return None, None


def _quote(group: Sequence[DigestArticle], summary: str) -> tuple[str, str] | None:
    """The most telling quote of the group that its summary does not already say."""
    flat = " ".join(summary.split())
    for article in group:
        for speaker, words in article.quotes:
            if " ".join(words.split()) not in flat:
                return speaker, words
    return None


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _safe_link(url: str | None) -> str | None:
    # Only web links become <a href>: a javascript: or data: URL stays text.
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
