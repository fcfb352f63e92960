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


def test_a_list_of_urls_past_prefect_s_parameter_limit_is_ingested_in_one_run_from_a_file(
        httpserver, db_path, monkeypatch):
    # Prefect refuses a flow run whose parameters pass 512 KiB (about 5,000 real URLs);
    # the limit is lowered here so that three URLs pass it. (Read from standard
    # input, the list is the CLI's; a file of URLs goes to the flow as it is.)
    import importlib
    import json

    import duckdb

    flow_module = importlib.import_module("newswatch.flows.url_list")

    urls = [httpserver.url_for(f"/{name}") for name in ("a", "b", "c")]
    monkeypatch.setattr(flow_module, "MAX_URL_BYTES", len(json.dumps(urls[:2])) + 1)
    for name in ("a", "b"):  # two copies of one page: one is held already
        httpserver.expect_request(f"/{name}").respond_with_data(
            PAGE.read_bytes(), content_type="text/html")
    httpserver.expect_request("/c").respond_with_data("no", status=410)
    before = _ingest_url_runs()
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls", "--file", "-"],
                           input="\n".join(urls) + "\n")
    assert result.exit_code == 0, result.output
    new = [run for run in _ingest_url_runs() if run.id not in {r.id for r in before}]
    assert len(new) == 1
    given = new[0].parameters  # a file of the URLs, removed after the run
    assert "urls" not in given or not given["urls"]
    assert given["url_file"] and not Path(given["url_file"]).exists()
    assert "URLs: 3  fetched: 2" in result.output
    assert "ingested: 1" in result.output and "already held: 1" in result.output
    assert "failed: 1" in result.output and "http_error" in result.output
    with duckdb.connect(str(db_path), read_only=True) as con:
        fetched = con.execute("SELECT count(DISTINCT url) FROM fetches").fetchall()[0][0]
    assert fetched == 3


def test_a_file_of_urls_goes_to_the_flow_as_it_is(httpserver, db_path, tmp_path):
    # the flow reads it a batch at a time: neither the CLI nor the run holds the list
    httpserver.expect_request("/a").respond_with_data(PAGE.read_bytes(),
                                                      content_type="text/html")
    url_file = tmp_path / "urls.txt"
    url_file.write_text(f"{httpserver.url_for('/a')}\n# a repeat:\n{httpserver.url_for('/a')}\n")
    before = _ingest_url_runs()
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls", "--file", str(url_file)])
    assert result.exit_code == 0, result.output
    new = [run for run in _ingest_url_runs() if run.id not in {r.id for r in before}]
    assert [run.parameters["url_file"] for run in new] == [str(url_file.resolve())]
    assert url_file.exists()
    assert "URLs: 2  fetched: 1" in result.output and "ingested: 1" in result.output


def test_a_file_with_no_urls_says_so(db_path, tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# nothing today\n\n")
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls", "--file", str(url_file)])
    assert isinstance(result.exception, NewswatchError)
    assert f"no URLs in {url_file}" in str(result.exception)


def _ingest_url_runs() -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["ingest-urls"])))


def test_ingest_urls_needs_urls(db_path):
    result = runner.invoke(app, ["--db", str(db_path), "ingest", "urls"])
    assert isinstance(result.exception, NewswatchError)
    assert "no URLs given" in str(result.exception)
