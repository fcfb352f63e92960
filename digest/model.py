"""What a digest says, independent of how it is rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class DigestStory:
    """One story of the day: an article (later, a group of copies) with its summary."""

    title: str
    outlet: str | None
    link: str | None          # the article's URL; None for a seed file
    source_label: str         # what to show where there is no link
    published_at: datetime | None
    first_seen_at: datetime
    summary: str
    mentions: int
    entities: list[tuple[str, int]] = field(default_factory=list)
    # the same story from other outlets that day: (outlet, link or label)
    also: list[tuple[str, str | None]] = field(default_factory=list)
    # 'Follow-up to "Title" (Outlet), first seen on 2022-01-13', for a story seen before
    earlier: str | None = None
    earlier_link: str | None = None
    # its most telling quote: (speaker, words), when the text attributes one
    quote: tuple[str, str] | None = None

    @property
    def outlets(self) -> list[str]:
        names = [self.outlet or "unknown outlet"] + [o for o, _ in self.also]
        return list(dict.fromkeys(names))

    @property
    def entity_line(self) -> str:
        """'Kazakhstan (20), CSTO (3)': the watched entities it mentions, most first."""
        return ", ".join(f"{name} ({n})" for name, n in self.entities)


@dataclass
class Digest:
    day: date
    timezone: str
    stories: list[DigestStory]
    generated_at: datetime
    # mentions per entity on the day against the 7 days before (warehouse.digest.Attention)
    attention: list = field(default_factory=list)
    # people first named next to watched entities that day (warehouse.digest.NewName)
    names: list = field(default_factory=list)

    @property
    def attention_scale(self) -> float:
        """The largest count in the attention table, for drawing its bars."""
        return max([1.0] + [max(a.today, a.trailing_mean) for a in self.attention])

    @property
    def new_stories(self) -> list[DigestStory]:
        return [s for s in self.stories if s.earlier is None]

    @property
    def follow_ups(self) -> list[DigestStory]:
        return [s for s in self.stories if s.earlier is not None]

    @property
    def subject(self) -> str:
        # Only our own words and numbers: untrusted titles never reach a header.
        n = len(self.stories)
        count = "no new stories" if n == 0 else f"{n} new stor{'y' if n == 1 else 'ies'}"
        return f"newswatch digest for {self.day.isoformat()}: {count}"
