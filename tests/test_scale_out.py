"""Scale-out: ingest on a local Dask cluster of two worker processes, staged as
Parquet and merged by one loader, gives the same warehouse as the default runner."""

from __future__ import annotations

import asyncio
import html
import json
from functools import partial
from pathlib import Path

import httpx
import pytest

from newswatch.flows.stories import RecentStories
from newswatch.warehouse.connection import connect
from newswatch.warehouse.staging import merge, pending, read_batch

# a Dask cluster of two workers: left out of `make test-fast`
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

PAGES = sorted((Path(__file__).parent / "pages").glob("*.html"))

# What must be equal, without the columns that say when (or how fast) a row was made.
TABLES = {
    "articles": "SELECT * EXCLUDE (first_seen_at) FROM articles ORDER BY article_id",
    "mentions": "SELECT * EXCLUDE (first_seen_at) FROM mentions ORDER BY ALL",
    "demonym_mentions": "SELECT * FROM demonym_mentions ORDER BY ALL",
    "article_fingerprints": "SELECT * EXCLUDE (first_seen_at) FROM article_fingerprints"
                            " ORDER BY article_id",
    "story_links": "SELECT * EXCLUDE (linked_at) FROM story_links ORDER BY ALL",
    "raw_pages": "SELECT * EXCLUDE (fetched_at) FROM raw_pages ORDER BY ALL",
    "fetches": "SELECT url, final_url, attempt, status, outcome, error, bytes, etag,"
               " last_modified, content_type, encoding, article_id FROM fetches ORDER BY ALL",
    "rejects": "SELECT * EXCLUDE (recorded_at) FROM rejects ORDER BY ALL",
    "person_mentions": "SELECT * FROM person_mentions ORDER BY ALL",
    "quotes": "SELECT * FROM quotes ORDER BY ALL",
}
SEED_000 = (Path(__file__).parent.parent / "seeds" / "000_e517b95cd38eee32.txt")


def _quoting_page() -> bytes:
    """A page with an expert quoted by name (seed 000 as HTML): people and quotes travel too."""
    title, *paragraphs = [p for p in SEED_000.read_text(encoding="utf-8").split("\n") if p]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html><head><title>{html.escape(title)}</title></head><body><article>"
            f"<h1>{html.escape(title)}</h1>{body}</article></body></html>").encode()


@pytest.fixture
def served(httpserver) -> list[str]:
    """The test pages, one of them twice (a copy under another URL), and a 404."""
    urls = []
    for i, page in enumerate([*PAGES, PAGES[0]]):
        httpserver.expect_request(f"/a/{i}").respond_with_data(
            page.read_bytes(), content_type="text/html; charset=utf-8")
        urls.append(httpserver.url_for(f"/a/{i}"))
    httpserver.expect_request("/quoting").respond_with_data(
        _quoting_page(), content_type="text/html; charset=utf-8")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    return [*urls, httpserver.url_for("/quoting"), httpserver.url_for("/gone")]


@pytest.fixture(autouse=True)
def local_fetching(monkeypatch):
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSWATCH_URL_BATCH_SIZE", "3")   # several batches, both workers
    # Dask workers are processes: they reach the session's Prefect API through the env
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())


def _contents(db: Path) -> dict[str, list[tuple]]:
    with connect(db, read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}


def _latest_artifact(key: str) -> dict:
    from prefect.settings import PREFECT_API_URL

    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/latest/filter",
                          json={"artifacts": {"key": {"any_": [key]}}}, timeout=60)
    response.raise_for_status()
    return {row["count"]: row["value"] for row in json.loads(response.json()[0]["data"])}


def _ingest(urls: list[str], db: Path):
    from newswatch.flows.ingest_urls import ingest_urls

    return asyncio.run(ingest_urls(urls=urls, db=str(db)))


def test_a_dask_cluster_of_two_workers_builds_the_same_warehouse(served, tmp_path,
                                                                 monkeypatch):
    local = _ingest(served, tmp_path / "local.duckdb")

    staging = tmp_path / "staging"
    monkeypatch.setenv("NEWSWATCH_TASK_RUNNER", "dask")
    monkeypatch.setenv("NEWSWATCH_DASK_WORKERS", "2")
    monkeypatch.setenv("NEWSWATCH_STAGING_DIR", str(staging))
    distributed = _ingest(served, tmp_path / "dask.duckdb")

    counts = ("fetched", "fetch_failed", "extracted", "not_articles", "tagged", "ingested",
              "already_held", "mentions")
    assert [getattr(distributed, c) for c in counts] == [getattr(local, c) for c in counts]
    assert local.ingested >= 4 and local.already_held == 1 and local.fetch_failed == 1
    a, b = _contents(tmp_path / "local.duckdb"), _contents(tmp_path / "dask.duckdb")
    for table in TABLES:
        assert b[table] == a[table], table
    assert a["mentions"] and a["story_links"]   # a copy joined its story
    assert a["person_mentions"] and a["quotes"]  # Alexander Cooley and his words

    # the run's artifact, read back from the API, counts the rejects by reason
    rows = _latest_artifact("ingest-urls-counts")
    assert rows["urls"] == len(served) and rows["seconds"] > 0
    assert rows["extracted"] == local.extracted and rows["tagged"] == local.tagged
    assert rows["rejected: fetch http_error"] == 1
    reasons = {r.reason for r in local.rejects if r.stage == "extract"}
    assert reasons and all(rows[f"rejected: extract {reason}"] >= 1 for reason in reasons)

    # every batch was staged, merged once and moved to done/
    batches = -(-len(served) // 3)
    assert pending(staging) == []
    done = sorted((staging / "done").glob("*.parquet"))
    assert len(done) == batches
    assert sum(len(read_batch(p)) for p in done) == len(served)
    with connect(tmp_path / "dask.duckdb") as con:
        assert con.execute("SELECT count(*), sum(pages) FROM staged_batches").fetchall() == [
            (batches, len(served))]
        # merging the same files again changes nothing
        again = merge(con, staging, partial(RecentStories().decide, con), done)
        assert (again.files, again.already_merged) == (0, batches)
    assert _contents(tmp_path / "dask.duckdb") == b
