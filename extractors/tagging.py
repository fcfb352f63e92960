"""Find the watchlist's entities in article text.

One regular expression holds every name form and demonym of every entity,
compiled once per watchlist; at any position the longest form wins.

    >>> tagger = Tagger(load_watchlist("seeds/watchlist.toml"))
    >>> [(m.entity_id, m.surface, m.form) for m in tagger.tag("Tokaev asked the Kremlin.")]
    [('tokayev', 'Tokaev', 'name'), ('russia', 'Kremlin', 'demonym')]

Matching rules (the watchlist file explains them to analysts):
- case-sensitive, plus an ALL-CAPS form of every name of 3+ letters (datelines);
- whole words, but hyphens split words ("Russia-linked"), and a form ending in a
  lowercase letter may be glued to a capital ("TokayevImage", a scraping error);
- whitespace inside a form matches any whitespace run, NBSP and newlines included;
- a Cyrillic word may take an inflectional ending of up to 3 lowercase letters;
- context rules: `not_after` / `not_before` words veto a match;
- a form right after "Center for", "Institute of" ... names an institution, not the entity.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from newswatch.extractors.records import Mention
from newswatch.extractors.sentences import sentence_at, sentence_spans
from newswatch.extractors.watchlist import Watchlist

__all__ = ["Tagger"]

log = logging.getLogger(__name__)

# Character-class bodies; Kazakh adds ә ғ қ ң ө ұ ү һ і to the Russian alphabet.
_CYR_UPPER = "\u0400-\u042f\u0492\u049a\u04a2\u04ae\u04b0\u04ba\u04d8\u04e8"
_CYR_LOWER = "\u0430-\u044f\u0450-\u045f\u0493\u049b\u04a3\u04af\u04b1\u04bb\u04d9\u04e9"
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de" + _CYR_UPPER
_ENDING = 3  # Russian/Kazakh case endings: -а, -ом, -ами, -ның
_HYPHENS = "-\u2010\u2011"
_APOSTROPHES = "'\u2019"
# After a letter/digit: nothing alphanumeric may follow ...
_STRICT_TAIL = r"(?![^\W_])"
# ... except a capital, after a lowercase letter (words glued by a scraper).
_LOWER_TAIL = rf"(?![^\W_{_UPPER}])"
_INSTITUTION_RE = re.compile(
    r"\b(?:Center|Centre|Institute|School|Department|Faculty|Program|Programme|Society"
    r"|Association|Journal|Chair)\s+(?:for|of|on)\s+(?:the\s+)?\Z"
)
_INSTITUTION_WINDOW = 40


@dataclass(frozen=True, slots=True)
class _Form:
    """What a match of one alternative of the big pattern means."""

    entity_id: str
    form: str  # "name" | "demonym"
    not_after: re.Pattern[str] | None
    not_before: re.Pattern[str] | None


class Tagger:
    """Tags text with the entities of one watchlist; build once, reuse for every article."""

    def __init__(self, watchlist: Watchlist):
        self.watchlist = watchlist
        # who may be quoted as a speaker: people and organisations, not places
        self.speakers = {e.entity_id: e.name for e in watchlist if e.kind in ("PERSON", "ORG")}
        seen: set[str] = set()
        grouped: dict[str, list[tuple[str, str, _Form]]] = {}
        for entity in watchlist:
            not_after = _words_re(entity.not_after)
            not_before = _words_re(entity.not_before)
            for kind, forms in (("name", entity.aliases), ("demonym", entity.demonyms)):
                form = _Form(entity.entity_id, kind, not_after, not_before)
                for alias in forms:
                    for variant, caps in _variants(alias, kind):
                        if variant in seen:
                            log.debug("form %r already watched; skipped for %s", variant, form)
                            continue
                        seen.add(variant)
                        regex = _form_regex(variant, caps)
                        grouped.setdefault(variant[0], []).append((variant, regex, form))
        self._pattern, self._forms = _compile(grouped)

    def tag(self, text: str) -> list[Mention]:
        """Mentions in `text`, sorted by start offset."""
        if self._pattern is None:
            return []
        found: list[tuple[int, int, _Form]] = []
        search = self._pattern.search
        pos = 0
        while m := search(text, pos):
            start, end = m.span()
            form = self._forms[m.lastindex]
            if _accepted(text, start, end, form):
                found.append((start, end, form))
                pos = end
            else:
                pos = start + 1  # a vetoed match must not hide one starting inside it
        if not found:
            return []
        sentences = _Sentences(text)
        return [
            Mention(
                entity_id=form.entity_id,
                surface=text[start:end],
                start_char=start,
                end_char=end,
                sentence=sentences.around(start, end),
                form=form.form,
            )
            for start, end, form in found
        ]


def _variants(alias: str, kind: str) -> list[tuple[str, bool]]:
    """The alias as written, and for names its ALL-CAPS form (not for 'Xi' -> 'XI')."""
    out = [(alias, False)]
    upper = alias.upper()
    if kind == "name" and upper != alias and sum(ch.isalpha() for ch in alias) >= 3:
        out.append((upper, True))
    return out


def _form_regex(alias: str, caps: bool) -> str:
    """Regex for one form, without its first character (the pattern groups forms by it)."""
    compound_head = alias[-1] in _HYPHENS  # "Russo-": only as the head of a compound
    words = alias.rstrip(_HYPHENS).split()
    parts = []
    for word in words:
        regex = "".join(_char_regex(ch) for ch in word)
        if _cyrillic(word[-1]) and word[-1].islower():
            regex += f"[{_CYR_LOWER}]{{0,{_ENDING}}}"
        elif _cyrillic(word[-1]) and caps:
            regex += f"[{_CYR_UPPER}]{{0,{_ENDING}}}"
        parts.append(regex)
    body = r"\s+".join(parts)
    last = words[-1][-1]
    if compound_head:
        tail = f"(?=[{_HYPHENS}])"
    elif not last.isalnum():
        tail = ""  # "U.S." ends with its own boundary
    elif last.islower():
        tail = _LOWER_TAIL
    else:
        tail = _STRICT_TAIL
    first = _char_regex(alias[0])
    assert body.startswith(first)
    return body[len(first) :] + tail


def _char_regex(ch: str) -> str:
    if ch in _HYPHENS:
        return rf"(?:[{_HYPHENS}]|\s+)"  # Nur-Sultan, Nur Sultan
    if ch in _APOSTROPHES:
        return f"[{_APOSTROPHES}]"
    return re.escape(ch)


def _compile(
    grouped: dict[str, list[tuple[str, str, _Form]]],
) -> tuple[re.Pattern[str] | None, list[_Form | None]]:
    """The one pattern, and the form each marker group number stands for."""
    # Grouping by first character lets the regex engine skip to candidate
    # characters and then try only the forms that start with that character.
    forms: list[_Form | None] = [None]  # group numbers start at 1
    branches = []
    for first in sorted(grouped):
        alternatives = []
        for _, regex, form in sorted(grouped[first], key=lambda vrf: (-len(vrf[0]), vrf[0])):
            alternatives.append(regex + "()")  # empty marker group: m.lastindex names the form
            forms.append(form)
        branches.append(f"{_char_regex(first)}(?:{'|'.join(alternatives)})")
    return (re.compile("|".join(branches)) if branches else None), forms


def _cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _words_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern matching any context word (Cyrillic words with their endings)."""
    if not words:
        return None
    alternatives = []
    for word in words:
        regex = re.escape(word)
        if _cyrillic(word[-1]):
            regex += f"[{_CYR_LOWER}]{{0,{_ENDING}}}"
        alternatives.append(regex)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _accepted(text: str, start: int, end: int, form: _Form) -> bool:
    if start and text[start - 1].isalnum():
        return False
    # An apostrophe joins letters into one word ("Xi'an"), except the possessive 's.
    if end + 1 < len(text) and text[end] in _APOSTROPHES and text[end + 1].isalpha():
        if text[end + 1] != "s" or (end + 2 < len(text) and text[end + 2].isalnum()):
            return False
    if form.not_after and form.not_after.fullmatch(_word_before(text, start)):
        return False
    if form.not_before and form.not_before.fullmatch(_word_after(text, end)):
        return False
    return not _INSTITUTION_RE.search(text, max(0, start - _INSTITUTION_WINDOW), start)


def _word_before(text: str, start: int) -> str:
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i == start:
        return ""  # "mostly-Russian": no separate word before
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in _HYPHENS):
        j -= 1
    return text[j:i]


def _word_after(text: str, end: int) -> str:
    i = end
    while i < len(text) and text[i].isspace():
        i += 1
    if i == end:
        return ""
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] in _HYPHENS):
        j += 1
    return text[i:j]


class _Sentences:
    """The sentence around each mention of one text, each sentence cleaned once."""

    def __init__(self, text: str):
        self.text = text
        self.spans = sentence_spans(text)
        self.cache: dict[tuple[int, int], str] = {}

    def around(self, start: int, end: int) -> str:
        first = sentence_at(self.spans, start)
        last = first if first is not None and end <= self.spans[first][1] else None
        if last is None:  # a rare form spanning a line break
            last = sentence_at(self.spans, end - 1)
        if first is None or last is None:  # cannot happen: forms start and end on a letter
            return self.text[start:end].replace("\u00a0", " ")
        key = (first, last)
        if key not in self.cache:
            sentence = self.text[self.spans[first][0] : self.spans[last][1]]
            self.cache[key] = sentence.replace("\u00a0", " ")  # NBSP: see Mention.sentence
        return self.cache[key]
