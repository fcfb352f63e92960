"""People the text names, and what they are quoted as saying.

No language model here (nothing may be downloaded): a person is a run of two
to four capitalised words that the text itself marks as a person, by a
speech verb ("said Alexander Cooley", "Cooley notes"), a title or role before
it ("Kazakh analyst Aiman Zhussupova", "President Joe Biden") or a role after
it ("Nargis Kassenova, a senior fellow at ..."). A surname alone counts when
the same text gave the full name: "Murtazashvili said" is Jennifer Brick
Murtazashvili. Names that are watched entities are left to the tagger.

    >>> text = '“It is huge,” said Jennifer Brick Murtazashvili, an expert on Asia.'
    >>> [(p.name, p.cue) for p in find_people(text, [])]
    [('Jennifer Brick Murtazashvili', 'speech')]
    >>> [(q.speaker, q.text) for q in find_quotes(text, [], {})]
    [('Jennifer Brick Murtazashvili', 'It is huge,')]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence

from .records import Mention, PersonMention, Quote
from .sentences import sentence_at, sentence_spans

__all__ = ["find_people", "find_quotes"]

_UP = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0400-\u042f"
_LOW = "a-z\u00df-\u00f6\u00f8-\u00ff\u0430-\u045f"
# One name word: Cooley, Murtazashvili, O'Brien, McFaul, Kassym-Jomart, Жусупова.
_WORD = rf"(?:Mc|Mac|O['’])?[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)?"
_PARTICLE = r"(?:de|van|von|der|al-|bin|ibn|da|di|du|la|le)"
_NAME = rf"{_WORD}(?:[ \u00a0](?:{_PARTICLE}[ \u00a0]?)?{_WORD}){{0,3}}"
_NAME_RE = re.compile(rf"(?<![\w'’-]){_NAME}(?![\w-])")

_SPEECH = (
    r"said|says|told|tells|added|adds|noted|notes|wrote|writes|argued|argues|explained"
    r"|explains|warned|warns|stated|states|believes|believed|thinks|thought|insisted"
    r"|insists|observed|observes|remarked|commented|comments|cautioned|asked|asks"
    r"|suggested|suggests|concluded|claimed|claims|recalled|acknowledged|admitted"
)
_SPEECH_AFTER_RE = re.compile(rf"^,?\s(?:has\s|had\s|also\s)?(?:{_SPEECH})\b")
_SPEECH_BEFORE_RE = re.compile(rf"\b(?:{_SPEECH}|according\sto)\s(?:[{_LOW}\s-]*\s)?\Z")
_TITLES = (
    r"President|Prime\sMinister|Minister|Secretary(?:-General)?|Senator|Ambassador"
    r"|General|Gen\.|Colonel|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Prof\.?|Professor|Chairman|Chairwoman"
    r"|Speaker|Governor|Mayor|Deputy|Spokesman|Spokeswoman|Spokesperson|Director|Judge"
    r"|analyst|expert|spokesman|spokeswoman|spokesperson|journalist|activist|researcher"
    r"|fellow|commentator|official|editor|scholar|professor|lawyer|economist|historian"
    r"|politician|diplomat|blogger|leader|chief|adviser|advisor|founder|correspondent"
)
# "analyst Aiman Zhussupova", "Ambassador to Russia Michael McFaul"
_TITLE_BEFORE_RE = re.compile(
    rf"\b(?:{_TITLES})\s(?:(?:to|of|for|in|at)\s(?:the\s)?(?:[{_UP}][\w.-]*\s){{1,3}})?\Z")
_ROLE_AFTER_RE = re.compile(
    rf"^,\s(?:(?:a|an|the|who\sis|former|then)\s)[^,.;]{{0,80}}?\b(?:{_TITLES}|president"
    r"|minister|director|head|professor|lecturer|senior|deputy|member|author|ambassador"
    r"|secretary|chairman|founder|partner|associate)",
)
# Capitalised words that are not names of people, wherever they stand.
_NOT_NAME = frozenset(
    """
    The A An In On At As By For From With Without Into Of To And But Or Nor Yet So If When
    While After Before Since Until Although Though Because However Meanwhile Still Also Then
    This That These Those There Here Their His Her Its Our Your My We They He She It I You
    Some Many Most All Any Each Every Other Another Such No Not One Two Three Only Even Just
    What Which Who Whom Whose Where Why How Last Next New Old Former Later Earlier Now Today
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December
    University Institute Center Centre Council Ministry Department Agency Organization
    Organisation Union Party Committee Foundation Group Bank Fund News Times Post Press Service
    Services Forces Army Navy Security Republic Federation Kingdom States Nations Treaty Office
    Court Parliament Government Assembly Company Corporation International Association Affairs
    Studies Review Journal Daily Radio Television Square Street Airport Region Province City
    Asia Europe America Africa Middle East West North South Central Eastern Western Northern
    Southern Soviet Foreign Defence Defense National Federal State Public Policy Program
    Programme Project Initiative Media Network Agency Reuters Twitter Facebook Telegram Image
    Photo Getty Read More Share Subscribe Advertisement President Minister Prime General
    Secretary Senator Ambassador Mr Mrs Ms Dr Prof Professor Chairman Deputy Spokesman
    Spokeswoman Director Analyst Expert God Allah Islam Christmas Easter Ramadan Covid
    College School Academy Administration Presidential Commission Embassy Bureau Board
    Society Club Museum Hospital Police Guard Military Brigade Battalion Weekly Magazine
    Gazette Tribune Herald Observer Insights Economist Guardian Telegraph Journal Kremlin
    """.split()
)
_QUOTE_RE = re.compile(r"“([^“”]{12,600})”|\"([^\"\n]{12,600})\"|«([^«»]{12,600})»")
_MIN_QUOTE_WORDS, _MAX_QUOTE_WORDS = 6, 70


def find_people(text: str, mentions: Sequence[Mention]) -> list[PersonMention]:
    """People named in `text` who are not watched entities, each mention once.

    `near_watched` says whether the mention's sentence, or the one next to
    it, names a watched entity (the candidates the digest shows).
    """
    spans = sentence_spans(text)
    watched = _Spans(mentions)
    near = _sentences_with_mentions(spans, mentions)
    found: list[tuple[int, int, str, str]] = []  # start, end, name, cue
    for match in _NAME_RE.finditer(text):
        if " " not in match.group() and "\u00a0" not in match.group():
            # one word, most matches: a person only as the surname of a full name below
            if match.group() not in _NOT_NAME and not watched.overlaps(*match.span()):
                found.append((*match.span(), match.group(), ""))
            continue
        start, end, name = _trim(match.start(), match.group(), watched)
        if name is None:
            continue
        # a surname alone is a person only through a full name: no need for its cue
        cue = _cue(text, start, end) if " " in name else None
        found.append((start, end, name, cue or ""))
    # a full name the text marks as a person; then its surname alone is that person too
    full = {name for _, _, name, cue in found if cue and " " in name}
    by_surname: dict[str, str] = {}
    for name in sorted(full, key=len, reverse=True):
        by_surname.setdefault(name.split()[-1], name)
    people = []
    for start, end, surface, cue in found:
        if " " in surface and surface in full:
            name = surface
        elif " " not in surface and surface in by_surname:
            name = by_surname[surface]
        elif " " in surface and surface.split()[-1] in by_surname and cue == "":
            # "Jennifer Murtazashvili" after "Jennifer Brick Murtazashvili": the same person
            name = by_surname[surface.split()[-1]]
        else:
            continue
        index = sentence_at(spans, start)
        sentence = text[spans[index][0]:spans[index][1]] if index is not None else surface
        people.append(PersonMention(
            name=name, surface=surface, start_char=start, end_char=end,
            sentence=sentence.replace("\u00a0", " "), cue=cue or "same_text",
            near_watched=index is not None and index in near,
        ))
    return people


def find_quotes(
    text: str, mentions: Sequence[Mention], watched_names: Mapping[str, str],
    people: Sequence[PersonMention] | None = None,
) -> list[Quote]:
    """Quotations with a speaker the text names right before or after them.

    `watched_names` maps the ids of watched entities that can speak (people,
    organisations) to their names, so that "Tokayev said" gives the speaker
    "Kassym-Jomart Tokayev"; a watched place is never a speaker. A quote scores higher for naming
    watched entities and for being a sentence or two rather than a phrase.
    """
    people = find_people(text, mentions) if people is None else people
    speakers: list[tuple[int, int, str]] = [(p.start_char, p.end_char, p.name) for p in people]
    speakers += [(m.start_char, m.end_char, watched_names.get(m.entity_id, m.surface))
                 for m in mentions if m.form == "name" and m.entity_id in watched_names]
    speakers.sort()
    quotes = []
    for match in _QUOTE_RE.finditer(text):
        # '“... the EU,” said X': the comma belongs to the sentence around the quote
        body = next(g for g in match.groups() if g is not None).strip().rstrip(",;:")
        words = len(body.split())
        if not _MIN_QUOTE_WORDS <= words <= _MAX_QUOTE_WORDS:
            continue
        speaker = _speaker_after(text, match.end(), speakers) or _speaker_before(
            text, match.start(), speakers)
        if speaker is None:
            continue
        inside = {m.entity_id for m in mentions
                  if match.start() <= m.start_char < match.end() and m.form == "name"}
        score = 2.0 * len(inside) + min(words, 40) / 10 + (1.0 if body[-1:] in ".!?" else 0)
        quotes.append(Quote(speaker=speaker, text=body, start_char=match.start(),
                            end_char=match.end(), score=round(score, 2)))
    return quotes


def _trim(start: int, surface: str, watched: _Spans) -> tuple[int, int, str | None]:
    """Drop leading words that cannot begin a name ("But Alexander Cooley", "Russia
    Michael McFaul"); a span with such a word inside is no person's name ("Davis
    Center"), nor is one that overlaps a watched entity."""
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", surface)]
    while words and (words[0][1].rstrip(".") in _NOT_NAME or watched.overlaps(
            start + words[0][0], start + words[0][0] + len(words[0][1]))):
        words.pop(0)
    if not words or any(w.rstrip(".") in _NOT_NAME for _, w in words):
        return start, start, None
    if watched.overlaps(start + words[0][0], start + words[-1][0] + len(words[-1][1])):
        return start, start, None
    first, last = words[0], words[-1]
    return start + first[0], start + last[0] + len(last[1]), " ".join(w for _, w in words)


def _cue(text: str, start: int, end: int) -> str | None:
    """What marks the name at [start, end) as a person's, if anything."""
    before = text[max(0, start - 60):start]
    after = text[end:end + 120]
    if _SPEECH_AFTER_RE.match(after) or _SPEECH_BEFORE_RE.search(before[-40:]):
        return "speech"
    if _TITLE_BEFORE_RE.search(before):
        return "title"
    if _ROLE_AFTER_RE.match(after):
        return "role"
    return None


def _speaker_after(text: str, end: int, speakers: Sequence[tuple[int, int, str]]) -> str | None:
    """'..., said Cooley' / '..." Cooley said' / '..., according to analyst X'."""
    for start, stop, name in speakers:
        if end <= start <= end + 80:
            gap = text[end:start]
            said_before = re.search(rf"\b(?:{_SPEECH}|according\sto)\b", gap)
            # '..." Alexander Cooley, an expert at Barnard College, told Foreign Policy.'
            said_after = re.match(rf"[^.!?“”\"\n]{{0,120}}?\b(?:{_SPEECH})\b",
                                  text[stop:stop + 130])
            # "said a political scientist in Almaty": a place, not the speaker
            after_preposition = re.search(r"\b(?:in|at|from|of|for|with|to|on)\s*\Z", gap)
            if ("\n" not in gap and (said_before or said_after) and len(gap) < 60
                    and not after_preposition):
                return name
        if start > end + 80:
            break
    return None


def _speaker_before(text: str, start: int, speakers: Sequence[tuple[int, int, str]]) -> str | None:
    """'Cooley said: "..."' / 'Cooley told Reuters that "..."'."""
    for _, stop, name in reversed(speakers):
        if stop <= start and start - stop < 40:
            gap = text[stop:start]
            if "\n" not in gap and re.match(rf"\s*,?\s*(?:{_SPEECH})\b[^.!?]*\Z", gap):
                return name
        if stop < start - 40:
            break
    return None


class _Spans:
    """The watched mentions' spans, sorted and non-overlapping (as the tagger gives
    them), for overlap checks in O(log n)."""

    def __init__(self, mentions: Sequence[Mention]):
        spans = sorted((m.start_char, m.end_char) for m in mentions)
        self._starts = [s for s, _ in spans]
        self._ends = [e for _, e in spans]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self._ends, start)  # the first span ending after `start`
        return i < len(self._starts) and self._starts[i] < end


def _sentences_with_mentions(
    spans: list[tuple[int, int]], mentions: Sequence[Mention]
) -> set[int]:
    """Indices of sentences that name a watched entity, and of their neighbours."""
    near: set[int] = set()
    for m in mentions:
        index = sentence_at(spans, m.start_char)
        if index is not None:
            near.update((index - 1, index, index + 1))
    return near
