"""Article pages: HTML in, an Article out, or the reason the page is not one.

trafilatura finds the main text and the metadata, with its default settings
for the text (comments left out: they are not the article). This module adds
what a news pipeline needs around it: the headline and standfirst on top of
the text, as seed files have them; a canonical URL; a publication time with
its zone; a language from the page's own metadata; and a verdict on pages that
are not articles (too short, index pages, navigation, unparsable input).

    extraction = extract_article(html, url="https://example.kz/2022/01/06/story")
    if extraction.article is None:
        print(extraction.reason, extraction.detail)

`extract_article` is pure and never raises on bad input: it can run in a
process pool.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from .records import Article
from .urls import canonical_url, same_site

__all__ = ["MIN_ARTICLE_CHARS", "Extraction", "extract_article"]

logger = logging.getLogger(__name__)

# Body text (headline and standfirst not counted) below which a page is not an
# article. The shortest news items worth keeping, a wire flash of two or three
# short paragraphs, run to about 500 characters; below that are teasers,
# paywall stubs, photo and video pages and "more to follow" alerts whose story
# comes back later at full length. trafilatura's own floor for a usable
# extraction (MIN_EXTRACTED_SIZE) is half that.
MIN_ARTICLE_CHARS = 500

# A body whose characters lie mostly in lines that repeat the page's link
# texts is a list of links, not prose.
_LINK_LINES_SHARE = 0.5
# A paragraph of prose has at least this many characters: two short sentences.
# Teasers under the headlines of an index page are shorter.
_PROSE_CHARS = 160
_MIN_PROSE_SHARE = 0.5
# Index pages link to many stories; article pages to a handful of related ones.
_HEADLINE_WORDS = 4
_MIN_HEADLINE_LINKS = 10
# A page whose visible text is mostly link text is navigation.
_NAV_LINK_SHARE = 0.6

# og:type / JSON-LD types that declare an article (trafilatura's `pagetype`)
_ARTICLE_TYPES = re.compile(r"article|posting|report", re.IGNORECASE)
_CYRILLIC_LANGS = {"ru", "uk", "be", "bg", "mk", "kk", "ky", "tg", "mn", "tt", "ba"}
_MIXED_SCRIPT_LANGS = {"sr", "uz", "az", "tk"}
_LANG = re.compile(r"[a-z]{2,3}")
_SPACE = re.compile(r"\s+")
_JSON_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{10,40})"')
_PDF_OR_JSON = re.compile(r"\s*(?:%PDF-|[{\[])")
_FEED = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?<(?:rss|feed|rdf:RDF|urlset|sitemapindex)\b")

_VISIBLE_TEXT = XPath(
    "//body//text()[not(ancestor::script or ancestor::style"
    " or ancestor::noscript or ancestor::template)]"
)
_LINKS = XPath("//body//a")
_CANONICAL_HREF = XPath("//link[@rel and @href]")
_META_PUBLISHED = XPath(
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:article:published_time' or @itemprop='datePublished'"
    " or @name='pubdate' or @name='publish-date' or @name='parsely-pub-date']/@content"
)
_JSON_LD = XPath("//script[@type='application/ld+json']/text()")
_TIME_PUBLISHED = XPath(
    "//time[@itemprop='datePublished' or @pubdate]/@datetime | //article//time/@datetime"
)
_HTML_LANG = XPath(
    "/html/@lang | /html/@xml:lang"
    " | //meta[translate(@http-equiv, 'CONTENTLANGUAGE', 'contentlanguage')"
    "='content-language']/@content"
    " | //meta[@property='og:locale']/@content | //meta[@name='language']/@content",
    namespaces={"xml": "http://www.w3.org/XML/1998/namespace"},
)


@dataclass(slots=True)
class Extraction:
    """What `extract_article` made of a page.

    `article` is None when the page is not an article; `reason` then says why
    in a short code (not_article_too_short, not_article_index_page,
    not_article_navigation, not_html, extraction_failed) and `detail` in one
    readable line. `description` and `canonical_url` are filled whenever the
    page gives them, article or not.
    """

    article: Article | None
    reason: str | None = None
    detail: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    # seconds a worker spent extracting, then tagging and fingerprinting (see worker.py)
    seconds: tuple[float, float] = (0.0, 0.0)


@dataclass(slots=True)
class _Page:
    """What the parsed page shows besides its main text."""

    text: str
    link_chars: int
    link_texts: set[str]
    headline_links: int


def extract_article(
    html: str, url: str | None = None, *, min_chars: int = MIN_ARTICLE_CHARS
) -> Extraction:
    """Extract the article of an HTML page fetched from `url` (which may be None).

    The article's text is the headline, the standfirst when the page shows one
    apart from the body, then the body's paragraphs, separated by blank lines.
    """
    if not html or not html.strip():
        return Extraction(None, "extraction_failed", "empty document")
    if detail := _not_html(html):
        return Extraction(None, "not_html", detail)
    try:
        return _extract(_valid_unicode(html), url, min_chars)
    except Exception as exc:  # a bug deep in a parser must cost one page, not a batch
        logger.exception("%s: extraction crashed", url or "page")
        return Extraction(None, "extraction_failed", f"extraction crashed: {exc!r}"[:200])


def _extract(html: str, url: str | None, min_chars: int) -> Extraction:
    tree = load_html(html)
    if tree is None:
        return Extraction(None, "extraction_failed", "no HTML tree could be parsed")
    doc = bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False,
        include_tables=True, deduplicate=False,
    )
    description = _clean(doc.description) if doc else None
    canonical = _canonical(doc.url if doc else None, tree, url)
    title = _clean(doc.title) if doc else None
    body = _body_lines(doc.text if doc else None, title)
    page = _page_stats(tree)
    pagetype = (doc.pagetype if doc else None) or ""
    if verdict := _not_article(body, page, pagetype, min_chars):
        logger.debug("%s: %s (%s)", url or "page", *verdict)
        return Extraction(None, *verdict, description=description, canonical_url=canonical)

    head = [title] if title else []
    if description and _is_standfirst(description, title, body, page, tree):
        head.append(description)
    text = "\n\n".join(head + body)
    article = Article(
        text=text,
        raw=html,
        title=title,
        url=url,
        canonical_url=canonical,
        outlet=_clean(doc.sitename) or _host(canonical or url),
        author=_clean(doc.author),
        published_at=_published_at(doc.date, tree),
        language=_language(doc.language, tree, text),
    )
    return Extraction(article, description=description, canonical_url=canonical)


def _valid_unicode(html: str) -> str:
    """`html` with lone surrogates (left by a lossy decode) replaced: lxml drops such text."""
    try:
        html.encode("utf-8")
    except UnicodeEncodeError:
        return html.encode("utf-8", errors="replace").decode("utf-8")
    return html


# --- text ------------------------------------------------------------------------------------


def _body_lines(text: str | None, title: str | None) -> list[str]:
    """trafilatura's paragraphs, one per line, without a leading copy of the headline."""
    lines = [line.rstrip() for line in (text or "").splitlines() if line.strip()]
    if lines and title and _norm(lines[0]) == _norm(title):
        lines = lines[1:]
    return lines


