"""Feeds, sitemaps and home pages read into links: real-shaped documents in tests/sources/."""

from __future__ import annotations

import gzip
import pathlib
import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from newswatch.errors import PermanentError, SourceParseError
from newswatch.extractors.feeds import Link, parse_source

SOURCES = pathlib.Path(__file__).parent / "sources"
COURIER = "https://www.steppecourier.kz"
URLSET = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>')


def read(name: str) -> bytes:
    return (SOURCES / name).read_bytes()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def reason_of(content: str | bytes, expected: str | None = None) -> str:
    with pytest.raises(SourceParseError) as caught:
        parse_source(content, "https://example.kz/source", expected)
    assert str(caught.value).startswith("https://example.kz/source: ")
    return caught.value.reason


# --- RSS and Atom -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rss() -> object:
    return parse_source(read("rss2.xml"), f"{COURIER}/world/rss.xml", "feed")


def test_rss2_links_in_document_order_canonical_and_deduplicated(rss):
    assert rss.kind == "rss"
    assert [link.url for link in rss.links] == [
        f"{COURIER}/world/2022/01/06/csto-troops",  # tracking removed; its repeat dropped
        f"{COURIER}/world/2022/01/07/tokayev-address",
        f"{COURIER}/world/2022/01/08/massimov",
        f"{COURIER}/world/2022/01/10/internet-restored",  # was relative
        f"{COURIER}/world/2022/01/13/withdrawal",  # from a permalink <guid>
    ]
    assert rss.children == [] and rss.feeds == []


def test_rss2_dates_are_utc(rss):
    dates = [link.published_at for link in rss.links]
    assert dates == [utc(2022, 1, 5, 22, 30), utc(2022, 1, 7, 9, 15), None,
                     utc(2022, 1, 10, 12), utc(2022, 1, 13, 4)]
    assert all(d.tzinfo is UTC for d in dates if d)


def test_rss2_broken_date_keeps_the_entry_and_notes_it(rss):
    massimov = rss.links[2]
    assert massimov.title == "Massimov detained" and massimov.published_at is None
    assert any("unparseable date 'Thu, 35 Foo 2022'" in p and massimov.url in p
               for p in rss.problems)


def test_rss2_summaries_and_titles_are_plain_text(rss):
    first, second, _, fourth, fifth = rss.links
    assert first.summary == ("The Collective Security Treaty Organization said on Thursday it "
                             "would send peacekeepers. Read more…")
    assert second.summary == "President Kassym-Jomart Tokayev addressed the nation."
    assert second.title == "Tokayev: order & constitution restored"
    assert fourth.summary == "Connectivity returned after five days."  # content:encoded
    assert fifth.summary is None


def test_rss2_problems_name_relative_links_and_skipped_entries(rss):
    assert rss.problems == [
        f"{COURIER}/world/2022/01/08/massimov: unparseable date 'Thu, 35 Foo 2022', "
        "kept without a date",
        "relative link '/world/2022/01/10/internet-restored' resolved to "
        f"{COURIER}/world/2022/01/10/internet-restored",
        "entry 'A note without a link' has no link: skipped",
        "not an http(s) link, skipped: 'mailto:desk@steppecourier.kz'",
    ]


def test_atom_with_xml_base_and_relative_links():
    parsed = parse_source(read("atom.xml"), "https://almaty-daily.kz/en/atom.xml")
    assert parsed.kind == "atom"
    assert parsed.links == [
        Link("https://almaty-daily.kz/en/news/pashinyan-csto.html",
             "Pashinyan: CSTO mission is temporary", utc(2022, 1, 7, 8),  # published, not updated
             "Armenia's prime minister spoke."),
        Link("https://almaty-daily.kz/ru/2022/01/10/putin",  # the entry's own xml:base
             "Путин о ситуации в Казахстане", utc(2022, 1, 10, 18, 30),
             "Vladimir Putin spoke at the CSTO summit."),
        Link("https://almaty-daily.kz/en/news/nazarbayev-video.html",
             "Nazarbayev: no conflict with Tokayev", utc(2022, 1, 18, 10),  # no zone: UTC
             "Plain text <not a tag> here."),  # type="text" is not HTML
    ]
    assert parsed.problems == [
        "relative link 'news/pashinyan-csto.html' resolved to "
        "https://almaty-daily.kz/en/news/pashinyan-csto.html",
        "relative link '2022/01/10/putin' resolved to https://almaty-daily.kz/ru/2022/01/10/putin",
    ]


