"""Canonical URLs: tracking removed, spelling normalised, only http(s)."""

from __future__ import annotations

import pytest

from newswatch.extractors.urls import canonical_url, same_article

ARTICLE = "https://www.example.kz/news/2022/01/06/csto-troops"


@pytest.mark.parametrize("tracking", [
    "utm_source=twitter", "utm_medium=social&utm_campaign=jan06", "UTM_Content=x",
    "fbclid=IwAR0abc", "gclid=Cj0KCQ", "yclid=123", "mc_cid=abc&mc_eid=def", "_ga=2.1.2",
    "ref=homepage", "ref_src=twsrc%5Etfw",
])
def test_tracking_parameters_are_removed(tracking):
    assert canonical_url(f"{ARTICLE}?{tracking}") == ARTICLE


def test_other_parameters_are_kept_and_sorted():
    url = f"{ARTICLE}?utm_source=x&page=2&id=17&q=csto+troops&fbclid=y"
    assert canonical_url(url) == f"{ARTICLE}?id=17&page=2&q=csto+troops"


def test_repeated_parameters_keep_their_order():
    assert canonical_url("https://a.kz/s?tag=b&tag=a") == "https://a.kz/s?tag=b&tag=a"


@pytest.mark.parametrize("url", ["https://t.co/AbC123", "http://localhost:8080/a"])
def test_short_hosts_are_urls(url):
    assert canonical_url(url) == url


def test_scheme_and_host_are_lowercased_path_is_not():
    assert canonical_url("HTTPS://WWW.Example.KZ/News/Story") == "https://www.example.kz/News/Story"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.kz:443/a", "https://example.kz/a"),
    ("http://example.kz:80/a", "http://example.kz/a"),
    ("https://example.kz:8443/a", "https://example.kz:8443/a"),
    ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/a"),
])
def test_default_ports_are_dropped(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("fragment", ["#comments", "#top", "#utm_source=x&b=1", "#"])
def test_fragment_is_dropped(fragment):
    assert canonical_url(ARTICLE + fragment) == ARTICLE


@pytest.mark.parametrize(("url", "base", "expected"), [
    ("/news/2022/01/06/csto-troops", "https://www.example.kz/index.html", ARTICLE),
    ("csto-troops?utm_source=rss", "https://www.example.kz/news/2022/01/06/", ARTICLE),
    ("../06/csto-troops", "https://www.example.kz/news/2022/01/07/x", ARTICLE),
    ("//www.example.kz/news/2022/01/06/csto-troops", "https://other.kz/", ARTICLE),
    ("https://other.kz/a", "https://www.example.kz/", "https://other.kz/a"),
])
def test_relative_urls_resolve_against_base(url, base, expected):
    assert canonical_url(url, base=base) == expected


def test_relative_url_without_base_is_not_a_url():
    assert canonical_url("/news/2022/01/06/csto-troops") is None


@pytest.mark.parametrize("url", [
    "ftp://example.kz/a", "mailto:desk@example.kz", "javascript:void(0)", "tel:+77270000000",
    "data:text/html,hi", "file:///etc/passwd", "example.kz/a", "https://", "", "   ",
    "https://example.kz:99999/a",
])
def test_non_http_urls_give_none(url):
    assert canonical_url(url) is None


def test_whitespace_and_html_entities_are_cleaned():
    assert canonical_url("  https://example.kz/a?x=1&amp;y=2 \n") == "https://example.kz/a?x=1&y=2"


def test_idempotent():
    once = canonical_url("HTTP://Example.kz:80//a/b/?b=2&a=1&utm_source=x#c")
    assert canonical_url(once) == once


def test_same_article_across_tracking_variants():
    variants = [
        ARTICLE,
        f"{ARTICLE}?utm_source=twitter&utm_medium=social",
        f"{ARTICLE}?fbclid=IwAR0abc#comments",
        "HTTPS://WWW.EXAMPLE.KZ:443/news/2022/01/06/csto-troops",
        "http://example.kz/news/2022/01/06/csto-troops/",
    ]
    assert all(same_article(ARTICLE, v) for v in variants)


def test_different_articles_are_not_the_same():
    assert not same_article(ARTICLE, "https://www.example.kz/news/2022/01/06/other-story")
    assert not same_article(f"{ARTICLE}?id=1", f"{ARTICLE}?id=2")
    assert not same_article(ARTICLE, "https://www.example.ru/news/2022/01/06/csto-troops")
    assert not same_article("mailto:a@b.kz", "mailto:a@b.kz")


def test_seen_urls_tells_the_first_time_a_url_is_met_across_calls():
    from newswatch.extractors.urls import SeenUrls

    seen = SeenUrls()
    assert seen.first_time(["https://a.kz/1", "https://a.kz/2", "https://a.kz/1"]) == [
        True, True, False]
    assert seen.first_time(["https://a.kz/2", "https://a.kz/3", "https://a.kz/3"]) == [
        False, True, False]
    assert seen.first_time([]) == []
    many = [f"https://a.kz/{i}" for i in range(5000)]
    assert sum(seen.first_time(many)) == 5000 - 3


@pytest.mark.parametrize(("url", "canonical"), [
    ("http://example.com//", "http://example.com"),
    ("http://example.com///", "http://example.com"),
    ("https://a.kz//#top", "https://a.kz"),
    ("HTTPS://A.KZ:443//", "https://a.kz"),
])
def test_a_bare_host_has_one_canonical_form(url, canonical):
    """Found by fuzzing (tests/test_fuzz.py): "//" collapsed to "/", which stayed."""
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical
