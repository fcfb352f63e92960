"""`newswatch --config FILE COMMAND`: every command's run uses the file's settings.

The configuration names a one-entity watchlist, a warehouse, a sources file, a
digest folder and a minimum article length that differ from every default;
each command is run through the console script's entry point, and what it left
behind says which settings it used.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_errors import _in_process

from newswatch.warehouse.connection import connect

PAGES = Path(__file__).parent / "pages"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

pytestmark = pytest.mark.usefixtures("prefect_harness")

ONE_ENTITY = """
[[entity]]
id = "csto"
name = "Collective Security Treaty Organization"
kind = "ORG"
aliases = ["CSTO"]
"""


@pytest.fixture
def configured(tmp_path, monkeypatch, httpserver):
    """A config file whose every setting here differs from the default, and a feed."""
    page = (PAGES / "steppe_courier_deployment.html").read_bytes()
    httpserver.expect_request("/news/csto").respond_with_data(
        page, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f'<title>CSTO</title><link>{httpserver.url_for("/news/csto")}</link>'
        "</item></channel></rss>", content_type="application/rss+xml")
    (tmp_path / "watchlist.toml").write_text(ONE_ENTITY, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nname = "Feed"\nurl = "{httpserver.url_for("/feed.xml")}"\n'
        'kind = "feed"\n', encoding="utf-8")
    config = tmp_path / "other.toml"
    config.write_text(
        f'db = "{tmp_path / "other.duckdb"}"\n'
        f'watchlist = "{tmp_path / "watchlist.toml"}"\n'
        f'sources = "{tmp_path / "sources.toml"}"\n'
        f'digests_dir = "{tmp_path / "other-digests"}"\n'
        'allowed_networks = ["127.0.0.1/32"]\nper_host_delay = 0\n'
        "min_article_chars = 100000\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no newswatch.toml here: only --config speaks
    for key in ("NEWSWATCH_DB", "NEWSWATCH_WATCHLIST", "NEWSWATCH_SOURCES"):
        monkeypatch.delenv(key, raising=False)
    return config, tmp_path, httpserver


def _entities(db: Path) -> list[str]:
    with connect(db, read_only=True) as con:
        return [r[0] for r in con.execute(
            "SELECT DISTINCT entity_id FROM mentions UNION SELECT entity_id FROM entities"
        ).fetchall()]


def test_every_command_runs_with_the_config_file(configured, capfd, monkeypatch):
    config, tmp, server = configured
    db = tmp / "other.duckdb"

    def run(*args: str):
        done = _in_process(capfd, monkeypatch, "--config", str(config), *args)
        assert done.returncode in (0, 3), done.stderr
        return done

    run("ingest", "seeds", str(SEEDS))
    assert _entities(db) == ["csto"]           # the file's watchlist, in the file's warehouse
    assert not (tmp / "data").exists()         # nothing went to the default warehouse

    # min_article_chars = 100000: the page is refused as too short, by the file's rule
    run("ingest", "urls", server.url_for("/news/csto"))
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT reason FROM rejects WHERE item LIKE '%/news/csto'"
                           ).fetchall() == [("not_article_too_short",)], con.execute(
            "SELECT item, reason, detail FROM rejects").fetchall() + con.execute(
            "SELECT url FROM articles").fetchall()

    run("poll")                                # the file's sources
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM source_links").fetchall() == [(1,)]

    run("reprocess")                           # the file's watchlist again
    assert _entities(db) == ["csto"]

    run("digest")                              # the file's digest folder
    assert list((tmp / "other-digests").glob("*.html"))
    assert not (tmp / "digests").exists()

    done = run("sql", "SELECT count(*) AS n FROM articles")  # the file's warehouse
    assert "5" in done.stdout
    assert "Compacted" in run("compact").stdout
    assert "Stories last reported" in run("story").stdout  # read from the file's warehouse


def test_a_run_without_a_command_line_reads_newswatch_config(configured, monkeypatch):
    """What `serve`'s runs and a worker's get: no settings passed, $NEWSWATCH_CONFIG."""
    import asyncio

    from newswatch.flows.ingest import ingest_seeds

    config, tmp, _ = configured
    monkeypatch.setenv("NEWSWATCH_CONFIG", str(config))
    asyncio.run(ingest_seeds(directory=str(SEEDS)))
    assert _entities(tmp / "other.duckdb") == ["csto"]
