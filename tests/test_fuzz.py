"""Fuzzing what reads outside input, with hypothesis: URLs, feeds and sitemaps,
robots.txt, charsets, the SQL guard. Each must answer or fail with its own error,
never crash, and never let a query past the warehouse.

The suite runs a few hundred examples of each (profile "suite"); `make fuzz` runs
the "fuzz" profile, thousands each, and prints how many were tried.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newswatch.errors import QueryError, SourceParseError
from newswatch.extractors.charset import decode_html
from newswatch.extractors.feeds import parse_source
from newswatch.extractors.robots import RobotsCache
from newswatch.extractors.urls import canonical_url
from newswatch.warehouse.connection import connect
from newswatch.warehouse.query import analyst_connection, run_query

settings.register_profile("suite", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("NEWSWATCH_FUZZ_PROFILE", "suite"))

TRIED: dict[str, int] = {}


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if os.environ.get("NEWSWATCH_FUZZ_PROFILE") == "fuzz":
        print("\nfuzz inputs tried: " + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())))


# --- URLs --------------------------------------------------------------------------------

_URL_PARTS = st.sampled_from([
    "http://", "https://", "HTTP://", "ftp://", "//", "user:pw@", "@", ":", ":80", ":99999",
    "[::1]", "[", "]", "example.com", "EXAMPLE.com", "xn--80ak6aa92e.com", "пример.рф", "/",
    "//", "/../", "?", "&", "=", "#", "%", "%2F", "%zz", "utm_source=x", "fbclid=1", " ",
    "\t", "\n", "\x00", "&amp;", "a", "0", "127.0.0.1", "...",
])


@given(st.lists(_URL_PARTS, max_size=12).map("".join) | st.text(max_size=80))
def test_canonical_url_answers_or_refuses_never_raises(text):
    _count("urls")
    url = canonical_url(text)
    if url is None:
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname
    assert "@" not in parts.netloc  # never credentials
    assert canonical_url(url) == url  # canonical is a fixed point


# --- feeds and sitemaps ------------------------------------------------------------------

_XML_PARTS = st.sampled_from([
    '<?xml version="1.0"?>', '<?xml version="1.0" encoding="koi8-r"?>', "<rss>", "</rss>",
    "<channel>", "</channel>", "<item>", "</item>", "<link>", "</link>", "http://a.kz/x",
    "<urlset>", "</urlset>", "<url><loc>", "</loc></url>", "<sitemapindex>", "<sitemap>",
    "<feed xmlns='http://www.w3.org/2005/Atom'>", "<entry>", "<link href='/y'/>", "</feed>",
    "<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'>]>", "&a;", "&amp;", "<html>", "<head>",
    "<link rel='alternate' type='application/rss+xml' href='/f'>", "<![CDATA[", "]]>",
    "<title>", "</title>", "Қазақстан", "\x00", "<", ">", "<pubDate>", "</pubDate>",
    "Mon, 10 Jan 2022 10:00:00 +0000", "not a date",
])


@given(st.lists(_XML_PARTS, max_size=25).map("".join), st.booleans(),
       st.sampled_from([None, "feed", "sitemap", "html"]))
def test_feeds_and_sitemaps_parse_or_fail_with_a_reason(text, as_bytes, expected):
    _count("feeds and sitemaps")
    content = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        parsed = parse_source(content, "http://127.0.0.1/feed", expected)
    except SourceParseError as exc:
        assert exc.reason and str(exc)
        return
    for link in parsed.links:
        assert canonical_url(link.url) == link.url


@given(st.binary(max_size=400), st.sampled_from([None, "feed", "sitemap"]))
def test_feeds_from_random_bytes(data, expected):
    _count("feeds (bytes)")
    try:
        parse_source(data, "http://127.0.0.1/feed", expected)
    except SourceParseError:
        pass


# --- robots.txt --------------------------------------------------------------------------

_ROBOTS_LINES = st.sampled_from([
    "User-agent: *", "User-agent: newswatch", "Disallow: /", "Disallow: /private", "Allow: /",
    "Allow: /a$", "Disallow: /*.php$", "Crawl-delay: 5", "Crawl-delay: -1",
    "Crawl-delay: 1e309", "Sitemap: http://a/s.xml", "# comment", "", "Disallow:", "::::",
    "User-agent", "\ufeffUser-agent: *", "Disallow: /%E4%B8%AD",
])


@given(st.lists(_ROBOTS_LINES, max_size=12).map("\n".join) | st.text(max_size=200),
       st.sampled_from(["/", "/private/x", "/a", "/x.php", "/%E4%B8%AD", "/?q=1"]))
def test_robots_txt_always_gives_an_answer(body, path):
    _count("robots.txt")

    async def download(url: str):
        return 200, body.encode("utf-8", "surrogatepass")

    async def ask():
        cache = RobotsCache("newswatch/0.1", download)
        import httpx
        robots = await cache.get(httpx.URL("http://127.0.0.1/"))
        return robots.allowed(f"http://127.0.0.1{path}"), robots.crawl_delay

    allowed, delay = asyncio.run(ask())
    assert isinstance(allowed, bool)
    assert delay is None or 0 <= delay <= 60


# --- charsets ----------------------------------------------------------------------------

@given(st.binary(max_size=600) | st.text(max_size=200).map(
           lambda t: t.encode("utf-8", "surrogatepass")),
       st.sampled_from([None, "text/html", "text/html; charset=utf-8",
                        "text/html; charset=iso-8859-1", "text/html; charset=utf-16",
                        "text/html; charset=x-nonsense", "text/html; charset=\"cp1251",
                        "text/html; charset=utf-32"]))
def test_every_body_decodes_to_text_with_a_known_charset(body, content_type):
    _count("charsets")
    text, encoding = decode_html(body, content_type)
    assert isinstance(text, str)
    import codecs
    codecs.lookup(encoding)


# --- the SQL guard -----------------------------------------------------------------------

_SQL_PARTS = st.sampled_from([
    "SELECT ", "FROM ", "articles", "read_text", "read_blob", "read_csv", "glob", "(", ")",
    "'{path}'", "'/proc/self/environ'", "COPY ", " TO ", "EXPLAIN ", "ANALYZE ", "CALL ",
    "PRAGMA ", "SET ", "enable_external_access", "=", "true", "ATTACH ", "DETACH ", "INSTALL ",
    "LOAD ", "httpfs", "EXPORT DATABASE ", "CHECKPOINT", "; ", "DELETE ", "DROP TABLE ",
    "CREATE TABLE t AS ", "INSERT INTO ", "*", ",", "1", "query", "enable_logging",
    "storage='file'", "WITH x AS (SELECT 1) ", "x", "--", "/*", "*/", "VACUUM",
])


@pytest.fixture(scope="module")
def locked_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-sql")
    path = folder / "newswatch.duckdb"
    with connect(path):
        pass
    return folder, path


@given(st.lists(_SQL_PARTS, min_size=1, max_size=14).map("".join))
def test_no_sql_reaches_past_the_warehouse(locked_warehouse, sql):
    _count("sql")
    folder, path = locked_warehouse
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    target = folder / "written"
    sql = sql.replace("{path}", str(target))
    with analyst_connection(path, lock_timeout=5) as con:
        try:
            rows = list(run_query(con, sql, max_rows=50, timeout=5).rows)
        except QueryError:
            rows = []
    assert "NEWSWATCH" not in repr(rows)  # no environment read
    assert not target.exists() and sorted(p.name for p in folder.iterdir()) == [path.name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
