"""From the warehouse's rows to a Digest: one entry per story, what is new in it,
summaries and labels; no SQL, no HTML."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from newswatch.extractors.summary import summarize
from newswatch.stories.novelty import lead_sentences, novel_sentences
from newswatch.warehouse.digest import DigestArticle, DigestData, DigestStoryRow

from .model import Digest, DigestStory, NewFact, Report

NEW_FACTS = 3            # sentences of "what is new" a development shows at most
DEVELOPMENTS = 5         # reports of a new story whose additions an entry shows
_READ_SENTENCES = 10     # of each article's body, where the news is


def build_digest(data: DigestData, day: date, timezone: str, *,
                 now: datetime | None = None) -> Digest:
    """One DigestStory per story with articles on `day`, in the warehouse's order
    (most concerned first): its reports (copies and other outlets' reports
    collapse into it), and for a story that began before the day, what is new."""
    zone = ZoneInfo(timezone)
    by_story: dict[str, list[DigestArticle]] = {}
    for article in data.articles:  # most concerned first
        by_story.setdefault(article.story_id, []).append(article)
    first_named = {n.name for n in data.names if n.is_new}
    entries = [_entry(row, by_story[row.story_id], zone, first_named)
               for row in data.stories if row.story_id in by_story]
    return Digest(day=day, timezone=timezone, stories=entries,
                  generated_at=now or datetime.now(UTC), attention=list(data.attention),
                  names=list(data.names), day_of=data.day_of)


def _entry(row: DigestStoryRow, group: Sequence[DigestArticle], zone: ZoneInfo,
           first_named: set[str]) -> DigestStory:
    lead = group[0]
    entities: Counter[str] = Counter()
    for article in group:
        entities.update(dict(article.entities))
    summary = summarize(lead.text, lead.spans, n=2, title=lead.title)
    new = _new_facts(group, row) if row.development else _developments(group)
    first = row.first
    return DigestStory(
        story_id=row.story_id,
        title=lead.title or _first_words(lead.text),
        outlet=lead.outlet,
        link=safe_link(lead.url),
        source_label=_label(lead.url, lead.seed_file),
        published_at=_local(lead.published_at, zone),
        first_seen_at=lead.first_seen_at.astimezone(zone),
        summary=summary,
        mentions=sum(a.mentions for a in group),
        entities=sorted(entities.items(), key=lambda kv: (-kv[1], kv[0])),
        reports=[Report(a.outlet or "unknown outlet", a.title or _first_words(a.text),
                        safe_link(a.url), _label(a.url, a.seed_file), a.relation == "copy",
                        _local(a.published_at, zone)) for a in group],
        development=row.development,
        began=row.began_at.astimezone(zone).date() if row.development else None,
        began_title=first.title if first else None,
        began_outlet=first.outlet if first else None,
        began_link=safe_link(first.url) if first else None,
        earlier=row.earlier,
        new=new,
        names=list(dict.fromkeys(p for a in group for p in a.people if p in first_named)),
        quote=_quote(group, " ".join([summary, *(f.sentence for f in new)])),
    )


def _new_facts(group: Sequence[DigestArticle], row: DigestStoryRow) -> list[NewFact]:
    """The day's sentences that add most to what the story covered before the day,
    each once (copies repeat them), with the report that says it."""
    found = []
    for rank, article in enumerate(group):
        sentences = lead_sentences(article.text, article.title, _READ_SENTENCES)
        for news, sentence in novel_sentences(sentences, row.covered, NEW_FACTS,
                                              article.language):
            found.append((news, -rank, sentence, article))
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    facts: list[NewFact] = []
    seen: set[str] = set()
    for _, _, sentence, article in found:
        key = " ".join(sentence.casefold().split())
        if key in seen:
            continue
        seen.add(key)
        facts.append(NewFact(sentence, article.outlet or "unknown outlet", safe_link(article.url)))
        if len(facts) == NEW_FACTS:
            break
    return facts


def _developments(group: Sequence[DigestArticle]) -> list[NewFact]:
    """For a story that began on the day with several reports: what each added when it
    arrived, in publication order (copies add nothing); none for a single report,
    whose summary says it."""
    reports = [a for a in group if a.relation != "copy" and a.development]
    if len(reports) < 2:
        return []
    reports.sort(key=lambda a: (a.published_at or a.first_seen_at, a.first_seen_at))
    return [NewFact(a.development or "", a.outlet or "unknown outlet", safe_link(a.url))
            for a in reports[:DEVELOPMENTS]]


def _quote(group: Sequence[DigestArticle], shown: str) -> tuple[str, str] | None:
    """The most telling quote of the story's day that its entry does not already say."""
    flat = " ".join(shown.split())
    for article in group:
        for speaker, words in article.quotes:
            if " ".join(words.split()) not in flat:
                return speaker, words
    return None


def _local(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time as the digest's reader keeps it: in the digest's time zone (the
    warehouse hands times over in UTC)."""
    return at.astimezone(zone) if at is not None else None


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _label(url: str | None, seed_file: str | None) -> str:
    return url or f"seed file {seed_file}"


def safe_link(url: str | None) -> str | None:
    """Only web links become <a href>: a javascript: or data: URL stays text."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
