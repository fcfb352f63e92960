"""What an article adds to its story: the sentence whose content was not covered."""

from __future__ import annotations

import numpy as np

from newswatch.stories.novelty import (
    MIN_NEW_SHARE,
    development,
    lead_sentences,
    novel_sentences,
)
from newswatch.stories.terms import word_hashes

FIRST = ("At least 23 people drowned when the MV Nyamagana Star capsized on Lake Victoria "
         "near Mwanza on Tuesday, officials said.")
LATER = [
    "The MV Nyamagana Star capsized on Lake Victoria near Mwanza on Tuesday.",
    "Divers recovered 18 more bodies on Thursday, raising the death toll to 41.",
    "Police arrested the captain, Juma Magesa, who survived by swimming ashore.",
]


def covered(*sentences: str) -> np.ndarray:
    return np.unique(np.concatenate([word_hashes(s)[0] for s in sentences]))


def test_the_lead_is_the_first_sentences_of_the_body_not_the_headline():
    text = "Ferry capsizes\n\nShort.\n\n" + FIRST + " " + " ".join(LATER)
    assert lead_sentences(text, "Ferry capsizes") == (FIRST, *LATER)
    assert lead_sentences(text, "Ferry capsizes", count=2) == (FIRST, LATER[0])


def test_a_new_story_s_development_is_its_first_sentence():
    assert development((FIRST, *LATER), np.zeros(0, np.int64)) == FIRST
    assert development((), covered(FIRST)) is None


def test_a_later_article_s_development_is_what_the_story_had_not_said():
    # the first sentence repeats what was known: the next one is the news
    assert development(tuple(LATER), covered(FIRST)) == LATER[1]


def test_sentences_mostly_covered_already_are_no_news():
    found = novel_sentences(LATER, covered(FIRST, LATER[1]), limit=3)
    assert [sentence for _, sentence in found] == [LATER[2]]
    for _, sentence in found:
        hashes, values = word_hashes(sentence)
        assert values[~np.isin(hashes, covered(FIRST, LATER[1]))].sum() / values.sum() \
            >= MIN_NEW_SHARE


def test_news_further_down_counts_less():
    much_later = ["Officials met.", "Officials met again.", "A different matter entirely "
                  "came up: Tanzania's budget for schools and hospitals rose by a third."]
    found = novel_sentences([LATER[1], *much_later], covered(FIRST), limit=2)
    assert found[0][1] == LATER[1] and found[0][0] > found[1][0]
