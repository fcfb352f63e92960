"""What a digest says, independent of how it is rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Report:
    """One outlet's article of the day in a story: its link (None for a seed file, or
    a link that is no web link) and what to show where there is none."""

    outlet: str
    title: str
    link: str | None
    label: str
    copy: bool = False       # a copy of another report (syndication, wire)
    published_at: datetime | None = None


@dataclass(frozen=True)
class NewFact:
    """A sentence of the day's coverage that the story's earlier coverage did not have."""

    sentence: str
    outlet: str
    link: str | None


@dataclass
class DigestStory:
    """One story with new articles on the day: its lead report, every outlet's report
    (copies collapsed into it), and what is new."""

    title: str
    outlet: str | None
    link: str | None          # the lead report's URL; None for a seed file
    source_label: str         # what to show where there is no link
    published_at: datetime | None
    first_seen_at: datetime
    summary: str
    mentions: int
    entities: list[tuple[str, int]] = field(default_factory=list)
    # every report of the day, the lead's first
    reports: list[Report] = field(default_factory=list)
    # a story that began before the day: where it began
    development: bool = False
    began: date | None = None
    began_title: str | None = None
    began_outlet: str | None = None
    began_link: str | None = None
    earlier: int = 0          # its articles before the day
    # what is new: the day's sentences that its earlier coverage did not have, or,
    # for a story that began on the day, what each of its reports added, in order
    new: list[NewFact] = field(default_factory=list)
    # people the story names for the first time, next to watched entities
    names: list[str] = field(default_factory=list)
    # its most telling quote: (speaker, words), when the text attributes one
    quote: tuple[str, str] | None = None
    story_id: str = ""

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(r.outlet for r in self.reports)) or [
            self.outlet or "unknown outlet"]

    @property
    def also(self) -> list[Report]:
        """The day's other reports (every one but the lead's)."""
        return self.reports[1:]

    @property
    def dates(self) -> str:
        """'published 2022-01-08' or 'published 2022-01-08 to 2022-01-20': its reports'."""
        days = sorted({r.published_at.date() for r in self.reports if r.published_at}) or (
            [self.published_at.date()] if self.published_at else [])
        if not days:
            return ""
        span = days[0].isoformat() if len(days) == 1 else \
            f"{days[0].isoformat()} to {days[-1].isoformat()}"
        return f"published {span}"

    @property
    def entity_line(self) -> str:
        """'Kazakhstan (20), CSTO (3)': the watched entities it mentions, most first."""
        return ", ".join(f"{name} ({n})" for name, n in self.entities)

    @property
    def began_line(self) -> str | None:
        """'Began on 2022-01-08 with “What Is the CSTO...” (Foreign Policy); 3 articles
        since': where a development began."""
        if not self.development or self.began is None:
            return None
        source = f" ({self.began_outlet})" if self.began_outlet else ""
        since = f"; {self.earlier} article{'s' if self.earlier != 1 else ''} before today"
        return (f"Began on {self.began.isoformat()} with “{self.began_title or 'an article'}”"
                f"{source}{since}")


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
    # how the day was counted: "first_seen" (the daily mail) or "published" (history)
    day_of: str = "first_seen"

    @property
    def attention_scale(self) -> float:
        """The largest count in the attention table, for drawing its bars."""
        return max([1.0] + [max(a.today, a.trailing_mean) for a in self.attention])

    @property
    def new_stories(self) -> list[DigestStory]:
        return [s for s in self.stories if not s.development]

    @property
    def developments(self) -> list[DigestStory]:
        return [s for s in self.stories if s.development]

    @property
    def count_line(self) -> str:
        """'3 stories (1 development)': as the warehouse counts them (digest_stories)."""
        n, later = len(self.stories), len(self.developments)
        if not n:
            return "no stories"
        line = f"{n} stor{'y' if n == 1 else 'ies'}"
        return line + (f" ({later} development{'s' if later != 1 else ''})" if later else "")

    @property
    def day_label(self) -> str:
        """What the day counts: 'first seen' or 'published'."""
        return "published" if self.day_of == "published" else "first seen"

    @property
    def subject(self) -> str:
        # Only our own words and numbers: untrusted titles never reach a header.
        return f"newswatch digest for {self.day.isoformat()}: {self.count_line}"
