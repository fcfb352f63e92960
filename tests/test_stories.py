"""Stories in the warehouse: the flows' matching decides, the load stores the decisions,
and every link can be asked why (tests/stories/events: several outlets' reports of
one event, a development, unrelated articles that share a country name)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from conftest import load

from newswatch.extractors.records import Article
from newswatch.flows.stories import RecentStories, story_article
from newswatch.stories.copies import fingerprint
from newswatch.stories.terms import article_terms
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import load_batch
from newswatch.warehouse.stories import recent_articles, terms_version, timeline

EVENTS = Path(__file__).parent / "stories" / "events"
SEEN = datetime(2023, 3, 16, 20, tzinfo=UTC)


def event(name: str) -> Article:
    lines = (EVENTS / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    outlet, published = re.search(r"Outlet: (.+) \| Published: (\S+)", lines[2]).groups()
    text = lines[0] + "\n\n" + "\n".join(lines[4:])
    return Article(text=text, raw=text, title=lines[0], outlet=outlet,
                   url=f"https://{outlet.lower().replace(' ', '-')}.example/{name}",
                   published_at=datetime.fromisoformat(published), language="en")


def _story(con, name: str) -> str:
    return con.execute("SELECT story_id FROM articles WHERE url LIKE ?",
                       [f"%/{name}"]).fetchall()[0][0]


@pytest.fixture
def loaded(db_path):
    with connect(db_path) as con:
        recent = RecentStories()
        load(con, [event("ferry_wire"), event("tanzania_election"), event("tanzania_tourism")],
             now=SEEN - timedelta(days=2), recent=recent)
        load(con, [event("ferry_daily"), event("ferry_broadcaster"), event("ferry_toll_rises"),
                   event("ferry_bangladesh")], now=SEEN, recent=recent)
        yield con


def test_reports_and_the_development_share_the_first_report_s_story(loaded):
    story = _story(loaded, "ferry_wire")
    for name in ("ferry_daily", "ferry_broadcaster", "ferry_toll_rises"):
        assert _story(loaded, name) == story
    others = {_story(loaded, n) for n in ("tanzania_election", "tanzania_tourism",
                                          "ferry_bangladesh")}
    assert len(others) == 3 and story not in others
    assert loaded.execute("SELECT articles FROM stories ORDER BY articles DESC").fetchall() == [
        (4,), (1,), (1,), (1,)]


def test_every_article_has_one_link_that_says_how_and_why(loaded):
    rows = loaded.execute(
        "SELECT a.url, l.relation, l.story_id = a.story_id, l.score, l.evidence, l.development,"
        " r.url FROM story_links l JOIN articles a USING (article_id)"
        " LEFT JOIN articles r ON r.article_id = l.related_article_id").fetchall()
    assert len(rows) == 7 and all(same for _, _, same, *_ in rows)
    by_name = {url.rsplit("/", 1)[1]: row for url, *row in rows}
    assert by_name["ferry_wire"][0] == "new" and by_name["ferry_wire"][5] is None
    assert by_name["ferry_toll_rises"][0] == "development"
    relation, _, score, evidence, development, related = by_name["ferry_daily"]
    assert relation == "same_event" and score >= 0.2 and related.endswith("/ferry_wire")
    assert {"term", "kind", "share"} == set(evidence[0]) and evidence[0]["share"] > 0
    assert "MV Nyamagana Star" in [e["term"] for e in evidence]
    assert development and development in event("ferry_daily").text


def test_why_two_articles_are_one_story_in_sql(loaded):
    # the README's query: the link of an article and the terms that weighed most
    daily = loaded.execute("SELECT article_id FROM articles WHERE url LIKE '%/ferry_daily'"
                           ).fetchall()[0][0]
    rows = loaded.execute("SELECT relation, term, kind, share FROM story_evidence(?)"
                          " ORDER BY share DESC", [daily]).fetchall()
    assert rows and {r[0] for r in rows} == {"same_event"}
    assert [r[3] for r in rows] == sorted((r[3] for r in rows), reverse=True)


def test_the_timeline_is_in_publication_order_with_each_development(loaded):
    story = _story(loaded, "ferry_wire")
    entries = timeline(loaded, story)
    assert [e.url.rsplit("/", 1)[1] for e in entries] == [
        "ferry_wire", "ferry_daily", "ferry_broadcaster", "ferry_toll_rises"]
    assert [e.relation for e in entries] == ["new", "same_event", "same_event", "development"]
    assert all(e.development for e in entries)
    assert entries[0].published_at < entries[-1].published_at
    columns = [d[0] for d in loaded.execute(
        "SELECT * FROM story_timeline(?)", [story]).description]
    assert columns[:5] == ["published_at", "outlet", "title", "relation", "development"]


def test_what_matching_compares_is_stored_and_read_back(loaded):
    now = loaded.execute("SELECT max(first_seen_at) FROM articles").fetchall()[0][0]
    read = {a.article_id: a for a in recent_articles(loaded, now)}
    assert len(read) == 7 == terms_version(loaded)
    for aid, story, text, title in loaded.execute(
            "SELECT article_id, story_id, text, title FROM articles").fetchall():
        got, expected = read[aid], article_terms(title, text, (), "en")
        assert got.story_id == story
        assert np.array_equal(got.terms.hashes, expected.hashes)
        assert np.allclose(got.terms.weights, expected.weights)
        assert np.allclose(got.terms.commonness, expected.commonness)
        assert got.fingerprint == fingerprint(text)


def test_a_run_reads_the_stories_again_when_another_process_loaded(db_path):
    with connect(db_path) as con:
        run = RecentStories()
        load(con, [event("ferry_wire")], now=SEEN, recent=run)
        load(con, [event("ferry_daily")], now=SEEN)  # another run, its own matcher
        assert len(run.matcher(con, SEEN)) == 2  # it sees both
        load(con, [event("ferry_toll_rises")], now=SEEN, recent=run)
        assert len({_story(con, n) for n in ("ferry_wire", "ferry_daily",
                                              "ferry_toll_rises")}) == 1


def test_a_batch_that_rolls_back_leaves_no_story_behind(db_path):
    with connect(db_path) as con:
        run = RecentStories()
        load(con, [event("ferry_wire")], now=SEEN, recent=run)

        def failing(new, now):
            run.decide(con, new, now)  # matched, then the load fails
            raise RuntimeError("the disk filled up")

        with pytest.raises(RuntimeError):
            load_batch(con, [event("ferry_daily")], failing, now=SEEN)
        assert con.execute("SELECT count(*) FROM story_links").fetchall() == [(1,)]
        # the run's matcher had matched it: it reads the warehouse again
        assert len(run.matcher(con, SEEN)) == 1
        load(con, [event("ferry_daily")], now=SEEN, recent=run)
        assert _story(con, "ferry_daily") == _story(con, "ferry_wire")


def test_held_articles_are_not_matched_again(db_path):
    with connect(db_path) as con:
        run = RecentStories()
        load(con, [event("ferry_wire")], now=SEEN, recent=run)
        again = load(con, [event("ferry_wire"), event("ferry_daily")], now=SEEN, recent=run)
        assert (again.inserted, again.duplicates) == (1, 1)
        assert con.execute("SELECT count(*) FROM story_links").fetchall() == [(2,)]


def test_a_publication_date_in_the_future_is_a_page_s_mistake():
    wrong = replace(event("ferry_wire"), published_at=SEEN + timedelta(days=30))
    assert story_article("x", wrong, SEEN).published_at is None
    assert story_article("x", event("ferry_wire"), SEEN).published_at is not None


def test_load_batch_needs_the_flow_s_decision(db_path):
    with connect(db_path) as con, pytest.raises(TypeError):
        load_batch(con, [event("ferry_wire")])  # the warehouse never decides stories
    with connect(db_path) as con:
        result = load_batch(con, [event("ferry_wire")], partial(RecentStories().decide, con))
        assert result.inserted == 1
