"""`ingest urls` and `reprocess` as real flow runs against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import zlib
from pathlib import Path

import pytest
from werkzeug import Request, Response

from newswatch.warehouse.connection import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = Path(__file__).parent / "pages"


@pytest.fixture
def local_fetching(monkeypatch):
    """Allow 127.0.0.1 and drop politeness delays: tests talk to their own server."""
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "3")


def _serve_with_etags(httpserver, path: str, body: bytes, hits: list[str]) -> None:
    etag = '"' + hashlib.sha1(body).hexdigest() + '"'

    def handler(request: Request) -> Response:
        hits.append(request.headers.get("If-None-Match") or "")
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="text/html; charset=utf-8", headers={"ETag": etag})

    httpserver.expect_request(path).respond_with_handler(handler)


def _article_pages() -> list[Path]:
    return sorted(p for p in PAGES.glob("*.html")
                  if not p.stem.endswith(("_index", "_nav", "_short")))


def _ingest(urls, db, **kwargs):
    from newswatch.flows.ingest_urls import ingest_urls

    return asyncio.run(ingest_urls(urls=urls, db=str(db), **kwargs))


def _count(db, sql):
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def test_pages_are_fetched_extracted_tagged_and_loaded(httpserver, db_path, local_fetching):
    hits: list[str] = []
    pages = _article_pages()[:3]
    for page in pages:
        _serve_with_etags(httpserver, f"/news/{page.stem}", page.read_bytes(), hits)
    index = next(PAGES.glob("*_index.html"))
    httpserver.expect_request("/section").respond_with_data(
        index.read_bytes(), content_type="text/html")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    urls = [httpserver.url_for(f"/news/{p.stem}") for p in pages]
    urls += [httpserver.url_for("/section"), httpserver.url_for("/gone"), "ftp://example/x"]

    summary = _ingest(urls, db_path)
    assert (summary.ingested, summary.not_articles, summary.fetch_failed) == (3, 1, 2)
    assert summary.mentions > 10
    assert _count(db_path, "SELECT count(*) FROM articles WHERE url IS NOT NULL") == 3
    assert _count(db_path, "SELECT count(*) FROM fetches") == 5
    assert _count(db_path, "SELECT count(*) FROM fetches WHERE article_id IS NOT NULL") == 3
    assert _count(db_path, "SELECT count(*) FROM raw_pages") == 4  # the 404 has no page
    with connect(db_path, read_only=True) as con:
        # the bytes as served, packed while the batch waited for its load
        stored = {url.rsplit("/", 1)[1]: (sha, size, zlib.decompress(packed)) for url, sha, size,
                  packed in con.execute("SELECT url, sha256, raw_size, raw_zlib FROM raw_pages"
                                        ).fetchall()}
        for page in pages:
            raw = page.read_bytes()
            assert stored[page.stem] == (hashlib.sha256(raw).hexdigest(), len(raw), raw)
        rejects = dict(con.execute("SELECT reason, stage FROM rejects").fetchall())
        mentions_ok = con.execute(
            "SELECT bool_and(substr(a.text, m.start_char + 1, m.end_char - m.start_char)"
            " = m.surface) FROM mentions m JOIN articles a USING (article_id)").fetchall()[0][0]
    assert rejects["http_error"] == "fetch" and rejects["invalid_url"] == "fetch"
    assert any(reason.startswith("not_article") for reason in rejects)
    assert mentions_ok  # offsets index the stored text

    # Again, with tracking parameters: the same URLs, asked conditionally, cost nothing.
    again = _ingest([u + "?utm_source=x&utm_medium=y" for u in urls[:3]], db_path)
    assert (again.ingested, again.not_modified) == (0, 3)
    assert hits[-3:] == [h for h in hits[-3:] if h.startswith('"')]  # If-None-Match was sent
    assert _count(db_path, "SELECT count(*) FROM articles WHERE url IS NOT NULL") == 3
    assert _count(db_path, "SELECT count(*) FROM raw_pages") == 4


def test_reprocess_applies_a_new_watchlist_and_is_idempotent(
    httpserver, db_path, local_fetching, seeds_copy, monkeypatch
):
    from newswatch.flows.ingest import ingest_seeds
    from newswatch.flows.reprocess import reprocess

    page = _article_pages()[0]
    httpserver.expect_request("/a").respond_with_data(page.read_bytes(),
                                                      content_type="text/html")
    asyncio.run(ingest_seeds(directory=str(seeds_copy), db=str(db_path)))
    _ingest([httpserver.url_for("/a")], db_path)
    before = _count(db_path, "SELECT count(*) FROM mentions")
    kazakhstan = _count(db_path, "SELECT count(*) FROM mentions WHERE entity_id = 'kazakhstan'")
    assert kazakhstan > 0

    same = asyncio.run(reprocess(db=str(db_path)))
    assert (same.documents, same.articles, same.changed) == (6, 6, 0)
    assert _count(db_path, "SELECT count(*) FROM mentions") == before

    # a watchlist without Kazakhstan: its mentions go, nothing is fetched again
    watchlist = seeds_copy / "watchlist.toml"
    text = watchlist.read_text(encoding="utf-8")
    start = text.index('id = "kazakhstan"')
    start = text.rindex("[[entity]]", 0, start)
    end = text.index("[[entity]]", start + 1)
    watchlist.write_text(text[:start] + text[end:], encoding="utf-8")
    monkeypatch.setenv("NEWSWATCH_WATCHLIST", str(watchlist))
    requests_before = len(httpserver.log)
    changed = asyncio.run(reprocess(db=str(db_path)))
    assert changed.articles == 6
    assert len(httpserver.log) == requests_before
    assert _count(db_path, "SELECT count(*) FROM mentions WHERE entity_id = 'kazakhstan'") == 0
    after = _count(db_path, "SELECT count(*) FROM mentions")
    assert after == before - kazakhstan
    asyncio.run(reprocess(db=str(db_path)))
    assert _count(db_path, "SELECT count(*) FROM mentions") == after


def test_reprocess_turns_a_rejected_page_into_an_article(
    httpserver, db_path, local_fetching, monkeypatch
):
    from newswatch.flows.reprocess import reprocess

    short = next(PAGES.glob("*_short.html"))
    httpserver.expect_request("/short").respond_with_data(short.read_bytes(),
                                                          content_type="text/html")
    first = _ingest([httpserver.url_for("/short")], db_path)
    assert (first.ingested, first.not_articles) == (0, 1)
    monkeypatch.setenv("NEWSWATCH_MIN_ARTICLE_CHARS", "20")
    result = asyncio.run(reprocess(db=str(db_path)))
    assert result.new_articles == 1
    assert _count(db_path, "SELECT count(*) FROM articles") == 1


def test_every_http_attempt_is_a_row_in_fetches(httpserver, db_path, local_fetching):
    page = _article_pages()[0].read_bytes()
    answers = iter([Response("busy", status=503), Response(page, content_type="text/html")])
    httpserver.expect_request("/flaky").respond_with_handler(lambda request: next(answers))
    httpserver.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data(page.replace(b"Almaty", b"Almaty!"),
                                                        content_type="text/html")
    _ingest([httpserver.url_for("/flaky"), httpserver.url_for("/old")], db_path)
    with connect(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT regexp_extract(url, '/[a-z]+$'), regexp_extract(final_url, '/[a-z]+$'),"
            " attempt, status, outcome FROM fetches ORDER BY url, attempt").fetchall()
    assert rows == [
        ("/flaky", "/flaky", 1, 503, "retried"), ("/flaky", "/flaky", 2, 200, "ok"),
        ("/old", "/old", 1, 301, "redirected"), ("/old", "/new", 2, 200, "ok"),
    ]


def _with_sentence(html: str, sentence: str) -> str:
    """The page with a sentence of its own at the start of its first paragraph."""
    match = re.compile(r"<p(?:\s[^>]*)?>(?=[^<]{150})").search(html, html.find("</h1>"))
    return html[:match.end()] + sentence + " " + html[match.end():]


def _no_meta_charset(html: str) -> str:
    return re.sub(r'<meta charset="[^"]*">', "", html, flags=re.I)


def test_a_batch_of_bad_pages_is_recorded_and_stops_nothing(
    httpserver, db_path, local_fetching, monkeypatch
):
    """Every kind of bad input in one batch: each gets a recorded, readable outcome."""
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("NEWSWATCH_FETCH_RETRIES", "1")
    good = _article_pages()[0]
    httpserver.expect_request("/first").respond_with_data(good.read_bytes(),
                                                          content_type="text/html")
    assert _ingest([httpserver.url_for("/first")], db_path).ingested == 1

    russian = _no_meta_charset((PAGES / "stepnoy_vestnik_withdrawal_ru.html").read_text())
    english = _no_meta_charset(_article_pages()[1].read_text())
    english = _with_sentence(english, "Delegates met in the café at Zürich.")
    nav = next(PAGES.glob("*_nav.html")).read_bytes()
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    gzipped = b"".join(bomb.compress(b"\0" * (1 << 20)) for _ in range(200)) + bomb.flush()
    answers = iter([Response("oops", status=500),
                    Response(_article_pages()[4].read_bytes(), content_type="text/html")])

    # a server that accepts connections and never answers
    hanging = socket.create_server(("127.0.0.1", 0))
    hang_url = f"http://127.0.0.1:{hanging.getsockname()[1]}/hang"

    serve = {
        "/404": Response("missing", status=404),
        "/410": Response("gone", status=410),
        "/429": Response("slow down", status=429, headers={"Retry-After": "1"}),
        "/loop-a": Response(status=302, headers={"Location": "/loop-b"}),
        "/loop-b": Response(status=302, headers={"Location": "/loop-a"}),
        "/huge": Response(b"<html>" + b"x" * 20_000_000, content_type="text/html"),
        "/bomb": Response(gzipped, content_type="text/html",
                          headers={"Content-Encoding": "gzip"}),
        "/binary": Response(bytes(range(256)) * 64, content_type="text/html"),
        "/cp1251": Response(russian.encode("cp1251"), content_type="text/html"),
        "/latin1": Response(english.encode("latin-1", "replace"), content_type="text/html"),
        "/malformed": Response(
            _with_sentence((PAGES / "eurasia_desk_malformed.html").read_text(),
                           "Unclosed <b>tags <i>everywhere.")
            .replace("</p>", "").replace("</div>", "").encode(), content_type="text/html"),
        "/empty": Response(b"", content_type="text/html"),
        "/nav": Response(nav, content_type="text/html"),
    }
    for path, response in serve.items():
        httpserver.expect_request(path).respond_with_response(response)
    httpserver.expect_request("/flaky").respond_with_handler(lambda request: next(answers))

    paths = [p for p in serve if p != "/loop-b"] + ["/flaky"]
    try:
        summary = _ingest([httpserver.url_for(p) for p in paths] + [hang_url], db_path)
    finally:
        hanging.close()
    with connect(db_path, read_only=True) as con:
        outcomes = dict(con.execute(
            "SELECT regexp_extract(url, '/[a-z0-9-]+$'), outcome FROM fetches"
            " QUALIFY attempt = max(attempt) OVER (PARTITION BY url, fetched_at)").fetchall())
        reasons = dict(con.execute(
            "SELECT regexp_extract(item, '/[a-z0-9-]+$'), reason FROM rejects").fetchall())
        texts = dict(con.execute(
            "SELECT regexp_extract(url, '/[a-z0-9-]+$'), text FROM articles").fetchall())
    assert outcomes == {
        "/first": "ok", "/404": "http_error", "/410": "http_error", "/429": "http_error",
        "/loop-a": "redirect_loop", "/huge": "too_large", "/bomb": "too_large",
        "/binary": "not_html", "/cp1251": "ok", "/latin1": "ok", "/malformed": "ok",
        "/empty": "empty", "/nav": "ok", "/flaky": "ok", "/hang": "timeout",
    }
    assert reasons["/nav"].startswith("not_article")
    assert {p for p, r in reasons.items() if r == outcomes.get(p)} == {
        "/404", "/410", "/429", "/loop-a", "/huge", "/bomb", "/binary", "/empty", "/hang"}
    assert "ОДКБ" in texts["/cp1251"]
    assert "café at Zürich" in texts["/latin1"]
    assert {"/first", "/flaky", "/malformed"} <= set(texts)
    assert summary.ingested == 4  # cp1251, latin1, flaky, malformed; /first was already held


def test_a_run_leaves_a_row_group_per_batch_for_compaction_to_merge(
        httpserver, db_path, local_fetching):
    # Loads never merge DuckDB's row groups (that cost grew with the warehouse):
    # the run leaves one per batch, and compaction merges them, rows unchanged.
    from newswatch.warehouse.compact import compact, partial_row_groups

    pages = _article_pages()[:3]
    for page in pages:
        httpserver.expect_request(f"/news/{page.stem}").respond_with_data(
            page.read_bytes(), content_type="text/html")
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    urls = [httpserver.url_for(f"/news/{p.stem}") for p in pages]

    summary = _ingest(urls, db_path, batch_size=1)  # three batches, three loads
    assert summary.ingested == 3
    with connect(db_path, read_only=True) as con:
        left = partial_row_groups(con, "articles")
    compact(db_path)
    with connect(db_path, read_only=True) as con:
        merged = partial_row_groups(con, "articles")
        held = sorted(con.execute("SELECT url FROM articles").fetchall())
    assert left == 3 and merged == 1
    assert held == sorted((u,) for u in urls)


def test_a_list_past_prefect_s_parameter_limit_goes_to_the_flow_as_a_file():
    import json

    from newswatch.extractors.urls import read_url_file
    from newswatch.flows.url_list import url_parameters

    # real news URLs run to 100 characters and more: 12,000 of them pass 512 KiB
    urls = [f"https://outlet{i % 7}.example/2022/01/{i}/" + "a-long-slug-" * 6
            for i in range(12000)]
    assert len(json.dumps({"urls": urls})) > 512 * 1024
    with url_parameters(urls) as given:
        assert list(given) == ["url_file"] and len(json.dumps(given)) < 1024
        assert read_url_file(given["url_file"]) == urls
    assert not Path(given["url_file"]).exists()
    with url_parameters(urls[:10]) as given:
        assert given == {"urls": urls[:10]}


def test_the_flow_reads_urls_from_a_file_beside_its_list(
        httpserver, db_path, tmp_path, local_fetching):
    from newswatch.errors import UrlFileError

    pages = _article_pages()[:3]
    for page in pages:
        httpserver.expect_request(f"/news/{page.stem}").respond_with_data(
            page.read_bytes(), content_type="text/html")
    urls = [httpserver.url_for(f"/news/{p.stem}") for p in pages]
    listed = tmp_path / "urls.txt"
    listed.write_text(f"# two of them\n{urls[1]}\n\n{urls[2]}  # and a comment\n{urls[0]}\n")

    summary = _ingest(urls[:1], db_path, url_file=str(listed))
    assert (summary.urls, summary.ingested) == (4, 3)  # urls[0] twice, fetched once
    assert _count(db_path, "SELECT count(DISTINCT url) FROM fetches") == 3

    with pytest.raises(UrlFileError, match="cannot read URLs from .*missing.txt"):
        _ingest([], db_path, url_file=str(tmp_path / "missing.txt"))


def test_a_run_s_bookkeeping_grows_by_the_batch_not_by_the_page(httpserver, local_fetching):
    # Prefect links each item of a task's result to its state for the flow run's
    # whole life: a batch of pages must count once, or memory grows with the URLs
    from prefect import flow
    from prefect.context import FlowRunContext
    from prefect.utilities.annotations import quote

    from newswatch.config import load_settings
    from newswatch.extractors.fetch import Fetcher
    from newswatch.flows.page_batches import fetch_and_extract
    from newswatch.flows.pool import ExtractionPool

    page = _article_pages()[0].read_bytes()
    httpserver.expect_request("/news").respond_with_data(page, content_type="text/html")
    requests = [(httpserver.url_for(f"/news?p={i}"), None, None) for i in range(40)]

    @flow
    async def one_batch() -> tuple[int, int]:
        settings = load_settings()
        links = FlowRunContext.get().run_results
        async with Fetcher(settings.fetch_policy()) as fetcher, ExtractionPool(
                str(settings.resolved_watchlist()), 1, settings.min_article_chars) as pool:
            before = len(links)
            batch = await fetch_and_extract(quote(requests), fetcher, pool)
            return len(batch.pages), len(links) - before

    pages, links = asyncio.run(one_batch())
    assert pages == 40 and links <= 2


def test_the_pool_takes_two_chunks_a_worker_and_the_next_sender_waits_for_room():
    # what keeps fetched pages from piling up decoded: with one worker, a third chunk
    # is not sent before one of the first two is extracted (the first, on one worker)
    from newswatch.config import load_settings
    from newswatch.flows.pool import ExtractionPool

    slow = "<html><body><article>" + "<p>A long paragraph of the report. </p>" * 40_000 \
        + "</article></body></html>"
    quick = [(_article_pages()[0].read_text(encoding="utf-8"), None)]

    async def main() -> tuple[bool, bool, bool]:
        async with ExtractionPool(str(load_settings().resolved_watchlist()), 1) as pool:
            first = await pool.submit_many([(slow, None)])
            second = await pool.submit_many(quick)
            third = asyncio.ensure_future(pool.submit_many(quick))
            await asyncio.sleep(0.2)
            waited = not third.done() and not first.done()
            await (await third)
            return waited, first.done(), len(await second) == 1

    waited, first_done, second_ok = asyncio.run(main())
    assert waited and first_done and second_ok


def test_a_run_s_urls_wait_in_a_spool_canonical_and_each_once(db_path, monkeypatch):
    # read a chunk at a time (two here): repeats across chunks still count once
    import importlib

    from newswatch.flows.url_list import UrlSpool

    monkeypatch.setattr(importlib.import_module("newswatch.flows.url_list"), "_SPOOL_CHUNK", 2)
    listed = ["https://a.kz/1", "HTTPS://A.kz/2?utm_source=x", "mailto:x@a.kz",
              "https://a.kz/1#top", "https://a.kz/3", "https://a.kz/2"]
    with connect(db_path) as con, UrlSpool() as spool:
        total, invalid = spool.fill(iter(listed), con)
        assert (total, spool.count) == (6, 3)
        assert [r.item for r in invalid] == ["mailto:x@a.kz"]
        assert spool.take(2) == [("https://a.kz/1", None, None), ("https://a.kz/2", None, None)]
        assert spool.take() == [("https://a.kz/3", None, None)]
        assert spool.take(2) == []


def test_a_load_blocked_by_another_process_is_retried(httpserver, db_path, local_fetching,
                                                      monkeypatch):
    """Another process holds the warehouse past lock_timeout while the batch is fetched:
    the load task fails with a lock error, Prefect retries it, nothing is lost."""
    import subprocess
    import threading

    from conftest import hold_lock

    monkeypatch.setenv("NEWSWATCH_LOCK_TIMEOUT", "0.5")
    with connect(db_path):
        pass  # the warehouse exists, migrated
    holders: list[subprocess.Popen] = []
    started = threading.Lock()
    page = _article_pages()[0]

    def handler(request: Request) -> Response:
        with started:  # the first request takes the lock in a second process, for 3 s
            if not holders:
                holders.append(hold_lock(db_path, 3))
        return Response(page.read_bytes(), content_type="text/html; charset=utf-8")

    httpserver.expect_request("/news/locked").respond_with_handler(handler)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    summary = _ingest([httpserver.url_for("/news/locked")], db_path)
    holders[0].wait(timeout=30)
    assert summary.ingested == 1
    assert _count(db_path, "SELECT count(*) FROM articles WHERE url IS NOT NULL") == 1


def test_a_hostile_site_plants_nothing(httpserver, db_path, local_fetching):
    """Through `ingest urls`: a page claiming another site's canonical URL, a URL with
    credentials, a UTF-8 page labelled ISO-8859-1, binary behind an HTML head."""
    page = (PAGES / "steppe_courier_deployment.html").read_text()
    planted = page.replace("https://www.steppecourier.com/world/asia/2022/01/06/",
                           "https://www.victim-news.com/world/")
    httpserver.expect_request("/planted").respond_with_data(
        planted, content_type="text/html; charset=utf-8")
    russian = (PAGES / "stepnoy_vestnik_withdrawal_ru.html").read_bytes()
    httpserver.expect_request("/mislabelled").respond_with_data(
        russian, content_type="text/html; charset=iso-8859-1")
    httpserver.expect_request("/binary").respond_with_data(
        page.encode()[:3000] + bytes(range(256)) * 300, content_type="text/html")
    httpserver.expect_request("/private").respond_with_data(
        (PAGES / "caspian_monitor_summit.html").read_bytes(),
        content_type="text/html; charset=utf-8")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    with_credentials = httpserver.url_for("/private").replace("http://", "http://ann:s3cret@")
    urls = [httpserver.url_for("/planted"), httpserver.url_for("/mislabelled"),
            httpserver.url_for("/binary"), with_credentials]

    _ingest(urls, db_path)
    with connect(db_path, read_only=True) as con:
        stored = con.execute("SELECT url, canonical_url, text FROM articles").fetchall()
        everything = con.execute(
            "SELECT string_agg(concat_ws(' ', url, final_url, error), ' ') FROM fetches"
        ).fetchall()[0][0] + " ".join(str(r) for r in stored)
        rejects = dict(con.execute("SELECT item, reason FROM rejects").fetchall())
    assert "victim-news" not in everything
    assert "s3cret" not in everything and "ann:" not in everything
    by_url = {url.rsplit("/", 1)[1]: (canonical, text) for url, canonical, text in stored}
    assert by_url["planted"][0] == httpserver.url_for("/planted")
    assert "ОДКБ" in by_url["mislabelled"][1]  # not "Ð\x9eÐ\x94Ð\x9aÐ\x91"
    assert rejects[httpserver.url_for("/binary")] == "not_html"
    assert "private" in by_url  # fetched without the credentials, which were dropped
    assert [r.authorization for r, _ in httpserver.log if r.path == "/private"] == [None]
