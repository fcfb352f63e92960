"""A story's timeline as plain text: its articles in publication order, each with
how it joined the story and the sentence that says what it added.

    2022-01-13  development  Foreign Policy
                As CSTO Troops Leave, Kazakhstan Faces the Unknown
                > A contingent of troops ... will begin withdrawing from Kazakhstan today ...
                why: Kazakhstan, CSTO, Tokayev (0.40)
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from newswatch.warehouse.stories import TimelineEntry

__all__ = ["render_timeline"]

_INDENT = " " * 12
_WIDTH = 88


def render_timeline(story_id: str, entries: Sequence[TimelineEntry], timezone: str) -> str:
    """The timeline of `story_id`; dates in `timezone`."""
    if not entries:
        return f"No story {story_id}.\n"
    zone = ZoneInfo(timezone)
    days = [e.published_at.astimezone(zone).date() for e in entries]
    outlets = {e.outlet for e in entries if e.outlet}
    first = entries[0]
    lines = [f"Story {story_id}: {_one_line(first.title or '(no headline)')}",
             f"{len(entries)} article{'s' if len(entries) != 1 else ''}, {days[0]} to "
             f"{days[-1]}, {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}", ""]
    for day, entry in zip(days, entries, strict=True):
        relation = (entry.relation or "").replace("_", " ")
        lines.append(f"{day}  {relation:<12} {_one_line(entry.outlet or 'unknown outlet')}")
        lines.append(_INDENT + _one_line(entry.title or entry.url or entry.seed_file or ""))
        if entry.development:
            lines += textwrap.wrap("> " + _one_line(entry.development), _WIDTH,
                                   initial_indent=_INDENT, subsequent_indent=_INDENT + "  ")
        if entry.evidence:
            terms = ", ".join(e["term"] for e in entry.evidence[:4])
            lines += textwrap.wrap(f"why: {terms} ({entry.score:.2f})", _WIDTH,
                                   initial_indent=_INDENT, subsequent_indent=_INDENT)
        elif entry.relation == "copy":
            lines.append(f"{_INDENT}copies {entry.related_article_id} ({entry.score:.2f} of"
                         " its wording)")
        link = entry.url or (f"seed file {entry.seed_file}" if entry.seed_file else None)
        if link:
            lines.append(_INDENT + link)
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """Untrusted text on one line: no line breaks or control characters."""
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))