def test_relative_links_resolve_against_the_feed_url_without_xml_base():
    feed = ('<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
            '<link href="../2022/a.html"/></entry></feed>')
    parsed = parse_source(feed, "https://a.kz/news/feeds/atom.xml", "feed")
    assert [link.url for link in parsed.links] == ["https://a.kz/news/2022/a.html"]


def test_rss1_rdf_with_dc_date():
    parsed = parse_source(read("rdf.xml"), "https://kazinform.example/rss", "feed")
    assert parsed.kind == "rss"
    assert [(link.url, link.title, link.published_at) for link in parsed.links] == [
        ("https://kazinform.example/news/1", "State of emergency lifted in Almaty",
         utc(2022, 1, 19)),
        ("https://kazinform.example/news/2", "Last CSTO units leave", utc(2022, 1, 19)),
    ]
    assert parsed.links[0].summary == "The state of emergency ends on 19 January."
    assert parsed.problems == []


def test_str_content_with_another_declared_encoding():
    feed = ('<?xml version="1.0" encoding="windows-1251"?><rss><channel><item>'
            '<title>Токаев</title><link>https://a.kz/1</link></item></channel></rss>')
    assert parse_source(feed, "https://a.kz/rss").links[0].title == "Токаев"


def test_bytes_in_another_encoding_than_declared_are_still_read():
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss><channel><item><title>Назарбаев '
            'покинул пост председателя Совета безопасности Казахстана</title>'
            '<link>https://a.kz/1</link></item></channel></rss>').encode("cp1251")
    parsed = parse_source(feed, "https://a.kz/rss", "feed")
    assert parsed.links[0].title.startswith("Назарбаев покинул")
    assert parsed.problems == ["not in its declared encoding: read as cp1251"]


def test_bare_ampersands_are_read_as_text():
    feed = (b"<rss><channel><item><title>A & B &amp; C</title>"
            b"<link>https://a.kz/1?x=1&y=2</link></item></channel></rss>")
    parsed = parse_source(feed, "https://a.kz/rss", "feed")
    assert [(link.url, link.title) for link in parsed.links] == [
        ("https://a.kz/1?x=1&y=2", "A & B & C")]
    assert parsed.problems == ["malformed XML: bare '&' read as '&amp;'"]


def test_malformed_feed_is_recovered_with_a_note():
    feed = (b"<rss><channel><item><title>A</title><link>https://a.kz/1</link></item>"
            b"<item><title>B</title><link>https://a.kz/2</link></item></channel>")  # cut off
    parsed = parse_source(feed, "https://a.kz/rss", "feed")
    assert parsed.kind == "rss"
    assert [link.url for link in parsed.links] == ["https://a.kz/1", "https://a.kz/2"]
    assert parsed.problems[0].startswith("malformed XML, read what could be recovered: ")


def test_an_empty_feed_is_not_an_error():
    parsed = parse_source("<rss><channel><title>x</title></channel></rss>", "https://a.kz/rss")
    assert (parsed.kind, parsed.links, parsed.problems) == ("rss", [], ["empty feed: no entries"])


# --- sitemaps ---------------------------------------------------------------------------------

