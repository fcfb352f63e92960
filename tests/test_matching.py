"""Story matching on real-looking texts: several outlets' reports of one event, its
development, unrelated articles that share a country name, and another
occurrence of the same kind of event (tests/stories/events, see its README)."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from newswatch.stories.copies import fingerprint
from newswatch.stories.events import SAME_STORY, WINDOW, DocumentFrequencies, EventIndex
from newswatch.stories.match import MAX_ARTICLES, StoryArticle, StoryMatcher
from newswatch.stories.novelty import read_lead
from newswatch.stories.terms import article_terms

EVENTS = Path(__file__).parent / "stories" / "events"
NOW = datetime(2024, 3, 21, tzinfo=UTC)
FERRY = ["ferry_wire", "ferry_daily", "ferry_broadcaster", "ferry_toll_rises"]
BOJ = ["boj_markets", "boj_explainer"]
OTHERS = ["japan_baseball", "japan_typhoon", "tanzania_tourism", "tanzania_election",
          "ferry_bangladesh"]


@cache
def page(name: str) -> tuple[str, str, datetime]:
    """(headline, text, published) of an events file."""
    lines = (EVENTS / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    published = datetime.fromisoformat(re.search(r"Published: (\S+)", lines[2])[1])
    return lines[0], lines[0] + "\n\n" + "\n".join(lines[4:]), published


def article(name: str, published: datetime | None | bool = True, aid: str | None = None,
            ) -> StoryArticle:
    title, text, when = page(name)
    return StoryArticle(aid or name, NOW, when if published is True else published or None,
                        article_terms(title, text), fingerprint(text),
                        lead=read_lead(text, title))


def stories(decisions) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for d in decisions:
        grouped.setdefault(d.story_id, set()).add(d.article_id)
    return grouped


ALL = FERRY + BOJ + OTHERS


def test_reports_of_one_event_are_one_story_and_the_rest_stand_alone():
    decisions = StoryMatcher().match([article(name) for name in ALL])
    groups = sorted(sorted(g) for g in stories(decisions).values())
    assert groups == sorted([sorted(FERRY), sorted(BOJ), *([name] for name in OTHERS)])


def test_each_decision_says_how_the_article_joined():
    decisions = {d.article_id: d for d in StoryMatcher().match([article(n) for n in ALL])}
    first = decisions["ferry_wire"]  # the earliest report starts the story
    assert (first.relation, first.story_id, first.related_article_id) == (
        "new", "ferry_wire", None)
    assert first.development and first.development.startswith("MWANZA, Tanzania")
    # the same day's reports are the same event, two days later a development
    assert {decisions[n].relation for n in ("ferry_daily", "ferry_broadcaster")} == {
        "same_event"}
    toll = decisions["ferry_toll_rises"]
    assert toll.relation == "development" and toll.story_id == "ferry_wire"
    assert toll.related_article_id in FERRY and toll.score >= SAME_STORY
    assert "41" in toll.development  # what it adds: the toll has risen


def test_a_link_explains_itself_with_the_shared_terms_that_weighed_most():
    decisions = {d.article_id: d for d in StoryMatcher().match([article(n) for n in FERRY])}
    evidence = decisions["ferry_daily"].evidence
    terms = [e.term for e in evidence]
    assert "MV Nyamagana Star" in terms and "Kome Island" in terms
    assert all(e.kind in ("name", "word", "number") for e in evidence)
    shares = [e.share for e in evidence]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    _, daily, _ = page("ferry_daily")
    for e in evidence:  # as the article writes them
        assert e.term.casefold() in daily.casefold()


def test_a_shared_country_name_alone_is_no_story():
    index = EventIndex()
    names = ["ferry_wire", "tanzania_election", "tanzania_tourism", "boj_markets",
             "japan_baseball", "japan_typhoon"]
    arts = [article(n) for n in names]
    index.frequencies.add([a.terms for a in arts])
    vectors = {n: index.vector(a.terms) for n, a in zip(names, arts, strict=True)}
    for one, other in [("ferry_wire", "tanzania_election"), ("ferry_wire", "tanzania_tourism"),
                       ("boj_markets", "japan_baseball"), ("boj_markets", "japan_typhoon")]:
        assert vectors[one].dot(vectors[other]) < SAME_STORY / 2, (one, other)


def test_the_same_kind_of_event_elsewhere_is_another_story():
    decisions = StoryMatcher().match([article(n) for n in [*FERRY, "ferry_bangladesh"]])
    assert {d.story_id for d in decisions if d.article_id == "ferry_bangladesh"} == {
        "ferry_bangladesh"}


def test_the_order_of_arrival_does_not_change_the_stories():
    expected = sorted(sorted(g) for g in stories(
        StoryMatcher().match([article(n) for n in ALL])).values())
    rng = random.Random(3)
    for _ in range(3):
        names = ALL[:]
        rng.shuffle(names)
        got = StoryMatcher().match([article(n) for n in names])
        assert sorted(sorted(g) for g in stories(got).values()) == expected
        assert [d.article_id for d in got] == names  # decisions come in the order given


def test_batch_by_batch_is_the_same_as_all_at_once():
    at_once = StoryMatcher().match([article(n) for n in ALL])
    matcher, one_by_one = StoryMatcher(), []
    for name in sorted(ALL, key=lambda n: page(n)[2]):
        one_by_one += matcher.match([article(name)])
    assert sorted(sorted(g) for g in stories(one_by_one).values()) == \
        sorted(sorted(g) for g in stories(at_once).values())


def test_history_read_back_matches_as_if_the_matcher_had_kept_it():
    first = StoryMatcher().match([article(n) for n in ["ferry_wire", "ferry_daily",
                                                       "boj_markets", "japan_typhoon"]])
    story_of = {d.article_id: d.story_id for d in first}
    # a later run: the warehouse hands back those articles with their stories (no labels)
    history = [replace(article(n), story_id=story_of[n],
                       terms=replace(article(n).terms, labels=(), kinds=""))
               for n in story_of]
    later = StoryMatcher(history).match([article("ferry_toll_rises"), article("boj_explainer")])
    assert {d.article_id: d.story_id for d in later} == {
        "ferry_toll_rises": "ferry_wire", "boj_explainer": "boj_markets"}


def test_a_story_closes_when_its_articles_are_far_in_time():
    wire = article("ferry_wire")
    later = article("ferry_daily", published=wire.published_at
                    + timedelta(seconds=WINDOW) + timedelta(days=2))
    decisions = StoryMatcher().match([wire, later])
    assert [d.relation for d in decisions] == ["new", "new"]
    # an article without a date is judged on its content alone
    undated = article("ferry_daily", published=None, aid="undated")
    assert StoryMatcher([replace(wire, story_id="ferry_wire")]).match(
        [undated])[0].story_id == "ferry_wire"


def test_a_copy_joins_the_story_of_what_it_copies_whatever_its_date():
    title, text, when = page("ferry_wire")
    copy = StoryArticle("copy", NOW, when + timedelta(days=30),
                        article_terms("Ferry disaster", "Ferry disaster\n\n" + text),
                        fingerprint("Ferry disaster\n\n" + text + "\n\nShare this story"))
    decisions = StoryMatcher().match([article("ferry_wire"), copy])
    assert (decisions[1].relation, decisions[1].story_id,
            decisions[1].related_article_id) == ("copy", "ferry_wire", "ferry_wire")
    assert decisions[1].score >= 0.9


def test_an_article_with_no_terms_starts_a_story_of_its_own():
    empty = StoryArticle("empty", NOW, None, article_terms(None, ""), fingerprint(""))
    decisions = StoryMatcher().match([article("ferry_wire"), empty])
    assert decisions[1].relation == "new" and decisions[1].story_id == "empty"


def test_document_frequencies_weigh_what_many_articles_hold_low():
    frequencies = DocumentFrequencies()
    common = article_terms(None, "Lake Victoria ferry news.")
    frequencies.add([common] * 200)
    rare = article_terms(None, "Lake Victoria ferry Nyamagana.")
    idf = dict(zip(rare.labels, frequencies.idf(rare), strict=True))
    assert idf["nyamagana"] > 2 * idf["ferry"]  # held by 200 of 200 recent articles
    assert frequencies.articles == 200


def test_a_long_run_keeps_at_most_max_articles(monkeypatch):
    import newswatch.stories.match as match

    monkeypatch.setattr(match, "MAX_ARTICLES", 40)
    matcher = StoryMatcher()
    base = article("japan_typhoon")
    for batch in range(6):
        arrivals = []
        for i in range(10):
            terms = replace(base.terms, hashes=np.sort(
                base.terms.hashes + 7 * (batch * 10 + i + 1)), labels=(), kinds="")
            arrivals.append(StoryArticle(f"a{batch}-{i}", NOW + timedelta(hours=batch), None,
                                         terms, fingerprint(f"own text {batch} {i}")))
        matcher.match(arrivals)
        assert len(matcher) <= 40 + 40 // 5
    assert len(matcher.copies) <= 48 and len(matcher.events.stories) <= 48
    assert MAX_ARTICLES == 5000


@pytest.mark.parametrize("name", FERRY[1:])
def test_each_report_alone_joins_the_first(name):
    decisions = StoryMatcher().match([article("ferry_wire"), article(name)])
    assert decisions[1].story_id == "ferry_wire"


def test_pruning_takes_the_oldest_out_as_if_they_had_never_come(monkeypatch):
    import newswatch.stories.match as match

    monkeypatch.setattr(match, "MAX_ARTICLES", 5)
    matcher = StoryMatcher()
    names = FERRY + BOJ + ["japan_baseball"]  # 7 articles, one a batch: 2 pruned
    for k, name in enumerate(names):
        arrival = replace(article(name), first_seen_at=NOW + timedelta(hours=k))
        matcher.match([arrival])
    kept = [a for a, _ in matcher._kept]
    assert [a.article_id for a in kept] == names[-5:] and len(matcher.copies) == 5
    assert matcher.events.frequencies.articles == 5
    members = {aid for s in matcher.events.stories.values() for aid, _, _ in s.members}
    assert members == set(names[-5:])
    # a story's sum is what its kept articles' vectors add up to
    vectors = {a.article_id: v for a, v in matcher._kept}
    for story in matcher.events.stories.values():
        expected = {}
        for aid, _, _ in story.members:
            for h, w in zip(vectors[aid].hashes.tolist(), vectors[aid].weights.tolist(),
                            strict=True):
                expected[h] = expected.get(h, 0.0) + w
        got = dict(zip(story.total.hashes.tolist(), story.total.weights.tolist(),
                       strict=True))
        assert got.keys() == expected.keys()
        assert all(abs(got[h] - expected[h]) < 1e-5 for h in got)
    # and the document frequencies are those of the kept articles
    fresh = DocumentFrequencies()
    fresh.add([a.terms for a in kept])
    probe = article("ferry_toll_rises").terms
    assert np.allclose(matcher.events.frequencies.idf(probe), fresh.idf(probe))
