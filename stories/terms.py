"""What story matching reads off an article: its terms, weighted.

Terms are content words (casefolded, plurals folded: "troops" -> "troop"),
names (runs of two or more capitalised words: "north korea", "kim jong un";
watched entities by their id, so that "Tokaev" and "Tokayev" are one term)
and numbers ("#121" from "$121 billion"). A term counts HEADLINE_WEIGHT times
in the headline and LEAD_WEIGHT times in the lead (the first LEAD_CHARS
characters of the body): that is where a news article says what happened.

    terms = article_terms("Broadcom raises Qualcomm bid", text, mentions, "en")

Each term also carries how common it is in everyday language (`commonness`,
the share of documents expected to hold it, from wordfreq's word lists), so
that story matching weighs "China" or "said" low even before the warehouse
holds enough articles to say so.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import blake2b
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from newswatch.extractors.records import Mention

__all__ = ["HEADLINE_WEIGHT", "LEAD_CHARS", "LEAD_WEIGHT", "Terms", "article_terms",
           "term_hash"]

HEADLINE_WEIGHT = 4.0
LEAD_WEIGHT = 2.0
LEAD_CHARS = 800
# an article keeps at most this many terms (the most telling ones): storage stays small
MAX_TERMS = 400
# words that nearly every text holds carry nothing: not even kept
_UBIQUITOUS = 0.5
_KIND = {"@": "n", "=": "e", "#": "d"}
# the length (in words) of a typical article, to turn a word's frequency into the
# share of articles that hold it at least once
_TYPICAL_WORDS = 300

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*")
# in the gap before a word: it opens a sentence (or a line), or a name cannot go on
_OPENS = re.compile(r"[.!?…:;\n]")
_BREAKS = re.compile(r"[^\s\-'’]")
# lowercase words that may sit inside a name ("Bank of America", "Omar al Bashir")
_NAME_LINKS = frozenset("of de del der di da du al bin ibn van von la le".split())

# English function words, reporting verbs and page furniture that wordfreq
# rates below _UBIQUITOUS but that say nothing about an event.
STOPWORDS = frozenset("""
a about above across after again against all almost along already also although always am among
an and another any anyone anything are around as at back be became because become been before
being below between both but by can cannot could did do does doing done down during each either
else enough even ever every few for from further had has have having he her here hers herself him
himself his how however if in into is it its itself just least less many may me might more most
much must my myself neither never no nor not nothing now of off often on once one only onto or
other others otherwise our ours out over own per perhaps rather same several she should since so
some somehow someone something sometimes still such than that the their theirs them themselves
then there therefore these they this those though through thus to together too toward towards
under until up upon us very via was we well were what whatever when where whether which while who
whom whose why will with within without would yet you your yours said says say saying told tell
tells according get gets got getting go goes going went gone make makes making made come comes
came take takes took want wants see seen know known think thought use used using like just time
times year years day days week weeks month months today yesterday tomorrow new news mr mrs ms dr
way ways people thing things lot really first last next two three four five six seven eight nine
ten percent cent monday tuesday wednesday thursday friday saturday sunday january february march
april june july august september october november december image images photo photos photograph
caption getty reuters afp copyright read click share follow subscribe advertisement video
""".split())


@dataclass(frozen=True, slots=True)
class Terms:
    """An article's terms: `hashes` (int64, ascending) and, in the same order, their
    `weights` (occurrences, headline and lead counting more), `commonness` (0..1),
    `labels` (how the article writes them, for the evidence of a link) and `kinds`
    (one letter each: "w" word, "n" name, "e" watched entity, "d" number).
    Labels and kinds are empty for terms read back from the warehouse."""

    hashes: np.ndarray
    weights: np.ndarray
    commonness: np.ndarray
    labels: tuple[str, ...] = ()
    kinds: str = ""

    def __len__(self) -> int:
        return len(self.hashes)


def term_hash(term: str) -> int:
    """A term's 64-bit id (signed, to fit a BIGINT)."""
    return int.from_bytes(blake2b(term.encode(), digest_size=8).digest(), "big", signed=True)


