"""Extractive summaries pick the sentences that say most about the watchlist."""

from __future__ import annotations

from conftest import SEEDS

from newswatch.extractors.summary import summarize
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist

TEXT = (
    "Troops Leave Kazakhstan\n\n"
    "The weather was cold in the city all week and nobody went outside much. "
    "Tokayev asked the CSTO to send troops to Kazakhstan after the protests. "
    "Prices of bread rose again at the markets on Tuesday and Wednesday this week. "
    "Putin said Russia and the CSTO would leave Kazakhstan within days of the request."
)


def test_picks_the_sentences_naming_most_entities_in_text_order():
    tagger = Tagger(load_watchlist(SEEDS / "watchlist.toml"))
    summary = summarize(TEXT, tagger.tag(TEXT), n=2, title="Troops Leave Kazakhstan")
    assert summary == (
        "Tokayev asked the CSTO to send troops to Kazakhstan after the protests. "
        "Putin said Russia and the CSTO would leave Kazakhstan within days of the request."
    )


def test_without_mentions_the_lead_wins_and_the_title_is_never_picked():
    summary = summarize(TEXT, [], n=1, title="Troops Leave Kazakhstan")
    assert summary.startswith("The weather was cold")


def test_text_without_sentences_gives_an_empty_summary():
    assert summarize("Menu\nHome\nAbout", [], n=2) == ""