def test_urlset_with_lastmod():
    parsed = parse_source(read("urlset.xml"), f"{COURIER}/sitemap.xml", "sitemap")
    assert parsed.kind == "sitemap"
    assert [(link.url, link.published_at, link.title) for link in parsed.links] == [
        (f"{COURIER}/world/2022/01/06/csto-troops", utc(2022, 1, 6, 4), None),
        (f"{COURIER}/world/2022/01/07/tokayev-address", utc(2022, 1, 7), None),
        (f"{COURIER}/world/2022/01/08/massimov", None, None),
    ]  # no image URLs; the #comments variant is the same page
    assert parsed.problems == []


def test_google_news_sitemap():
    parsed = parse_source(read("news_sitemap.xml"), "https://almaty-daily.kz/news-sitemap.xml")
    assert parsed.kind == "sitemap"
    assert [(link.url, link.title, link.published_at) for link in parsed.links] == [
        ("https://almaty-daily.kz/en/news/csto-arrives.html", "First CSTO planes land in Almaty",
         utc(2022, 1, 6, 17, 50)),  # the publication date, not <lastmod>
        ("https://almaty-daily.kz/en/news/airport.html",
         "Almaty airport back under government control", utc(2022, 1, 7)),
    ]


def test_sitemap_index_drops_its_self_reference():
    parsed = parse_source(read("index.xml"), f"{COURIER}/sitemap-index.xml", "sitemap")
    assert parsed.kind == "sitemap_index"
    assert parsed.children == [f"{COURIER}/sitemaps/2022-01.xml",
                               f"{COURIER}/sitemaps/news.xml.gz"]
    assert parsed.links == []
    assert parsed.problems == [f"the index lists itself ({COURIER}/sitemap-index.xml): dropped"]


def test_sitemap_index_listing_only_itself_is_an_error():
    with pytest.raises(SourceParseError) as caught:
        parse_source(read("index_self_only.xml"), f"{COURIER}/sitemap-index.xml", "sitemap")
    assert caught.value.reason == "self_referencing_index"
    assert isinstance(caught.value, PermanentError)
    assert str(caught.value) == f"{COURIER}/sitemap-index.xml: the sitemap index lists only itself"


def test_empty_urlset_is_not_an_error():
    parsed = parse_source(read("empty_urlset.xml"), f"{COURIER}/sitemap.xml", "sitemap")
    assert (parsed.kind, parsed.links, parsed.problems) == ("sitemap", [], ["empty sitemap"])
    parsed = parse_source(read("empty_urlset.xml"), f"{COURIER}/rss", "feed")
    assert parsed.problems == ["expected a feed, found sitemap", "empty sitemap"]


def test_gzipped_sitemap():
    parsed = parse_source(gzip.compress(read("urlset.xml")), f"{COURIER}/sitemap.xml.gz")
    assert parsed.kind == "sitemap" and len(parsed.links) == 3


def test_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b" " * 60_000_000, compresslevel=9)  # ~60 kB that inflate to 60 MB
    assert len(bomb) < 100_000
    assert reason_of(bomb, "sitemap") == "too_large"


def test_broken_gzip_is_not_xml():
    assert reason_of(gzip.compress(read("urlset.xml"))[:-40], "sitemap") == "not_xml"


def test_text_sitemap():
    text = f"{COURIER}/world/a\n\n{COURIER}/world/b?utm_source=x\n"
    parsed = parse_source(text, f"{COURIER}/sitemap.txt", "sitemap")
    assert parsed.kind == "sitemap"
    assert [link.url for link in parsed.links] == [f"{COURIER}/world/a", f"{COURIER}/world/b"]


def test_ten_thousand_entry_sitemap():
    entries = "".join(
        f"<url><loc>{COURIER}/news/2022/01/{i % 28 + 1:02d}/story-{i}</loc>"
        f"<lastmod>2022-01-{i % 28 + 1:02d}T10:00:00+06:00</lastmod></url>"
        for i in range(10_000))
    content = URLSET.format(entries).encode()
    parsed = parse_source(content, f"{COURIER}/sitemap.xml", "sitemap")
    assert len(parsed.links) == 10_000 and parsed.problems == []
    assert parsed.links[9_999].url == f"{COURIER}/news/2022/01/04/story-9999"
    assert parsed.links[9_999].published_at == utc(2022, 1, 4, 4)