def article_terms(title: str | None, text: str, mentions: Sequence[Mention] = (),
                  language: str | None = None) -> Terms:
    """The terms of an article (`text` may start with its headline, as extraction leaves it)."""
    title = title or ""
    body = text[len(title):] if title and text.startswith(title) else text
    body = unicodedata.normalize("NFKC", body)
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    _read(unicodedata.normalize("NFKC", title), HEADLINE_WEIGHT, counts, labels, names=False)
    _read(body[:LEAD_CHARS], LEAD_WEIGHT, counts, labels)
    _read(body[LEAD_CHARS:], 1.0, counts, labels)
    for mention in mentions:
        if mention.form == "name":
            key = "=" + mention.entity_id
            counts[key] += LEAD_WEIGHT if mention.start_char < len(title) + LEAD_CHARS else 1.0
            labels.setdefault(key, mention.surface)
    common = _commonness(_guess_language(body, language))
    kept = []
    for term, weight in counts.items():
        commonness = _term_commonness(term, labels[term], common)
        if commonness < _UBIQUITOUS:
            kept.append((term, weight, commonness))
    if len(kept) > MAX_TERMS:
        kept.sort(key=lambda t: -(1 + math.log(t[1])) * (1 - t[2]))
        kept = kept[:MAX_TERMS]
    hashes = np.fromiter((term_hash(t) for t, _, _ in kept), np.int64, len(kept))
    order = np.argsort(hashes)
    return Terms(
        hashes[order],
        np.fromiter((w for _, w, _ in kept), np.float32, len(kept))[order],
        np.fromiter((c for _, _, c in kept), np.float32, len(kept))[order],
        tuple(labels[kept[i][0]] for i in order.tolist()),
        "".join(_KIND.get(kept[i][0][0], "w") for i in order.tolist()),
    )


def _read(text: str, weight: float, counts: Counter[str], labels: dict[str, str],
          names: bool = True) -> None:
    """Count the words and numbers of `text`, and with `names` its names: runs of two
    or more capitalised words ("Mandalay Bay", "Bank of America"). A capitalised
    function word that opens a sentence is no part of a name ("The")."""
    fold = _folded
    run: list[str] = []
    last = 0

    def flush() -> None:
        while run and run[-1] in _NAME_LINKS:
            run.pop()
        if len(run) >= 2:
            name = " ".join(run)
            term = "@" + " ".join(fold[word] for word in run)
            counts[term] += weight
            labels.setdefault(term, name)
        run.clear()

    for match in _WORD.finditer(text):
        token = match.group()
        gap = text[last:match.start()]
        opens = last == 0 or _OPENS.search(gap) is not None
        last = match.end()
        if run and (opens or _BREAKS.search(gap)):  # punctuation ends a name
            flush()
        if token[0].isdigit():
            flush()
            number = token.replace(",", "")
            if len(number) >= 2:
                counts["#" + number] += weight
                labels.setdefault("#" + number, token)
            continue
        word = fold[token]
        if names:
            if token[0].isupper():
                if not (opens and word in STOPWORDS):
                    run.append(token)
            elif run and token in _NAME_LINKS:
                run.append(token)
            else:
                flush()
        if len(word) >= 3 and word not in STOPWORDS:
            counts[word] += weight
            labels.setdefault(word, token.casefold())
    if names:
        flush()


def _fold(token: str) -> str:
    """Casefolded, possessive and plural folded: "Troops'" -> "troop"."""
    word = token.casefold().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.rstrip("'")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class _Memo(dict):
    """A bounded memo of `_fold`: a dict lookup costs less than a call."""

    def __missing__(self, token: str) -> str:
        if len(self) >= 1 << 16:
            self.clear()
        word = self[token] = _fold(token)
        return word


_folded = _Memo()


def _term_commonness(term: str, label: str, common: _Commonness) -> float:
    if term[0] == "#":  # days of the month, ages and years are everywhere; 121 or 5.50 not
        number = float(term[1:].replace(",", "")) if term[1:].replace(".", "", 1).isdigit() \
            else 1000.0
        return 0.1 if number < 100 else 0.05 if number.is_integer() and 1900 <= number <= 2100 \
            else 0.0
    if term[0] in "@=":  # a name is as common as its rarest word
        return min((common.get(_folded[w], 0.0) for w in _WORD.findall(label)), default=0.0)
    return common.get(term, 0.0)


def _wordlist(language: str | None) -> str:
    code = (language or "en").split("-")[0].lower()
    return code if code in _languages() else "en"


# languages whose everyday words tell a text without a language label apart
_GUESSED = ("en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv", "tr", "uk")


def _guess_language(text: str, label: str | None = None) -> str:
    """The language whose function words ("und", "the", "les") the text uses most, the
    page's own label (often wrong or missing) among the candidates: its everyday
    words are then weighed low whatever the page said."""
    tokens = [t.casefold() for t in _WORD.findall(text[:3000])]
    labelled = _wordlist(label) if label else "en"
    best, found = labelled, 0
    for code in dict.fromkeys((labelled, *_GUESSED)):
        words = _function_words(code)
        count = sum(1 for t in tokens if t in words)
        if count > found:
            best, found = code, count
    return best


@cache
def _function_words(language: str) -> frozenset[str]:
    """The words nearly every text of `language` holds ("und", "the", "les")."""
    return frozenset(word for bucket in _buckets(language, _UBIQUITOUS_CB)
                     for word in bucket)


@cache
def _languages() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages("small"))


class _Commonness:
    """How common each word of a language's list is, found by the word's hash: two
    sorted arrays, 16 bytes a word, where a dict of str and float took about 120
    (an extraction worker that met 21 languages held 99 MB of them)."""

    __slots__ = ("_hashes", "_values")

    def __init__(self, words: dict[str, float]):
        hashes = np.fromiter(map(term_hash, words), np.int64, len(words))
        order = np.argsort(hashes)
        self._hashes = hashes[order]
        self._values = np.fromiter(words.values(), np.float64, len(words))[order]

    def get(self, word: str, default: float = 0.0) -> float:
        h = _hashed[word]
        i = self._hashes.searchsorted(h)
        return float(self._values[i]) if i < len(self._hashes) and self._hashes[i] == h \
            else default


@cache
def _commonness(language: str) -> _Commonness:
    """The share of typical articles that hold each (folded) word of wordfreq's
    small list for `language` (words under one in a million are not listed: rare).
    (Leaving out the words under one article in 500 saved 5 MB a language and
    cost a point of recall on the development set.)"""
    frequency: Counter[str] = Counter()
    for minus_cb, bucket in enumerate(_buckets(language)):
        share = 10 ** (-minus_cb / 100)
        for word in bucket:
            frequency[_fold(word)] += share
    return _Commonness({word: 1 - math.exp(-_TYPICAL_WORDS * f)
                        for word, f in frequency.items()})


def _buckets(language: str, down_to: int | None = None) -> list[list[str]]:
    """wordfreq's small list for `language`: its words by frequency, one list per
    centibel (bucket i holds the words of frequency 10^(-i/100)), down to `down_to`.
    Read from its file, not through wordfreq's caches, which keep every language
    read for the life of the process (about 10 MB each)."""
    from wordfreq import available_languages, read_cBpack

    return read_cBpack(available_languages("small")[language])[:down_to]


def _centibels(commonness: float) -> int:
    """How many of wordfreq's buckets hold the words at least this common."""
    return int(-100 * math.log10(-math.log(1 - commonness) / _TYPICAL_WORDS)) + 1


_UBIQUITOUS_CB = _centibels(_UBIQUITOUS)


def word_hashes(text: str, language: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of the content words of a short text (a sentence), each once, and how
    much each says (1 - commonness): cheap, for comparing sentences with a story."""
    common = _commonness(_wordlist(language))
    seen: dict[int, float] = {}
    for match in _WORD.finditer(text):
        token = match.group()
        word = ("#" + token.replace(",", "")) if token[0].isdigit() else _folded[token]
        if len(word) < 3 or word in STOPWORDS:
            continue
        value = 1.0 - common.get(word, 0.0)
        if value > 1.0 - _UBIQUITOUS:
            seen[_hashed[word]] = value
    return (np.fromiter(seen.keys(), np.int64, len(seen)),
            np.fromiter(seen.values(), np.float32, len(seen)))


class _HashMemo(dict):
    """A bounded memo of `term_hash`."""

    def __missing__(self, term: str) -> int:
        if len(self) >= 1 << 16:
            self.clear()
        value = self[term] = term_hash(term)
        return value


_hashed = _HashMemo()
