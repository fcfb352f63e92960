"""Short extractive summaries: the sentences that say most about the watchlist.

    summarize(text, mentions, n=2) -> "Tokayev asked the CSTO ... It sent ..."

A sentence scores by the watched entities it names (distinct ones count
more than repeats) and by its position (news puts the gist first). The
title, headings and fragments are never picked. Sentences come back in the
order of the text, so the summary reads as prose.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import Mention, Span
from .sentences import sentence_spans

_MIN_WORDS = 8


def summarize(
    text: str, mentions: Sequence[Mention | Span] = (), n: int = 2, title: str | None = None
) -> str:
    """The `n` most telling sentences of `text`, in text order."""
    spans = [
        (start, end) for start, end in sentence_spans(text)
        if len(text[start:end].split()) >= _MIN_WORDS
        and text[start:end].rstrip()[-1:] in ".!?\"”’'"
        and (title is None or text[start:end].strip() != title.strip())
    ]
    if not spans:
        return ""
    scored = []
    for rank, (start, end) in enumerate(spans):
        inside = [m for m in mentions if start <= m.start_char < end and m.form == "name"]
        distinct = len({m.entity_id for m in inside})
        score = 2.0 * distinct + 0.5 * len(inside) + 3.0 / (1 + rank)
        scored.append((score, -rank, start, end))
    best = sorted(scored, reverse=True)[:n]
    chosen = sorted((start, end) for _, _, start, end in best)
    return " ".join(text[s:e].replace("\u00a0", " ").strip() for s, e in chosen)
