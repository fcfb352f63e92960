"""Stories end to end, as a user meets them: pages of several outlets served from
127.0.0.1 and ingested with `newswatch ingest urls`, then `newswatch story` and
`newswatch digest --by published` (real flow runs, a real DuckDB file)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from newswatch.cli import app

pytestmark = pytest.mark.usefixtures("prefect_harness")

EVENTS = Path(__file__).parent / "stories" / "events"
runner = CliRunner()


@pytest.fixture(autouse=True)
def local_fetching(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")


def _page(name: str) -> bytes:
    """An events text as an outlet's page: its name, date, headline and paragraphs,
    with a site's navigation and footer around the article."""
    lines = (EVENTS / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    outlet, published = re.search(r"Outlet: (.+) \| Published: (\S+)", lines[2]).groups()
    title = html.escape(lines[0])
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in "\n".join(lines[4:]).split("\n\n")
                         if p.strip())
    return (f'<!DOCTYPE html><html lang="en"><head><title>{title} | {outlet}</title>'
            f'<meta property="og:site_name" content="{html.escape(outlet)}">'
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article>"
            f"<h1>{title}</h1>{paragraphs}</article><footer>© {outlet}</footer>"
            "</body></html>").encode()


NAMES = ["ferry_wire", "ferry_daily", "ferry_broadcaster", "ferry_toll_rises",
         "tanzania_tourism", "tanzania_election", "ferry_bangladesh", "boj_markets",
         "boj_explainer", "japan_baseball", "japan_typhoon"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, httpserver_listen_address):
    from pytest_httpserver import HTTPServer

    db = tmp_path_factory.mktemp("stories") / "newswatch.duckdb"
    server = HTTPServer(*httpserver_listen_address)
    server.start()
    try:
        for name in NAMES:
            server.expect_request(f"/{name}").respond_with_data(_page(name),
                                                                content_type="text/html")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
            patch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
            result = runner.invoke(app, ["--db", str(db), "ingest", "urls",
                                         *(server.url_for(f"/{n}") for n in NAMES)])
        assert result.exit_code == 0, result.output
        assert f"ingested: {len(NAMES)}" in result.output
    finally:
        server.stop()
    return db


def _stories(db: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT story_id, url FROM articles").fetchall()
    finally:
        con.close()
    grouped: dict[str, set[str]] = {}
    for story, url in rows:
        grouped.setdefault(story, set()).add(url.rsplit("/", 1)[1])
    return grouped


def test_ingested_pages_group_into_the_stories_of_their_events(ingested):
    groups = sorted(sorted(g) for g in _stories(ingested).values())
    assert groups == sorted([
        ["ferry_broadcaster", "ferry_daily", "ferry_toll_rises", "ferry_wire"],
        ["boj_explainer", "boj_markets"],
        *([n] for n in ("tanzania_tourism", "tanzania_election", "ferry_bangladesh",
                        "japan_baseball", "japan_typhoon"))])


def test_the_story_command_prints_the_timeline(ingested):
    [ferry] = [s for s, g in _stories(ingested).items() if "ferry_wire" in g]
    result = runner.invoke(app, ["--db", str(ingested), "story", ferry[:8]])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"Story {ferry}: At least 23 dead as overloaded ferry capsizes")
    assert "4 articles, 2023-03-14 to 2023-03-16, 4 outlets" in out
    days = [line[:10] for line in out.splitlines() if line.startswith("2023-")]
    assert days == sorted(days) and len(days) == 4
    assert "development" in out and "why: " in out and "> " in out
    listing = runner.invoke(app, ["--db", str(ingested), "story"])
    assert listing.exit_code == 0 and ferry in listing.output


def test_the_story_command_says_when_there_is_no_such_story(ingested):
    from newswatch.errors import NewswatchError

    result = runner.invoke(app, ["--db", str(ingested), "story", "nosuchstory"])
    assert isinstance(result.exception, NewswatchError)
    assert "no story 'nosuchstory'" in str(result.exception)


def test_the_digest_by_publication_date_counts_stories_as_the_warehouse_does(
        ingested, tmp_path, monkeypatch):
    # The ferry sank on 14 March 2023: by publication date that day has stories, while
    # every page was first seen today. The shipped watchlist is Kazakhstan's and these
    # pages name none of it: re-tagged with a watchlist of their own, they count.
    watchlist = tmp_path / "watchlist.toml"
    watchlist.write_text('[[entity]]\nid = "tanzania"\nname = "Tanzania"\nkind = "GPE"\n'
                         'aliases = ["Mwanza", "Lake Victoria", "Dar es Salaam"]\n')
    monkeypatch.setenv("NEWSWATCH_WATCHLIST", str(watchlist))
    monkeypatch.setenv("NEWSWATCH_TIMEZONE", "UTC")
    monkeypatch.setenv("NEWSWATCH_DIGESTS_DIR", str(tmp_path / "digests"))
    before = _stories(ingested)
    again = runner.invoke(app, ["--db", str(ingested), "reprocess"])
    assert again.exit_code == 0, again.output
    assert _stories(ingested) == before  # re-tagging keeps every article's story
    con = duckdb.connect(str(ingested), read_only=True)
    try:
        expected = con.execute(
            "SELECT count(DISTINCT story_id) FROM articles JOIN mentions USING (article_id)"
            " WHERE CAST(published_at AS DATE) = DATE '2023-03-14'").fetchall()[0][0]
    finally:
        con.close()
    assert expected == 2  # the ferry (three reports that day) and the election campaign
    result = runner.invoke(app, ["--db", str(ingested), "digest", "--date", "2023-03-14",
                                 "--by", "published"])
    assert result.exit_code == 0, result.output
    assert "Digest for 2023-03-14: 2 stories" in result.output
    text = (tmp_path / "digests" / "2023-03-14.txt").read_text()
    assert text.startswith("newswatch digest for 2023-03-14: 2 stories")
    assert "published on 2023-03-14" in text
    # the ferry's three reports of the day are one entry with every outlet
    [entry] = [line for line in text.splitlines() if "Meridian Wire Service" in line
               and "The Dar Chronicle" in line]
    assert "Horizon Broadcasting News" in entry
    # by first seen, that day is quiet: everything arrived today
    quiet = runner.invoke(app, ["--db", str(ingested), "digest", "--date", "2023-03-14"])
    assert quiet.exit_code == 0 and "Digest for 2023-03-14: 0 stories" in quiet.output
