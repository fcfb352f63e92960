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

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from .date_languages import DEFAULT_DATE_LANGUAGES, read_dates_in
from .justext_stoplist import share_union_stoplist
from .page_kind import MIN_ARTICLE_CHARS, Page, norm, page_signals, verdict
from .page_meta import clean_authors, clean_title, outlet_name, page_dates, site_names
from .records import Article
from .urls import canonical_url, same_site

__all__ = ["MIN_ARTICLE_CHARS", "Extraction", "extract_article"]

logger = logging.getLogger(__name__)

share_union_stoplist()  # trafilatura's jusText fallback: one copy of its stop words
read_dates_in(DEFAULT_DATE_LANGUAGES)  # until a worker is told its sources' languages

_CYRILLIC_LANGS = {"ru", "uk", "be", "bg", "mk", "kk", "ky", "tg", "mn", "tt", "ba"}
_MIXED_SCRIPT_LANGS = {"sr", "uz", "az", "tk"}
_LANG = re.compile(r"[a-z]{2,3}")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_PDF_OR_JSON = re.compile(r"\s*(?:%PDF-|[{\[])")
_FEED = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?<(?:rss|feed|rdf:RDF|urlset|sitemapindex)\b")

_CANONICAL_HREF = XPath("//link[@rel and @href]")
_HTML_LANG = XPath(
    "/html/@lang | /html/@xml:lang"
    " | //meta[translate(@http-equiv, 'CONTENTLANGUAGE', 'contentlanguage')"
    "='content-language']/@content"
    " | //meta[@property='og:locale']/@content | //meta[@name='language']/@content",
    namespaces={"xml": "http://www.w3.org/XML/1998/namespace"},
)


@dataclass(frozen=True, slots=True)
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
    names = site_names(tree, doc.sitename if doc else None, canonical or url)
    raw_title = _clean(doc.title) if doc else None
    body = _body_lines(doc.text if doc else None, raw_title)
    page = page_signals(tree, doc.pagetype if doc else None)
    if reason := verdict(body, page, url or canonical, min_chars):
        logger.debug("%s: %s (%s)", url or "page", *reason)
        return Extraction(None, *reason, description=description, canonical_url=canonical)

    title = clean_title(raw_title, tree, names)
    if title and body and norm(body[0]) == norm(title):
        body = body[1:]
    head = [title] if title else []
    if description and _is_standfirst(description, title, body, page, tree):
        head.append(description)
    text = "\n\n".join(head + body)
    outlet = outlet_name(tree, doc.sitename, canonical or url)
    dates = page_dates(tree, canonical or url, doc.date)
    article = Article(
        text=text,
        raw=html,
        title=title,
        url=url,
        canonical_url=canonical,
        outlet=outlet,
        author=clean_authors(_clean(doc.author), outlet),
        published_at=dates.chosen,
        published_source=dates.source,
        dates=dates.candidates,
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
    if lines and title and norm(lines[0]) == norm(title):
        lines = lines[1:]
    return lines


def _is_standfirst(
    description: str, title: str | None, body: list[str], page: Page, tree: HtmlElement
) -> bool:
    """Whether the page's description is also shown as a block of its own (a standfirst).

    trafilatura leaves standfirsts out with the headline block; a description
    that is only metadata (an SEO summary) is not part of the article.
    """
    wanted = norm(description)
    if wanted == norm(title or "") or any(wanted in norm(line) for line in body):
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
    # counted in C (map, a regex): a loop over the characters in Python cost ~1 ms a page
    letters = sum(map(str.isalpha, text))
    return len(_CYRILLIC.findall(text)) / letters if letters else 0.0


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None
