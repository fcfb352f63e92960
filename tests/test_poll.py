"""`newswatch poll` against real feeds and sitemaps served from 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug import Request, Response

from newswatch.warehouse.connection import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = Path(__file__).parent / "pages"
ARTICLES = sorted(p for p in PAGES.glob("*.html")
                  if not p.stem.endswith(("_index", "_nav", "_short")))
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def local_fetching(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "3")


def _rss(items: list[tuple[str, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        f"<description>&lt;p&gt;{title}&lt;/p&gt;</description></item>"
        for title, link, when in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test</title>'
            f"<link>http://127.0.0.1/</link>{entries}</channel></rss>")


def _serve_articles(httpserver) -> list[str]:
    for i, page in enumerate(ARTICLES):
        httpserver.expect_request(f"/news/{i}").respond_with_data(
            page.read_bytes(), content_type="text/html; charset=utf-8")
    return [httpserver.url_for(f"/news/{i}") for i in range(len(ARTICLES))]


def _serve_feed(httpserver, path: str, body: str, hits: list[str] | None = None) -> None:
    etag = f'"{abs(hash(body))}"'

    def handler(request: Request) -> Response:
        if hits is not None:
            hits.append(request.headers.get("If-None-Match") or "")
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag})

    httpserver.expect_request(path).respond_with_handler(handler)


def _write_sources(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text("\n".join(tables))
    return path


def _poll(db, sources, **kwargs):
    from newswatch.flows.poll import poll

    return asyncio.run(poll(db=str(db), sources=str(sources), **kwargs))


def _rows(db, sql):
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_feed_is_polled_filtered_and_only_new_links_are_ingested(httpserver, db_path,
                                                                     tmp_path):
    urls = _serve_articles(httpserver)
    items = [
        ("CSTO troops land in Kazakhstan", urls[0], NOW - timedelta(hours=30)),
        ("Kazakhstan: Tokayev speaks", urls[1], NOW - timedelta(hours=5)),
        ("Football: cup final tonight", httpserver.url_for("/sport/1"), NOW - timedelta(hours=2)),
    ]
    hits: list[str] = []
    _serve_feed(httpserver, "/feed.xml", _rss(items), hits)
    sources = _write_sources(tmp_path, f'''
[[source]]
name = "Test feed"
url = "{httpserver.url_for('/feed.xml')}"
kind = "feed"
include = ["Kazakhstan", "CSTO"]
''')
    first = _poll(db_path, sources)
    assert (first.polled, first.links, first.new_links, first.ingest.ingested) == (1, 3, 2, 2)
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(2,)]
    assert _rows(db_path, "SELECT count(*) FILTER (WHERE accepted), count(*)"
                          " FROM source_links") == [(2, 3)]

    # the next poll asks with the ETag: unchanged, nothing new, nothing fetched again
    second = _poll(db_path, sources)
    assert (second.new_links, second.ingest) == (0, None)
    assert hits[-1].startswith('"')
    state = _rows(db_path, "SELECT last_outcome, consecutive_failures, items_seen, links_new"
                           " FROM sources")
    assert state == [("not_modified", 0, 3, 2)]

    # a day later the feed has one more item: only that one is new
    items.append(("CSTO begins withdrawal from Kazakhstan", urls[2], NOW))
    httpserver.clear()
    _serve_articles(httpserver)
    _serve_feed(httpserver, "/feed.xml", _rss(items))
    third = _poll(db_path, sources)
    assert (third.new_links, third.ingest.ingested) == (1, 1)
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(3,)]


def test_a_failing_source_is_backed_off_and_the_others_go_on(httpserver, db_path, tmp_path):
    urls = _serve_articles(httpserver)
    httpserver.expect_request("/broken.xml").respond_with_data(
        "this is not xml at all", content_type="application/rss+xml")
    httpserver.expect_request("/html-feed").respond_with_data(
        "<html><body><p>Hello</p></body></html>", content_type="text/html")
    _serve_feed(httpserver, "/good.xml", _rss([("Kazakhstan news", urls[0], NOW)]))
    sources = _write_sources(tmp_path, *(f'''
[[source]]
name = "{name}"
url = "{httpserver.url_for(path)}"
''' for name, path in (("Broken", "/broken.xml"), ("Page", "/html-feed"),
                       ("Good", "/good.xml"))))
    first = _poll(db_path, sources)
    assert (first.polled, first.failed, first.new_links) == (3, 2, 1)
    assert first.ingest.ingested == 1
    states = dict((name, (outcome, failures)) for name, outcome, failures in _rows(
        db_path, "SELECT name, last_outcome, consecutive_failures FROM sources"))
    assert states == {"Broken": ("not_xml", 1), "Page": ("html_served_as_feed", 1),
                      "Good": ("ok", 0)}
    assert any("Broken: not_xml" in line for line in first.reports)

    second = _poll(db_path, sources)
    assert (second.polled, second.skipped) == (1, 2)
    assert any("backed off after 1 failures" in line for line in second.reports)

    # a backfill reads every source regardless of backoff
    third = _poll(db_path, sources, backfill=True)
    assert third.polled == 3
    assert _rows(db_path, "SELECT consecutive_failures FROM sources WHERE name = 'Broken'") \
        == [(2,)]


def test_a_site_feed_is_discovered_and_a_sitemap_index_is_followed(httpserver, db_path,
                                                                   tmp_path):
    urls = _serve_articles(httpserver)
    httpserver.expect_request("/").respond_with_data(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss">'
        "</head><body>Home</body></html>", content_type="text/html")
    _serve_feed(httpserver, "/rss", _rss([("CSTO summit", urls[0], NOW)]))
    index = httpserver.url_for("/sitemap.xml")
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{index}</loc></sitemap>"
        f"<sitemap><loc>{httpserver.url_for('/sitemap-news.xml')}</loc></sitemap>"
        "</sitemapindex>", content_type="application/xml")
    httpserver.expect_request("/sitemap-news.xml").respond_with_data(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{u}</loc><lastmod>{NOW:%Y-%m-%d}</lastmod></url>"
                  for u in urls[1:4])
        + "</urlset>", content_type="application/xml")
    sources = _write_sources(tmp_path, f'''
[[source]]
name = "Site"
url = "{httpserver.url_for('/')}"
kind = "site"

[[source]]
name = "Sitemap"
url = "{index}"
kind = "sitemap"
''')
    summary = _poll(db_path, sources)
    assert (summary.failed, summary.new_links, summary.ingest.ingested) == (0, 4, 4)
    assert _rows(db_path, "SELECT feed_url FROM sources WHERE name = 'Site'") == [
        (httpserver.url_for("/rss"),)]
    assert any("Sitemap:" in line for line in summary.reports)  # the self-reference noted


def test_backfill_takes_history_within_since_and_limit(httpserver, db_path, tmp_path):
    urls = _serve_articles(httpserver)
    items = [(f"Kazakhstan day {i}", urls[i], NOW - timedelta(days=10 - i))
             for i in range(len(urls))]
    _serve_feed(httpserver, "/feed.xml", _rss(items))
    sources = _write_sources(tmp_path, f'''
[[source]]
name = "History"
url = "{httpserver.url_for('/feed.xml')}"
''')
    first = _poll(db_path, sources)  # a new source's first poll takes recent links only
    assert first.new_links == 0
    since = (NOW - timedelta(days=8)).date()
    backfill = _poll(db_path, sources, backfill=True, since=since, limit=2)
    assert backfill.new_links == 2
    newest = {u for _, u, _ in items[-2:]}
    assert {u for (u,) in _rows(db_path, "SELECT url FROM articles")} == newest


def _html(text: str, outlet: str, published: datetime) -> bytes:
    """A plain news page around a story text: headline, then paragraphs."""
    title, *paragraphs = [p for p in text.split("\n") if p.strip()]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html><head><title>{title}</title><meta property="og:site_name" content="{outlet}">'
            f'<meta property="article:published_time" content="{published.isoformat()}">'
            f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}"
            f"</article><footer>© {outlet}</footer></body></html>").encode()


def test_polling_over_days_links_copies_and_follow_ups(httpserver, db_path, tmp_path):
    stories = Path(__file__).parent / "stories"
    day1, day2 = NOW - timedelta(days=2), NOW
    seed = (Path(__file__).parent.parent / "seeds" / "000_e517b95cd38eee32.txt").read_text()
    pages = {
        "/a/troops-leave": (seed, "Foreign Policy", day1),
        "/b/massimov": ((stories / "wire_massimov_outlet_a.txt").read_text(), "Outlet A", day2),
        "/c/massimov-detained": ((stories / "wire_massimov_outlet_b.txt").read_text(),
                                 "Outlet B", day2),
        "/d/last-troops": ((stories / "followup_last_troops_leave.txt").read_text(),
                           "Outlet C", day2),
    }
    for path, (text, outlet, when) in pages.items():
        httpserver.expect_request(path).respond_with_data(_html(text, outlet, when),
                                                          content_type="text/html")
    sources = _write_sources(tmp_path, f'''
[[source]]
name = "Wire"
url = "{httpserver.url_for('/feed.xml')}"
''')
    first = [("Troops leave", httpserver.url_for("/a/troops-leave"), day1)]
    _serve_feed(httpserver, "/feed.xml", _rss(first))
    assert _poll(db_path, sources).ingest.ingested == 1

    httpserver.clear()
    for path, (text, outlet, when) in pages.items():
        httpserver.expect_request(path).respond_with_data(_html(text, outlet, when),
                                                          content_type="text/html")
    later = first + [(f"Item {p}", httpserver.url_for(p), day2) for p in list(pages)[1:]]
    _serve_feed(httpserver, "/feed.xml", _rss(later))
    assert _poll(db_path, sources).ingest.ingested == 3
    links = _rows(db_path,
                  "SELECT a.outlet, l.relation, r.outlet FROM story_links l"
                  " JOIN articles a USING (article_id)"
                  " JOIN articles r ON r.article_id = l.related_article_id ORDER BY a.outlet")
    relations = {outlet: (relation, related) for outlet, relation, related in links}
    assert relations["Outlet C"] == ("development", "Foreign Policy")
    # the two wire copies: one copies the other, whichever came first
    assert {relations["Outlet A"][0], relations["Outlet B"][0]} >= {"copy"}
    # the wire story (Massimov's arrest) is of the same crisis: one story, or two
    assert _rows(db_path, "SELECT count(DISTINCT story_id) FROM articles") in ([(1,)], [(2,)])


@pytest.mark.slow
def test_a_poll_killed_mid_ingest_is_resumed_by_the_next(httpserver, db_path, tmp_path):
    """kill -9 while the ingest waits on a page: the links not yet loaded stay pending,
    and the next poll fetches them, each once."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    from prefect.settings import PREFECT_API_URL

    n = 12
    blocked, gate = threading.Event(), threading.Event()

    def page(i: int):
        def handler(request: Request) -> Response:
            if i >= 6 and not gate.is_set():
                blocked.set()
                gate.wait(60)
            return Response(ARTICLES[i % len(ARTICLES)].read_bytes(),
                            content_type="text/html; charset=utf-8")
        return handler

    for i in range(n):
        httpserver.expect_request(f"/news/{i}").respond_with_handler(page(i))
    items = [(f"Kazakhstan report {i}", httpserver.url_for(f"/news/{i}"),
              NOW - timedelta(minutes=i)) for i in range(n)]
    _serve_feed(httpserver, "/feed.xml", _rss(items))
    sources = _write_sources(tmp_path, f'''
[[source]]
name = "Test feed"
url = "{httpserver.url_for('/feed.xml')}"
kind = "feed"
''')
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "NEWSWATCH_URL_BATCH_SIZE": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--db", str(db_path), "poll", "--sources",
         str(sources)], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert blocked.wait(120), "the poll never reached the blocking page"
        time.sleep(2)  # let the batches before it load
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    gate.set()
    listed = _rows(db_path, "SELECT count(*) FROM source_links WHERE accepted")[0][0]
    done = _rows(db_path, "SELECT count(DISTINCT url) FROM fetches")[0][0]
    assert listed == n and done < n  # the kill left links undone

    again = _poll(db_path, sources)
    assert again.new_links == 0 and again.resumed_links == n - done
    assert again.ingest.fetched == n - done
    assert _rows(db_path, "SELECT count(DISTINCT url), count(*) FROM fetches"
                          " WHERE outcome = 'ok'") == [(n, n)]
    third = _poll(db_path, sources)
    assert (third.resumed_links, third.ingest) == (0, None)
