"""What an article adds to its story: the sentences whose content the story's
earlier coverage did not have.

A sentence's news is the weight of its content words that the earlier
coverage lacks (rare words weigh more than common ones: "Hokkaido" more than
"fired"), discounted by its place in the article (news says what happened
first). The sentence that adds most is the article's one-line development;
for the digest, the day's best few.

    lead = read_lead(text, title)          # in the extraction workers
    line = development(lead, covered_hashes)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from newswatch.extractors.sentences import sentence_spans

from .terms import word_hashes

__all__ = ["NO_LEAD", "Lead", "development", "lead_sentences", "novel_sentences", "read_lead"]

LEAD_SENTENCES = 6          # where an article says what happened
MIN_CHARS, MAX_CHARS = 40, 320
# each sentence further down weighs this much less than the one before it
POSITION_DECAY = 0.75
_LEAD_CHARS = 2500          # where those sentences are looked for
# a sentence must bring at least this share of new content to count as news
MIN_NEW_SHARE = 0.35


@dataclass(frozen=True, slots=True)
class Lead:
    """An article's first sentences, each with its words' hashes and how much each word
    says (`terms.word_hashes`): read once, where the article is extracted."""

    sentences: tuple[str, ...]
    words: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def of(cls, sentences: Sequence[str], language: str | None = None) -> Lead:
        return cls(tuple(sentences), tuple(word_hashes(s, language) for s in sentences))


NO_LEAD = Lead((), ())


def read_lead(text: str, title: str | None = None, language: str | None = None) -> Lead:
    """The Lead of an article (`lead_sentences`)."""
    return Lead.of(lead_sentences(text, title), language)


def lead_sentences(text: str, title: str | None = None, count: int = LEAD_SENTENCES,
                   ) -> tuple[str, ...]:
    """The first `count` sentences of an article's body that read as sentences."""
    body = text[len(title):] if title and text.startswith(title) else text
    out = []
    for start, end in sentence_spans(body[:_LEAD_CHARS]):
        sentence = " ".join(body[start:end].split())
        if MIN_CHARS <= len(sentence) <= MAX_CHARS and sentence[-1:] in ".!?\"”'’":
            out.append(sentence)
            if len(out) == count:
                break
    return tuple(out)


def novel_sentences(sentences: Iterable[str] | Lead, covered: np.ndarray, limit: int = 2,
                    language: str | None = None) -> list[tuple[float, str]]:
    """The `limit` sentences that add most to `covered` (sorted term hashes), with how
    much each adds (its place counted), best first; sentences that are mostly what
    the story said already are left out."""
    lead = sentences if isinstance(sentences, Lead) else Lead.of(list(sentences), language)
    found = []
    for position, (sentence, (hashes, values)) in enumerate(
            zip(lead.sentences, lead.words, strict=True)):
        total = float(values.sum())
        if not total:
            continue
        news = float(values[~_holds(covered, hashes)].sum())
        if news / total >= MIN_NEW_SHARE:
            found.append((news * POSITION_DECAY ** position, -position, sentence))
    found.sort(reverse=True)
    return [(news, sentence) for news, _, sentence in found[:limit]]


def development(lead: Lead | Sequence[str], covered: np.ndarray,
                language: str | None = None) -> str | None:
    """The sentence of an article's lead that adds most to what the story covered; the
    first one when the story is new (nothing covered)."""
    sentences = lead.sentences if isinstance(lead, Lead) else tuple(lead)
    if not sentences:
        return None
    if not len(covered):
        return sentences[0]
    best = novel_sentences(lead if isinstance(lead, Lead) else sentences, covered, 1,
                           language)
    return best[0][1] if best else None


def _holds(ordered: np.ndarray, query: np.ndarray) -> np.ndarray:
    if not len(ordered):
        return np.zeros(len(query), bool)
    at = np.minimum(np.searchsorted(ordered, query), len(ordered) - 1)
    return ordered[at] == query
