"""The digest of a warehouse with a week of coverage: stories, copies, follow-ups,
a spike, new names and quotes, checked in the data, the text and the HTML."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from digest_week import DAY, TZ, build_week, seed

from newswatch.extractors.records import Article
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import digest_data, new_articles, stories


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    return build_week(tmp_path_factory.mktemp("week") / "newswatch.duckdb")


def test_the_digest_counts_stories_as_the_warehouse_does(week):
    digest, data = week["digest"], week["data"]
    assert len(data.articles) == 6
    # one entry per story of the day's watched articles: what the warehouse says
    assert len(digest.stories) == len({a.story_id for a in data.articles}) == len(data.stories)
    assert [s.story_id for s in digest.stories] == [r.story_id for r in data.stories]
    assert digest.subject.endswith(digest.count_line)
    assert f"{len(digest.stories)} stor" in digest.subject
    # an entry gathers every article of its story that day: each is in exactly one
    reported = [r.link for s in digest.stories for r in s.reports]
    assert sorted(reported) == sorted(a.url for a in week["on_day"])


@pytest.mark.parametrize("day_of", ["first_seen", "published"])
def test_the_day_s_articles_are_the_digest_macros_rows(week, day_of):
    # new_articles adds up one scan of mentions; the macros analysts query, and the
    # plain joins over mentions, must say the same: order, counts, weights, entities
    args = [DAY, TZ, day_of]
    with connect(week["db"], read_only=True) as con:
        articles = new_articles(con, DAY, TZ, day_of)
        macro = con.execute("SELECT article_id, mentions, weight FROM digest_new_articles(?, ?,"
                            " day_of := ?)", args).fetchall()
        entities = con.execute("SELECT article_id, name, mentions FROM"
                               " digest_article_entities(?, ?, day_of := ?)", args).fetchall()
        spans = con.execute(
            "SELECT m.article_id, m.entity_id, m.start_char, m.end_char FROM mentions m"
            " JOIN digest_day_articles(?, ?, day_of := ?) USING (article_id)"
            " ORDER BY m.article_id, m.start_char", args).fetchall()
    assert len(articles) >= 5
    assert [(a.article_id, a.mentions, a.weight) for a in articles] == macro
    assert [(a.article_id, n, c) for a in sorted(articles, key=lambda a: a.article_id)
            for n, c in a.entities] == entities
    assert [(a.article_id, m.entity_id, m.start_char, m.end_char)
            for a in sorted(articles, key=lambda a: a.article_id) for m in a.spans] == spans


@pytest.mark.parametrize("day_of", ["first_seen", "published"])
def test_the_digest_s_stories_and_counts_are_the_plain_sql_s(week, day_of):
    # digest_data reads the day's mentions by their own first_seen_at (017) and adds
    # them up in Python; plain joins of articles, mentions and entities must agree
    from benchmarks.digest_reference import digest_answers, plain_answers, plain_attention

    with connect(week["db"], read_only=True) as con:
        data = digest_data(con, DAY, TZ, day_of)
        plain = plain_answers(con, DAY, TZ, day_of)
        attention = plain_attention(con, DAY, TZ, day_of)
    assert len(plain[0]) >= 2 and len(plain[1]) >= 5
    assert digest_answers(data.stories, data.articles) == plain
    assert any(a.trailing_mean for a in data.attention) and len(attention) >= 3
    assert sorted((a.entity_id, a.today, a.trailing_mean) for a in data.attention) == attention


@pytest.mark.parametrize("day_of", ["first_seen", "published"])
def test_the_digest_s_stories_are_the_digest_stories_macro_s_rows(week, day_of):
    # the digest builds its stories from the day's articles it already holds; the
    # macro analysts query must say the same
    with connect(week["db"], read_only=True) as con:
        rows = stories(con, DAY, TZ, day_of)
        macro = con.execute(
            "SELECT story_id, headline, articles, outlets, mentions, weight, began_at,"
            " first_article_id, earlier, development, first_title, first_outlet, first_url"
            " FROM digest_stories(?, ?, day_of := ?)", [DAY, TZ, day_of]).fetchall()
    assert len(rows) == len(macro) >= 2
    assert any(r.development for r in rows) and not all(r.development for r in rows)
    assert [(r.story_id, r.headline, r.articles, r.outlets, r.mentions, r.weight, r.began_at,
             r.first_article_id, r.earlier, r.development, r.first.title, r.first.outlet,
             r.first.url) for r in rows] == [tuple(m) for m in macro]


def test_copies_collapse_into_one_story_with_both_outlets(week):
    [wire] = [s for s in week["digest"].stories if "Outlet A" in s.outlets]
    assert {"Outlet A", "Outlet B"} <= set(wire.outlets)
    [copy] = [r for r in wire.reports if r.outlet == "Outlet B"]
    assert copy.copy and not any(r.copy for r in wire.reports if r.outlet == "Outlet A")
    assert "also: Outlet B (copy)" in week["text"]


def test_the_border_clash_is_a_story_of_its_own(week):
    # it names the CSTO and Putin too, but reports another event
    [border] = [s for s in week["digest"].stories if "Outlet D" in s.outlets]
    assert border.outlets == ["Outlet D"] and not border.development
    assert border.summary and not border.new


def test_a_development_says_where_it_began_and_what_is_new(week):
    [story] = [s for s in week["digest"].stories if "Outlet C" in s.outlets]
    # the last troops leaving continues the coverage of 8 and 11 January
    assert story.development and story.earlier == 2
    assert story.began == date(2022, 1, 8)
    assert story.began_title == "Kazakhstan: Return of Russia and the end of the Nazarbayev era"
    assert story.began_link == "https://indianarrative.example/nazarbayev"
    assert "Began on 2022-01-08 with “Kazakhstan: Return of Russia" in week["text"]
    assert 'href="https://indianarrative.example/nazarbayev"' in week["html"]
    # what is new: sentences of the day's reports, each with the report that says it
    assert 1 <= len(story.new) <= 3
    texts = {a.outlet or "unknown outlet": a.text for a in week["on_day"]}
    for fact in story.new:
        assert " ".join(fact.sentence.split()) in " ".join(texts[fact.outlet].split())
        assert f"- {' '.join(fact.sentence[:40].split())}" in " ".join(week["text"].split())
    assert "New on 2022-01-13:" in week["text"]


def test_what_is_new_is_what_the_earlier_coverage_did_not_say(week):
    from newswatch.stories.novelty import MIN_NEW_SHARE
    from newswatch.stories.terms import word_hashes

    [story] = [s for s in week["digest"].stories if s.development]
    [row] = [r for r in week["data"].stories if r.story_id == story.story_id]
    assert len(row.covered) > 100  # the terms of the story's articles before the day
    for fact in story.new:
        hashes, values = word_hashes(fact.sentence)
        new = values[~np.isin(hashes, row.covered)].sum()
        assert new / values.sum() >= MIN_NEW_SHARE


def test_new_names_in_a_story_are_the_day_s_new_names(week):
    shown = {n.name for n in week["digest"].names}
    for story in week["digest"].stories:
        assert set(story.names) <= shown
    assert any(story.names for story in week["digest"].stories)


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
    [cfr] = [s for s in week["digest"].stories
             if "https://cfr.example/what-is-the-csto" in [r.link for r in s.reports]]
    speaker, words = cfr.quote
    assert speaker in {"Jennifer Brick Murtazashvili", "Casey Michel", "Alexander Cooley"}
    shown = " ".join([cfr.summary, *(f.sentence for f in cfr.new)])
    assert words not in shown  # the entry says it already: another quote
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
    # and stories by the weight of their day's articles
    story_weights = [sum(by_url[r.link] for r in s.reports) for s in week["digest"].stories]
    assert story_weights == sorted(story_weights, reverse=True)