def _is_standfirst(
    description: str, title: str | None, body: list[str], page: _Page, tree: HtmlElement
) -> bool:
    """Whether the page's description is also shown as a block of its own (a standfirst).

    trafilatura leaves standfirsts out with the headline block; a description
    that is only metadata (an SEO summary) is not part of the article.
    """
    wanted = _norm(description)
    if wanted == _norm(title or "") or any(wanted in _norm(line) for line in body):
        return False
    if " ".join(description.split()) not in page.text:
        return False  # cheap test first: the XPath below reads every element's text
    shown = tree.xpath("//body//*[normalize-space(.) = $text]", text=" ".join(description.split()))
    return bool(shown)


# --- verdicts --------------------------------------------------------------------------------


def _not_html(html: str) -> str | None:
    """Why the input is recognisably something other than an HTML page, else None."""
    start = html[:512].lstrip("\ufeff")
    if _PDF_OR_JSON.match(start):
        return "a PDF or JSON document, not an HTML page"
    if _FEED.match(start):
        return "an XML feed or sitemap, not an HTML page"
    if "<" not in html and sum(c.isprintable() or c.isspace() for c in start) > 0.95 * len(start):
        return "plain text without any markup"
    return None


def _not_article(
    body: list[str], page: _Page, pagetype: str, min_chars: int
) -> tuple[str, str] | None:
    """(reason, detail) when the extracted body does not make an article."""
    chars = sum(len(line) for line in body)
    if not body:
        if not page.text:
            return "extraction_failed", "the page shows no text"
        if page.link_chars >= _NAV_LINK_SHARE * len(page.text):
            return "not_article_navigation", "no main text, and the page's text is mostly links"
        if len(page.text) < min_chars:
            return "not_article_too_short", f"the page shows {len(page.text)} characters of text"
        return "extraction_failed", "no main text found"
    link_share = sum(len(x) for x in body if _norm(x) in page.link_texts) / chars
    prose_share = sum(len(x) for x in body if len(x) >= _PROSE_CHARS) / chars
    if link_share >= _LINK_LINES_SHARE and page.headline_links < _MIN_HEADLINE_LINKS:
        return "not_article_navigation", (
            f"{link_share:.0%} of the main text repeats link labels (a menu)"
        )
    if not _ARTICLE_TYPES.search(pagetype) and (
        link_share >= _LINK_LINES_SHARE
        or (prose_share < _MIN_PROSE_SHARE and page.headline_links >= _MIN_HEADLINE_LINKS)
    ):
        return "not_article_index_page", (
            f"page type {pagetype or 'unset'}, {page.headline_links} headline links,"
            f" {link_share:.0%} of the main text in links, {prose_share:.0%} in paragraphs"
        )
    if chars < min_chars:
        return "not_article_too_short", f"{chars} characters of main text, fewer than {min_chars}"
    return None


