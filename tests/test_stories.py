"""Stories in the warehouse: copies and follow-ups share a story_id, the rest start anew."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import SEEDS

from newswatch.extractors.records import Article
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import load_batch

STORIES = Path(__file__).parent / "stories"
TAGGER = Tagger(load_watchlist(SEEDS / "watchlist.toml"))


def _article(name: str, text: str, published: datetime) -> Article:
    return Article(text=text, raw=text, title=text.splitlines()[0], seed_file=name,
                   published_at=published, mentions=TAGGER.tag(text))


def _story(con, name):
    return con.execute("SELECT story_id FROM articles WHERE seed_file = ?", [name]).fetchall()[0][0]


@pytest.fixture
def loaded(db_path):
    seed_000 = (SEEDS / "000_e517b95cd38eee32.txt").read_text(encoding="utf-8")
    day = datetime(2022, 1, 13, 8, tzinfo=UTC)
    with connect(db_path) as con:
        load_batch(con, [_article("seed_000", seed_000, day)])
        load_batch(con, [
            _article("copy", (STORIES / "copyedit_seed_000.txt").read_text(), day),
            _article("follow", (STORIES / "followup_last_troops_leave.txt").read_text(),
                     datetime(2022, 1, 19, 9, tzinfo=UTC)),
            _article("football", (STORIES / "unrelated_football.txt").read_text(), day),
        ])
        yield con


def test_a_copy_and_a_follow_up_join_the_story_and_say_how(loaded):
    story = _story(loaded, "seed_000")
    assert _story(loaded, "copy") == story
    assert _story(loaded, "follow") == story
    assert _story(loaded, "football") not in (story, None)
    links = loaded.execute(
        "SELECT a.seed_file, l.relation, r.seed_file FROM story_links l"
        " JOIN articles a USING (article_id)"
        " JOIN articles r ON r.article_id = l.related_article_id ORDER BY a.seed_file"
    ).fetchall()
    assert [(a, rel) for a, rel, _ in links] == [("copy", "copy"), ("follow", "follow_up")]
    assert {r for _, _, r in links} <= {"seed_000", "copy"}


def test_the_stories_view_groups_them(loaded):
    rows = loaded.execute("SELECT articles FROM stories ORDER BY articles DESC").fetchall()
    assert rows == [(3,), (1,)]
    assert loaded.execute("SELECT count(*) FROM article_fingerprints").fetchall() == [(4,)]


def test_the_digest_groups_copies_and_says_what_follows_up(db_path):
    from newswatch.digest.build import build_digest
    from newswatch.digest.render import render_text
    from newswatch.warehouse.digest import new_articles

    day1 = datetime(2022, 1, 13, 6, tzinfo=UTC)
    day2 = datetime(2022, 1, 19, 6, tzinfo=UTC)
    seed_000 = (SEEDS / "000_e517b95cd38eee32.txt").read_text(encoding="utf-8")

    def article(name, text, published, outlet):
        a = _article(name, text, published)
        a.outlet = outlet
        return a

    with connect(db_path) as con:
        load_batch(con, [article("seed_000", seed_000, day1, "Foreign Policy")], now=day1)
        load_batch(con, [
            article("wire_a", (STORIES / "wire_massimov_outlet_a.txt").read_text(), day2,
                    "Outlet A"),
            article("wire_b", (STORIES / "wire_massimov_outlet_b.txt").read_text(), day2,
                    "Outlet B"),
            article("follow", (STORIES / "followup_last_troops_leave.txt").read_text(), day2,
                    "Outlet C"),
            article("border", (STORIES / "other_kyrgyz_tajik_border.txt").read_text(), day2,
                    "Outlet D"),
        ], now=day2)
        rows = new_articles(con, day2.date(), "Asia/Almaty")
    digest = build_digest(rows, day2.date(), "Asia/Almaty")
    assert len(digest.stories) == 3  # the two wire copies are one story
    [border] = digest.new_stories  # another matter: a story of its own
    assert border.outlets == ["Outlet D"]
    by_outlets = {tuple(sorted(s.outlets)): s for s in digest.follow_ups}
    assert set(by_outlets) == {("Outlet A", "Outlet B"), ("Outlet C",)}
    follow = by_outlets[("Outlet C",)]
    assert follow.earlier == ("Follow-up to “As CSTO Troops Leave, Kazakhstan Faces the "
                              "Unknown” (Foreign Policy), first seen on 2022-01-13")
    text = render_text(digest)
    assert "Follow-ups to earlier stories:" in text and "also: Outlet" in text
    assert digest.subject.endswith("3 new stories")


def test_the_candidates_read_back_are_the_fingerprints_stored(loaded):
    # candidates() reads sketches as flat numpy columns: the same fingerprints, newest first
    from newswatch.extractors.dedup import fingerprint_from_row
    from newswatch.warehouse.stories import candidates

    rows = loaded.execute(
        "SELECT a.article_id, a.story_id, coalesce(a.published_at, a.first_seen_at),"
        " f.simhash, f.sketch, f.entity_ids, f.entity_counts"
        " FROM articles a JOIN article_fingerprints f USING (article_id)"
        " ORDER BY a.first_seen_at DESC, a.article_id").fetchall()
    now = loaded.execute("SELECT max(first_seen_at) FROM articles").fetchall()[0][0]
    read = list(candidates(loaded, now))
    assert [(c.article_id, c.story_id, c.first_seen_at, c.fingerprint) for c in read] == [
        (aid, story, when, fingerprint_from_row(*fp)) for aid, story, when, *fp in rows]
    assert len(read) == 4


def test_fingerprints_are_stored_as_computed(db_path):
    # sketches go in as one flat column: each comes back whole, sorted, with its article
    from newswatch.extractors.dedup import fingerprint, fingerprint_from_row

    day = datetime(2022, 1, 13, 8, tzinfo=UTC)
    articles = [_article(p.stem, p.read_text(encoding="utf-8"), day)
                for p in sorted(STORIES.glob("*.txt"))]
    articles.append(_article("no words", "\u2014 \u2026 \u2014", day))  # an empty sketch
    with connect(db_path) as con:
        load_batch(con, articles)
        stored = {name: fingerprint_from_row(*fp) for name, *fp in con.execute(
            "SELECT a.seed_file, f.simhash, f.sketch, f.entity_ids, f.entity_counts"
            " FROM article_fingerprints f JOIN articles a USING (article_id)").fetchall()}
    assert stored == {a.seed_file: fingerprint(a.text, a.mentions) for a in articles}
