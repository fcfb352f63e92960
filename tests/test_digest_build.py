"""From the warehouse's rows to digest entries: one per story, copies collapsed, and
what is new in it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from newswatch.digest.build import build_digest
from newswatch.stories.terms import word_hashes
from newswatch.warehouse.digest import DigestArticle, DigestData, DigestStoryRow, FirstArticle

DAY = date(2023, 3, 16)


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2023, 3, day, hour, tzinfo=UTC)


def _article(aid, story, outlet, day, relation, development, text="Body.", mentions=1):
    return DigestArticle(aid, story, f"Headline {aid}", outlet, f"https://{aid}.example/",
                         None, _at(day), _at(16), mentions, text=text, relation=relation,
                         development=development)


def _row(story, development=False, covered=()):
    return DigestStoryRow(story, "Headline", 3, [], 3, 3, _at(14), story, 2 if development else 0,
                          development, FirstArticle("It began", "Wire", "https://w.example/"),
                          np.unique(np.asarray(covered, np.int64)))


def test_a_story_that_began_on_the_day_shows_what_each_report_added_in_order():
    group = [_article("b", "s", "Daily", 15, "same_event", "Second: the toll rose."),
             _article("c", "s", "Wire", 15, "copy", None),
             _article("a", "s", "Wire", 14, "new", "First: a ferry sank.")]
    digest = build_digest(DigestData(group, [_row("s")], [], []), DAY, "UTC")
    [entry] = digest.stories
    assert not entry.development and entry.began_line is None
    assert [(f.sentence, f.outlet) for f in entry.new] == [
        ("First: a ferry sank.", "Wire"), ("Second: the toll rose.", "Daily")]
    assert [r.copy for r in entry.reports] == [False, True, False]
    assert entry.dates == "published 2023-03-14 to 2023-03-15"


def test_a_development_shows_the_sentences_its_earlier_coverage_lacked():
    old = "The MV Nyamagana Star capsized on Lake Victoria near Mwanza on Tuesday."
    new = "Divers recovered 18 more bodies on Thursday, raising the death toll to 41."
    text = f"Headline d\n\n{old} {new}"
    group = [_article("d", "s", "Observer", 16, "development", new, text=text)]
    covered = word_hashes(old)[0]
    digest = build_digest(DigestData(group, [_row("s", True, covered)], [], []), DAY, "UTC")
    [entry] = digest.stories
    assert entry.development and entry.began == date(2023, 3, 14)
    assert entry.began_title == "It began" and entry.began_link == "https://w.example/"
    assert [f.sentence for f in entry.new] == [new]
    assert digest.count_line == "1 story (1 development)"


def test_a_single_report_is_summarised_not_listed():
    text = ("Headline a\n\nAt least 23 people drowned when a ferry capsized on Lake Victoria "
            "near Mwanza on Tuesday morning, officials said.")
    group = [_article("a", "s", "Wire", 16, "new", "At least 23 people drowned.", text=text)]
    [entry] = build_digest(DigestData(group, [_row("s")], [], []), DAY, "UTC").stories
    assert entry.new == [] and entry.summary.startswith("At least 23 people drowned")