def _page_stats(tree: HtmlElement) -> _Page:
    text = " ".join(" ".join(_VISIBLE_TEXT(tree)).split())
    link_texts: set[str] = set()
    link_chars = headline_links = 0
    for link in _LINKS(tree):
        label = " ".join(link.text_content().split())
        link_chars += len(label)
        if label:
            link_texts.add(_norm(label))
            headline_links += len(label.split()) >= _HEADLINE_WORDS
    return _Page(text, link_chars, link_texts, headline_links)


# --- metadata --------------------------------------------------------------------------------


def _canonical(reported: str | None, tree: HtmlElement, url: str | None) -> str | None:
    """The page's canonical URL: canonical link or og:url, else the fetched URL."""
    canonical = canonical_url(reported, base=url) if reported else None
    if canonical is None or (url and canonical == canonical_url(url)):
        # trafilatura drops a relative canonical link when the page has no og:url to anchor it
        for link in _CANONICAL_HREF(tree):
            if "canonical" in link.get("rel", "").lower().split():
                canonical = canonical_url(link.get("href", ""), base=url) or canonical
                break
    fetched = canonical_url(url) if url else None
    if canonical and fetched and not same_site(canonical, fetched):
        # a page may not take another site's article's place (a planted headline)
        logger.info("%s declares %s as its canonical URL, another site's: ignored", url,
                    canonical)
        return fetched
    return canonical or fetched


def _published_at(found: str | None, tree: HtmlElement) -> datetime | None:
    """trafilatura's date (htmldate), with the time of day when the metadata gives it.

    A timestamp in article:published_time, JSON-LD or the article's <time> is
    kept with its own offset when it falls on htmldate's day; a bare date is
    midnight UTC, a time without a zone is taken as UTC.
    """
    day = _iso_day(found)
    candidates = [*_META_PUBLISHED(tree), *_json_ld_published(tree), *_TIME_PUBLISHED(tree)]
    for value in candidates:
        stamp = _iso_datetime(value)
        if stamp is not None and (day is None or stamp.date() == day):
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _json_ld_published(tree: HtmlElement) -> list[str]:
    # a regex rather than json.loads: JSON-LD in the wild is often not valid JSON
    return [m.group(1) for script in _JSON_LD(tree) for m in _JSON_PUBLISHED.finditer(script)]


def _iso_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _iso_datetime(value: str) -> datetime | None:
    """An ISO 8601 timestamp that carries a time of day, else None."""
    value = value.strip()
    if len(value) <= 10:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _language(found: str | None, tree: HtmlElement, text: str) -> str | None:
    """The page's declared language as a lowercase ISO 639 code ("en-GB" gives "en").

    A declaration the script of the text contradicts (a template's lang="en"
    on a Russian page) is dropped rather than trusted.
    """
    for value in [found or "", *_HTML_LANG(tree)]:
        code = re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0]
        if _LANG.fullmatch(code):
            break
    else:
        return None
    cyrillic = _cyrillic_share(text)
    if code in _CYRILLIC_LANGS and cyrillic < 0.1:
        return None
    if code not in _CYRILLIC_LANGS | _MIXED_SCRIPT_LANGS and cyrillic > 0.5:
        return None
    return code


def _cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters)


def _host(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None


def _norm(text: str) -> str:
    """Text compared for equality: case, spacing and end punctuation ignored."""
    return _SPACE.sub(" ", text).strip().rstrip(".:!?…").casefold()