def test_problems_are_capped():
    entries = "".join(f"<url><loc>/news/{i}</loc></url>" for i in range(100))
    parsed = parse_source(URLSET.format(entries), f"{COURIER}/sitemap.xml", "sitemap")
    assert len(parsed.links) == 100
    assert len(parsed.problems) == 21 and parsed.problems[-1] == "... and 80 more problems"


# --- home pages -------------------------------------------------------------------------------

def test_home_page_with_link_rel_alternate():
    parsed = parse_source(read("home_alternate.html"), f"{COURIER}/")
    assert parsed.kind == "html"
    # resolved against <base href>; the comments feed and the hreflang link are left out,
    # and the <a href="/feed"> is not needed when <link rel=alternate> exists
    assert parsed.feeds == [f"{COURIER}/en/world/rss.xml", f"{COURIER}/atom.xml"]
    assert parsed.links == [] and parsed.problems == []


def test_home_page_without_link_rel_alternate_uses_feed_links():
    parsed = parse_source(read("home_links.html"), "https://almaty-daily.kz/", "html")
    assert parsed.feeds == ["https://almaty-daily.kz/en/feed/"]  # not the sitemap
    assert parsed.problems == ["no <link rel=alternate> feed: feeds guessed from links"]


def test_home_page_without_feeds():
    parsed = parse_source("<html><body><p>Almaty</p></body></html>", "https://a.kz/", "html")
    assert (parsed.kind, parsed.feeds, parsed.problems) == ("html", [], ["no feed links found"])


def test_feed_where_a_page_was_expected_is_read_as_a_feed():
    parsed = parse_source(read("rdf.xml"), "https://kazinform.example/", "html")
    assert parsed.kind == "rss" and len(parsed.links) == 2
    assert parsed.problems == ["expected an HTML page, found rss"]


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", "", b"  \n\t ", b"\xef\xbb\xbf\n"])
def test_empty(content):
    assert reason_of(content, "feed") == "empty"


@pytest.mark.parametrize("expected", ["feed", "sitemap", None])
def test_garbage_bytes_are_not_xml(expected):
    garbage = bytes(range(256)) * 4
    assert reason_of(garbage, expected) == "not_xml"


def test_plain_text_is_not_xml_and_says_why():
    with pytest.raises(SourceParseError) as caught:
        parse_source("Kazakhstan: CSTO troops arrive.\n", "https://a.kz/rss", "feed")
    assert caught.value.reason == "not_xml"
    assert "not XML: Start tag expected" in str(caught.value)


@pytest.mark.parametrize("expected", ["feed", "sitemap"])
def test_html_served_as_feed(expected):
    assert reason_of(read("home_alternate.html"), expected) == "html_served_as_feed"
    xhtml = '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head></html>'
    assert reason_of(xhtml, expected) == "html_served_as_feed"


@pytest.mark.parametrize("content", [
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"/>',
])
def test_xml_that_is_neither_feed_nor_sitemap(content):
    assert reason_of(content, "feed") == "not_a_feed"
    assert reason_of(content) == "not_a_feed"


def test_billion_laughs_is_not_expanded():
    tracemalloc.start()
    start = time.perf_counter()
    try:
        parsed = parse_source(read("bomb.xml"), "https://bomb.example/rss", "feed")
    except SourceParseError as exc:
        assert exc.reason == "not_xml"
    else:
        assert all(len(link.title or "") < 100 for link in parsed.links)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 10_000_000


def test_external_entities_are_not_read():
    feed = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<rss><channel><item><title>&xxe;</title><link>https://a.kz/1</link>'
            '</item></channel></rss>')
    parsed = parse_source(feed, "https://a.kz/rss", "feed")
    assert "root:" not in (parsed.links[0].title or "")


def test_unknown_expected_value_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_source("<rss/>", "https://a.kz/rss", "atom")
