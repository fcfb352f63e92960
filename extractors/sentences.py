"""Sentence boundaries, good enough to quote the sentence around a mention.

A rule-based splitter: a line break always ends a sentence; `.`, `!` or `?`
(and any closing quotes or brackets) end one when whitespace and a capital,
a digit or an opening quote follow, unless the word is an abbreviation
(Mr., U.S., Jan.) or an initial (J. Smith).

    >>> text = "Mr. Tokayev spoke. Putin listened."
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Mr. Tokayev spoke.', 'Putin listened.']
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right

__all__ = ["sentence_at", "sentence_spans"]

ABBREVIATIONS = frozenset(
    """
    Mr. Mrs. Ms. Dr. St. Mt. Ft. Jr. Sr. Messrs. vs. Vs. v. e.g. i.e. cf. approx. No. Nos.
    Gen. Col. Lt. Maj. Capt. Cmdr. Adm. Sgt. Cpl. Gov. Pres. Sen. Rep. Amb. Rev. Prof. Hon.
    Inc. Ltd. Co. Corp. Bros. Dept. Univ. Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct.
    Nov. Dec. Mon. Tue. Wed. Thu. Fri. Sat. Sun. Art. Vol. Fig. p. pp. para.
    """.split()
)
# Line breaks: a paragraph break or a hard-wrapped line is always a boundary.
_LINE_RE = re.compile(r"[^\n\r\u2028\u2029]+")
# A terminator, closing quotes/brackets, then (not consumed) space and a sentence opener.
_END_RE = re.compile(
    r"[.!?]+[\"'”’»)\]]*"
    r"(?=\s+[\"'“‘«(\[]*[0-9A-Z\u00c0-\u00d6\u00d8-\u00de\u0400-\u042f])"
)
_INITIALS_RE = re.compile(r"(?:[A-Za-z]\.)+")  # J.  U.S.  e.g.
_OPENERS = "\"'“‘«([*"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, end exclusive, surrounding whitespace stripped."""
    spans: list[tuple[int, int]] = []
    for line in _LINE_RE.finditer(text):
        start = line.start()
        for end in _ends(text, line.start(), line.end()):
            _add(spans, text, start, end)
            start = end
        _add(spans, text, start, line.end())
    return spans


def sentence_at(spans: list[tuple[int, int]], offset: int) -> int | None:
    """Index of the span that contains `offset`, or None (offset in whitespace)."""
    i = bisect_right(spans, (offset, sys.maxsize)) - 1  # last span starting at or before
    if i >= 0 and offset < spans[i][1]:
        return i
    return None


def _ends(text: str, start: int, end: int) -> list[int]:
    ends = []
    for m in _END_RE.finditer(text, start, end):
        if (
            text[m.start()] == "."
            and text[m.start() : m.start() + 2] != ".."
            and _abbreviation(text, start, m.start() + 1)
        ):
            continue
        ends.append(m.end())
    return ends


def _abbreviation(text: str, line_start: int, dot_end: int) -> bool:
    """Whether the word that ends with the period at dot_end - 1 is an abbreviation."""
    i = dot_end - 1
    while i > line_start and not text[i - 1].isspace():
        i -= 1
    word = text[i:dot_end].lstrip(_OPENERS)
    return word in ABBREVIATIONS or bool(_INITIALS_RE.fullmatch(word))


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
