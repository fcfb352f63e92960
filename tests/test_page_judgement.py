"""Which pages are articles, and what their metadata says: page by page, then through
`ingest urls` against a real HTTP server with a real warehouse."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from news_pages import BODY, BRIEF, article_body, cases, json_ld, page

from newswatch.extractors.article import extract_article
from newswatch.extractors.page_meta import clean_authors, clean_title, disagree
from newswatch.warehouse.connection import connect

SITE = "https://www.steppecourier.com"
ALMT = timezone(timedelta(hours=6))


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.path)
def test_each_page_is_judged_by_what_it_is(case):
    extraction = extract_article(case.html, url=SITE + case.path)
    if case.reason is None:
        assert extraction.article is not None, (extraction.reason, extraction.detail)
        assert "Link Link" not in extraction.article.text
    else:
        assert extraction.article is None
        assert extraction.reason == case.reason, extraction.detail
        assert extraction.detail and "\n" not in extraction.detail


def test_an_article_with_a_most_read_block_keeps_only_its_own_text():
    case = cases()[0]
    text = extract_article(case.html, url=SITE + case.path).article.text
    assert all(p in text for p in BODY)
    assert "Almaty airport reopens" not in text and "Most read" not in text


def test_a_short_brief_is_kept_whole():
    for case in cases()[1:3]:
        article = extract_article(case.html, url=SITE + case.path).article
        assert 400 < sum(map(len, BRIEF)) < 500
        assert all(p in article.text for p in BRIEF)


@pytest.mark.parametrize("headline", ["Forbidden City reopens to visitors",
                                      "Missing climber not found after three days"])
def test_a_headline_that_holds_an_error_s_words_is_still_an_article(headline):
    html = page(headline, article_body(BRIEF), h1=headline)
    url = SITE + "/world/2022/02/07/" + headline.lower().replace(" ", "-")
    assert extract_article(html, url=url).article is not None


def test_an_article_numbered_404_is_an_article_and_an_error_address_is_not():
    html = page("CSTO troops leave", article_body(BODY), h1="CSTO troops leave")
    assert extract_article(html, url=SITE + "/news/404").article is not None
    for path in ("/404", "/error/404", "/page-not-found"):
        assert extract_article(html, url=SITE + path).reason == "not_article_error_page"


def test_a_breaking_alert_that_promises_more_is_not_kept():
    html = page("Breaking", article_body([BRIEF[0], "More to follow."]), h1="Breaking")
    extraction = extract_article(html, url=SITE + "/world/2022/01/05/breaking-kazakhstan")
    assert extraction.reason == "not_article_too_short"
    assert "more will follow" in extraction.detail


def test_a_page_that_declares_a_product_or_a_video_is_not_an_article():
    html = page("Steppe Courier mug", article_body(BODY),
                head='<meta property="og:type" content="product">')
    assert extract_article(html, url=SITE + "/store-items/mug-1234").reason == "not_article_type"
    html = page("Video", article_body(BODY), head='<meta property="og:type" content="video.other">')
    assert extract_article(html, url=SITE + "/video/12345678").reason == "not_article_type"


# --- metadata ---------------------------------------------------------------------------------


def test_titles_lose_the_site_s_name_and_section_but_keep_their_own_words():
    names = ["The Steppe Courier", "steppecourier.com", "steppecourier"]
    assert clean_title("Opinion | Why the CSTO left so fast", None, names) == (
        "Why the CSTO left so fast")
    assert clean_title("Kazakhstan lifts the curfew - The Steppe Courier", None, names) == (
        "Kazakhstan lifts the curfew")
    assert clean_title("STEPPECOURIER.COM | Kazakhstan lifts the curfew", None, names) == (
        "Kazakhstan lifts the curfew")
    # a label that belongs to the headline stays
    assert clean_title("Analysis: the CSTO's first mission", None, names) == (
        "Analysis: the CSTO's first mission")
    assert clean_title("»Haltet unsere Gewässer sauber!«", None, names) == (
        "»Haltet unsere Gewässer sauber!«")


def test_the_headline_is_the_h1_that_the_title_wraps():
    html = page("Opinion | Why the CSTO left so fast | World | The Steppe Courier",
                article_body(BODY), h1="Why the CSTO left so fast")
    article = extract_article(html, url=SITE + "/opinion/2022/01/14/why-the-csto-left").article
    assert article.title == "Why the CSTO left so fast"
    assert article.text.startswith("Why the CSTO left so fast\n\n")


def test_the_outlet_is_the_site_s_own_name_never_a_template_word():
    head = ('<meta property="og:site_name" content="Hosted">'
            + json_ld(**{"@type": "NewsArticle", "publisher": {
                "@type": "Organization", "name": "Associated Press"}}))
    html = page("Kazakhstan lifts curfew", article_body(BODY), head=head, h1="Kazakhstan lifts")
    url = "https://hosted.ap.org/world/2022/01/20/kazakhstan-lifts-curfew"
    assert extract_article(html, url=url).article.outlet == "Associated Press"
    bare = page("Kazakhstan lifts curfew", article_body(BODY), h1="Kazakhstan lifts curfew")
    assert extract_article(bare, url="https://www.almatyobserver.com/2022/01/20/lifts-curfew-now"
                           ).article.outlet == "almatyobserver.com"


def test_authors_are_people_not_credit_lines():
    assert clean_authors("The Russian; Syrian defense ministries") is None
    assert clean_authors("By Olga Petrova and John Smith") == "Olga Petrova; John Smith"
    assert clean_authors("Rob Picheta; CNN") == "Rob Picheta"
    assert clean_authors("Staff Reporter") is None
    assert clean_authors("Ludwig van Beethoven; AP") == "Ludwig van Beethoven"
    assert clean_authors("Steppe Courier Desk", outlet="Steppe Courier") is None
    head = '<meta name="author" content="The Russian; Syrian defense ministries">'
    html = page("Kazakhstan lifts curfew", article_body(BODY), head=head, h1="Kazakhstan")
    assert extract_article(html, url=SITE + "/world/2022/01/20/lifts-curfew-now"
                           ).article.author is None


def test_dates_keep_their_sources_and_disagreement_is_flagged():
    head = (json_ld(**{"@type": "NewsArticle", "datePublished": "2022-01-13T09:40:00+06:00"})
            + '<meta property="article:published_time" content="2022-01-13T09:40:00+06:00">')
    html = page("CSTO troops leave", article_body(BODY), head=head, h1="CSTO troops leave")
    agreed = extract_article(html, url=SITE + "/world/2022/01/13/csto-troops-leave").article
    assert agreed.published_at == datetime(2022, 1, 13, 9, 40, tzinfo=ALMT)
    assert agreed.published_source == "json_ld"
    assert {s for s, _ in agreed.dates} == {"json_ld", "meta", "url"}
    assert not disagree([t for _, t in agreed.dates])
    # a page republished under an old address: its URL says 2021
    moved = extract_article(html, url=SITE + "/world/2021/12/30/csto-troops-leave").article
    assert ("url", datetime(2021, 12, 30, tzinfo=UTC)) in moved.dates
    assert disagree([t for _, t in moved.dates])


# --- through ingest urls --------------------------------------------------------------------


@pytest.fixture
def local_fetching(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")


@pytest.mark.usefixtures("prefect_harness", "local_fetching")
def test_ingest_stores_every_article_and_no_junk_with_its_dates(httpserver, db_path):
    from newswatch.flows.ingest_urls import ingest_urls
    from newswatch.warehouse.migrations import migrate

    served = cases()
    for case in served:
        path, _, query = case.path.partition("?")
        httpserver.expect_request(path, query_string=query or None).respond_with_data(
            case.html, content_type="text/html; charset=utf-8")
    undated = page("Almaty airport reopens", article_body(BODY), h1="Almaty airport reopens")
    httpserver.expect_request("/travel/almaty-airport-reopens-after-a-week").respond_with_data(
        undated, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    urls = [httpserver.url_for(c.path) for c in served]
    undated_url = httpserver.url_for("/travel/almaty-airport-reopens-after-a-week")
    # a poll recorded the undated page's link with its feed's date
    feed_date = datetime(2022, 1, 19, 8, 0, tzinfo=UTC)
    with connect(db_path) as con:
        migrate(con)
        con.execute("INSERT INTO source_links VALUES ('feed', ?, 'Almaty airport reopens', ?,"
                    " now(), true)", [undated_url, feed_date])

    summary = asyncio.run(ingest_urls(urls=[*urls, undated_url], db=str(db_path)))

    expected = {httpserver.url_for(c.path) for c in served if c.reason is None} | {undated_url}
    with connect(db_path, read_only=True) as con:
        stored = dict(con.execute("SELECT url, text FROM articles").fetchall())
        rejects = dict(con.execute("SELECT item, reason FROM rejects").fetchall())
        dates = dict(con.execute(
            "SELECT url, (published_at, published_source, dates_disagree) FROM articles"
        ).fetchall())
        seen = con.execute("SELECT d.source FROM article_dates d JOIN articles a"
                           " USING (article_id) WHERE a.url = ? ORDER BY 1",
                           [httpserver.url_for(served[1].path)]).fetchall()
    assert set(stored) == expected
    assert summary.not_articles == len(served) - len(expected) + 1
    assert sorted(rejects.values()) == sorted(c.reason for c in served if c.reason)
    assert not any("Link Link" in text for text in stored.values())
    brief = dates[httpserver.url_for(served[1].path)]
    assert brief == (datetime(2022, 2, 7, 4, 5, tzinfo=UTC), "json_ld", False)
    assert seen == [("json_ld",), ("url",)]
    # htmldate read a day off a most-read link; the feed's date is kept, and the two disagree
    assert dates[undated_url] == (feed_date, "feed", True)


@pytest.mark.usefixtures("prefect_harness", "local_fetching")
def test_reprocess_gives_articles_loaded_before_016_their_date_sources(httpserver, db_path):
    from newswatch.flows.ingest_urls import ingest_urls
    from newswatch.flows.reprocess import reprocess

    case = cases()[1]
    httpserver.expect_request(case.path).respond_with_data(
        case.html, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    asyncio.run(ingest_urls(urls=[httpserver.url_for(case.path)], db=str(db_path)))
    with connect(db_path) as con:  # as migration 016 leaves an older article
        con.execute("UPDATE articles SET published_source = 'unknown', dates_disagree = NULL")
        con.execute("DELETE FROM article_dates")

    asyncio.run(reprocess(db=str(db_path)))
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT published_source, dates_disagree FROM articles"
                           ).fetchall() == [("json_ld", False)]
        assert con.execute("SELECT count(*) FROM article_dates").fetchall() == [(2,)]
