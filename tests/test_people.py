"""People the watchlist does not know, and quotes with their speaker."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from functools import partial

import pytest
from conftest import SEEDS, load

from newswatch.extractors.annotate import annotate
from newswatch.extractors.people import find_people, find_quotes
from newswatch.extractors.records import Article
from newswatch.extractors.seeds import load_manifest, read_seed
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.flows.stories import RecentStories, story_article
from newswatch.warehouse.connection import connect
from newswatch.warehouse.reprocess import replace_articles

TAGGER = Tagger(load_watchlist(SEEDS / "watchlist.toml"))


def people(text: str) -> list[tuple[str, str]]:
    return [(p.name, p.cue) for p in find_people(text, TAGGER.tag(text))]


def quotes(text: str) -> list[tuple[str, str]]:
    return [(q.speaker, q.text) for q in find_quotes(text, TAGGER.tag(text), TAGGER.speakers)]


@pytest.mark.parametrize(("text", "expected"), [
    ("The deal is off, said Alexander Cooley on Monday.", [("Alexander Cooley", "speech")]),
    ("Alexander Cooley said the deal was off.", [("Alexander Cooley", "speech")]),
    ("According to Tajik analyst Parvaiz Mullajanov, it is new.",
     [("Parvaiz Mullajanov", "title")]),
    ("Former US Ambassador to Russia Michael McFaul compared it to 2008.",
     [("Michael McFaul", "title")]),
    ("Nargis Kassenova, a senior fellow at Harvard, disagreed.",
     [("Nargis Kassenova", "role")]),
    ("But Alexander Cooley said so.", [("Alexander Cooley", "speech")]),
    ("Kazakh lawyer Жанна Жусупова disagreed.", [("Жанна Жусупова", "title")]),
])
def test_a_person_is_a_name_the_text_marks_as_one(text, expected):
    assert people(text) == expected


@pytest.mark.parametrize("text", [
    "Harvard University said the report was wrong.",        # an institution
    "Barnard College professor said nothing.",              # an institution
    "The Davis Center said the report was wrong.",
    "Kassym-Jomart Tokayev said the troops would leave.",   # watched: the tagger's
    "President Tokayev thanked the CSTO.",
    "Aiman Zhussupova arrived in Almaty.",                  # no cue: not marked a person
    "Monday Morning said nothing at all.",
])
def test_institutions_watched_people_and_unmarked_names_are_not_candidates(text):
    assert people(text) == []


def test_a_surname_alone_is_the_full_name_given_earlier():
    text = ("“It is huge,” said Jennifer Brick Murtazashvili, an expert on Asia.\n"
            "Murtazashvili said Kazakhstan had changed. Murtazashvili added more.")
    found = find_people(text, TAGGER.tag(text))
    assert Counter(p.name for p in found) == {"Jennifer Brick Murtazashvili": 3}
    assert [p.surface for p in found] == ["Jennifer Brick Murtazashvili", "Murtazashvili",
                                          "Murtazashvili"]
    assert [p.cue for p in found][1:] == ["same_text", "same_text"]
    # a surname nobody introduced stays unknown
    assert people("Smith said Kazakhstan had changed.") == []


def test_near_watched_says_whether_a_watched_entity_is_close():
    text = ("Alexander Cooley said nothing about the weather.\n\n"
            "It rained all day.\n\nIt rained again.\n\n"
            "Nargis Kassenova said Kazakhstan had changed.")
    found = {p.name: p.near_watched for p in find_people(text, TAGGER.tag(text))}
    assert found == {"Alexander Cooley": False, "Nargis Kassenova": True}


@pytest.mark.parametrize(("text", "expected"), [
    ("“The CSTO has always been viewed as a fig leaf for Russia,” said Alexander Cooley.",
     [("Alexander Cooley", "The CSTO has always been viewed as a fig leaf for Russia")]),
    ("“The CSTO has always been viewed as a fig leaf for Russia,” Alexander Cooley, "
     "a professor at Barnard College, told Foreign Policy.",
     [("Alexander Cooley", "The CSTO has always been viewed as a fig leaf for Russia")]),
    ("Alexander Cooley said: “The CSTO has always been viewed as a fig leaf.”",
     [("Alexander Cooley", "The CSTO has always been viewed as a fig leaf.")]),
    ("\"We will not allow a coup in our country,\" Tokayev said on Friday.",
     [("Kassym-Jomart Tokayev", "We will not allow a coup in our country")]),
    ("\"He used the Russians to buy time and to remove the old guard,\" said a political "
     "scientist in Almaty.", []),                                      # a place never speaks
    ("«Мы не допустим переворота в нашей стране никогда», сказал Токаев.", []),  # no Russian verbs
    ("“Too short,” said Alexander Cooley.", []),                       # under six words
    ("“The CSTO has always been viewed as a fig leaf for Russia.” It rained.", []),  # nobody
])
def test_a_quote_needs_a_speaker_the_text_gives(text, expected):
    assert quotes(text) == expected


def test_quotes_naming_watched_entities_rank_higher():
    text = ("“We will meet the neighbours again next spring, as we always do,” said Alexander "
            "Cooley. “The CSTO and Russia have changed the rules in Kazakhstan for good,” "
            "Cooley added.")
    found = find_quotes(text, TAGGER.tag(text), TAGGER.speakers)
    assert [q.speaker for q in found] == ["Alexander Cooley", "Alexander Cooley"]
    assert found[1].score > found[0].score


def test_the_seeds_name_the_experts_they_quote():
    manifest = load_manifest(SEEDS / "manifest.toml")
    found: dict[str, set[str]] = {}
    speakers: set[str] = set()
    for path in sorted(SEEDS.glob("*.txt")):
        article = annotate(read_seed(path, manifest.get(path.name)), TAGGER)
        found[path.name[:3]] = {p.name for p in article.people}
        speakers |= {q.speaker for q in article.quotes}
    assert found["000"] == {"Alexander Cooley"}
    assert found["003"] == {"Aiman Zhussupova", "Parvaiz Mullajanov"}
    assert {"Jennifer Brick Murtazashvili", "Nargis Kassenova", "Casey Michel",
            "William Courtney"} <= found["004"]
    assert {"Alexander Cooley", "Jennifer Brick Murtazashvili", "Aiman Zhussupova"} <= speakers
    every = set().union(*found.values())
    assert not every & {e.name for e in TAGGER.watchlist}


def test_people_and_quotes_are_loaded_and_replaced_on_reprocess(db_path):
    text = ("Kazakhstan calls for help\n\n“The CSTO has always been viewed as a fig leaf "
            "for Russia,” said Alexander Cooley, an expert.")
    article = annotate(Article(text=text, raw=text, title="Kazakhstan calls for help",
                               seed_file="x.txt"), TAGGER)
    with connect(db_path) as con:
        load(con, [article])
        load(con, [article])  # idempotent: nothing twice
        assert con.execute("SELECT name, cue, near_watched FROM person_mentions").fetchall() \
            == [("Alexander Cooley", "speech", True)]
        assert con.execute("SELECT speaker, quote FROM quotes").fetchall() == [
            ("Alexander Cooley", "The CSTO has always been viewed as a fig leaf for Russia")]
        article = replace(article, people=(), quotes=())
        replace_articles(con, [article], story_article, partial(RecentStories().decide, con))
        assert con.execute("SELECT count(*) FROM person_mentions").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM quotes").fetchall() == [(0,)]
