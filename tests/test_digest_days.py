"""The digest of a warehouse with a week of coverage: stories, copies, follow-ups,
a spike, new names and quotes, checked in the data, the text and the HTML."""

from __future__ import annotations

from datetime import date

import pytest
from digest_week import DAY, build_week, seed

from newswatch.extractors.records import Article


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    return build_week(tmp_path_factory.mktemp("week") / "newswatch.duckdb")


def test_copies_collapse_into_one_story_with_both_outlets(week):
    digest = week["digest"]
    assert len(week["data"].articles) == 6
    assert len(digest.stories) == 5
    [wire] = [s for s in digest.stories if "Outlet A" in s.outlets]
    assert sorted(wire.outlets) == ["Outlet A", "Outlet B"]
    assert "also: Outlet" in week["text"]


def test_a_follow_up_says_what_it_continues_and_links_to_it(week):
    [follow] = [s for s in week["digest"].stories if s.outlet == "Outlet C"]
    assert follow.earlier == ("Follow-up to “As CSTO Troops Leave, Kazakhstan Faces the "
                              "Unknown” (Foreign Policy), first seen on 2022-01-11")
    assert follow.earlier_link == "https://foreignpolicy.example/csto-leaves"
    assert 'href="https://foreignpolicy.example/csto-leaves"' in week["html"]
    assert "earlier: https://foreignpolicy.example/csto-leaves" in week["text"]


def test_attention_counts_the_day_against_the_week_and_flags_the_spike(week):
    rows = {a.entity_id: a for a in week["data"].attention}
    # today's counts are the tagger's own counts over the day's articles
    expected: dict[str, int] = {}
    for article in week["on_day"]:
        for m in article.mentions:
            if m.form == "name":
                expected[m.entity_id] = expected.get(m.entity_id, 0) + 1
    assert {k: a.today for k, a in rows.items() if a.today} == expected
    earlier = [m for prefix in ("003", "000") for m in seed(prefix, 1, "").mentions
               if m.entity_id == "tokayev" and m.form == "name"]
    assert rows["tokayev"].trailing_mean == round(len(earlier) / 7, 2)
    for a in rows.values():
        assert a.spike == (a.today >= max(3, 2 * a.trailing_mean))
        assert a.new_entrant == (a.today > 0 and a.trailing_mean == 0)
    assert rows["tokayev"].spike and rows["massimov"].spike
    assert "SPIKE" in week["text"] and ">spike</b>" in week["html"]


def test_new_names_are_people_first_named_that_day(week):
    names = {name: (is_new, first) for name, is_new, first in week["names"]}
    # named on 11 January already: still in the macro, not new
    assert names["Alexander Cooley"] == (False, date(2022, 1, 11))
    assert names["Jennifer Brick Murtazashvili"] == (True, DAY)
    shown = {n.name: n for n in week["digest"].names}
    assert "Alexander Cooley" not in shown
    jbm = shown["Jennifer Brick Murtazashvili"]
    assert jbm.mentions >= 2 and jbm.articles == 1
    assert jbm.first_sentence.startswith("“It means that Kazakhstan has turned away")
    assert "New names next to watched entities" in week["text"]
    assert "Jennifer Brick Murtazashvili: " in week["text"]
    # watched people never show up as new names
    assert not {"Kassym-Jomart Tokayev", "Karim Massimov", "Tokayev"} & set(shown)


def test_stories_carry_a_quote_with_its_speaker(week):
    [cfr] = [s for s in week["digest"].stories if s.link == "https://cfr.example/what-is-the-csto"]
    speaker, words = cfr.quote
    assert speaker in {"Jennifer Brick Murtazashvili", "Casey Michel"}
    assert words not in cfr.summary  # the summary says it already: another quote
    assert f"— {speaker}" in week["text"]
    assert "&mdash;&nbsp;" + speaker in week["html"]


def test_stories_are_ranked_by_how_much_they_concern_the_watchlist(week):
    def weight(article: Article) -> int:  # headline 3, lead (600 characters) 2, else 1
        title = len(article.title or "")
        return sum(3 if article.title and m.end_char <= title else
                   2 if m.start_char < title + 600 else 1
                   for m in article.mentions if m.form == "name")

    by_url = {a.url: weight(a) for a in week["on_day"]}
    ranked = [by_url[a.url] for a in week["data"].articles]
    assert ranked == sorted(by_url.values(), reverse=True)
    assert len(set(ranked)) > 1  # the order means something
