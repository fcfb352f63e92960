"""Sentence splitting: boundaries, abbreviations, quotes, line breaks, offsets."""

from __future__ import annotations

import pathlib

import pytest

from newswatch.extractors.sentences import sentence_at, sentence_spans

SEEDS = pathlib.Path(__file__).resolve().parent.parent / "seeds"


def _sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def test_splits_on_terminators_before_a_capital():
    assert _sentences("Troops arrived. Protests ended! Why? Nobody knows.") == [
        "Troops arrived.",
        "Protests ended!",
        "Why?",
        "Nobody knows.",
    ]


def test_no_split_before_lowercase_or_inside_numbers():
    assert _sentences("It rose 2.5 percent. e.g. this stays one. ok") == [
        "It rose 2.5 percent. e.g. this stays one. ok"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Ambassador spoke.",
        "Mr. Tokayev and Dr. Marat met Gen. Serdyukov.",
        "Putin vs. Trump: Round 2",
        "It began on Jan. 2 in Zhanaozen.",
        "Article No. 4 applies.",
        "J. Smith and A. B. Jones wrote it.",
        "Prof. Cooley and Lt. Col. Petrov spoke.",
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text):
    assert _sentences(text) == [text]


def test_closing_quotes_stay_with_their_sentence():
    text = "He said “this is a coup.” Then he left. “Go!” she said. (Aside.) Fine."
    assert _sentences(text) == [
        "He said “this is a coup.”",
        "Then he left.",
        "“Go!” she said.",
        "(Aside.)",
        "Fine.",
    ]


def test_opening_quote_and_digit_start_sentences():
    assert _sentences('It ended. "We won," he said. 2,500 troops left.') == [
        "It ended.",
        '"We won," he said.',
        "2,500 troops left.",
    ]


def test_line_breaks_always_end_a_sentence():
    text = "Top reads\n  • Russia, Iran, North Korea\n\nNew life for the CSTO\r\nA body"
    assert _sentences(text) == [
        "Top reads",
        "• Russia, Iran, North Korea",
        "New life for the CSTO",
        "A body",
    ]


def test_nbsp_is_whitespace():
    text = "\u00a0It\u00a0is over.\u00a0Now\u00a0what?\u00a0"
    assert _sentences(text) == ["It\u00a0is over.", "Now\u00a0what?"]


def test_empty_and_blank_text():
    assert sentence_spans("") == []
    assert sentence_spans(" \n\u00a0\n") == []


def test_spans_map_back_to_the_seed_text():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = sentence_spans(text)
        assert spans == sorted(spans)
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert end <= next_start
        for start, end in spans:
            assert text[start:end] == text[start:end].strip()
        # every character that is not whitespace lies in a sentence
        for offset, ch in enumerate(text):
            assert ch.isspace() or sentence_at(spans, offset) is not None, (path.name, offset)


def test_sentence_at():
    text = "One here. Two there.\nThree."
    spans = sentence_spans(text)
    assert sentence_at(spans, 0) == 0
    assert sentence_at(spans, text.index("Two")) == 1
    assert sentence_at(spans, text.index("there")) == 1
    assert sentence_at(spans, text.index("Three")) == 2
    assert sentence_at(spans, text.index(" Two")) is None  # the space between
    assert sentence_at(spans, len(text)) is None
    assert sentence_at([], 3) is None
