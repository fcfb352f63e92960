"""`newswatch ingest urls` and `newswatch reprocess` from the command line (real flow runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.errors import NewswatchError

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGE = next((Path(__file__).parent / "pages").glob("steppe_courier_deployment.html"))
runner = CliRunner()


@pytest.fixture(autouse=True)
def local_fetching(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")


def test_ingest_urls_from_arguments_and_a_file(httpserver, db_path, tmp_path):
    httpserver.expect_request("/a").respond_with_data(PAGE.read_bytes(),
                                                      content_type="text/html")
    httpserver.expect_request("/b").respond_with_data("no", status=410)
    url_file = tmp_path / "urls.txt"
    url_file.write_text(f"# today's links\n{httpserver.url_for('/b')}\n\n")
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls",
                                 httpserver.url_for("/a"), "--file", str(url_file)])
    assert result.exit_code == 0, result.output
    assert "URLs: 2  fetched: 1" in result.output
    assert "ingested: 1" in result.output and "failed: 1" in result.output
    assert "http_error" in result.output and "410" in result.output

    again = runner.invoke(app, ["--db", str(db_path), "reprocess"])
    assert again.exit_code == 0, again.output
    assert "Raw documents: 1  articles: 1  changed: 0" in again.output


def test_ingest_urls_needs_urls(db_path):
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls"])
    assert isinstance(result.exception, NewswatchError)
    assert "no URLs given" in str(result.exception)
