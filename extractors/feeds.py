"""What a polled source lists: RSS, Atom, sitemaps, or the feeds a home page advertises.

    parsed = parse_source(body, "https://www.example.kz/rss.xml", expected="feed")
    for link in parsed.links:        # canonical, de-duplicated, in document order
        print(link.url, link.published_at, link.title)

Content arrives already fetched: nothing here touches the network. XML is parsed by
lxml with no DTD, no network and entities left unexpanded, so a billion-laughs
document or an external entity costs nothing. trafilatura.feeds and
trafilatura.sitemaps only list links (sorted, without titles or dates, dropping
other domains), so entries are read here with lxml, and dates with the standard
library: RFC 822 (RSS pubDate) and ISO 8601 / W3C datetime (Atom, dc:date, sitemaps).
A date without a time zone is taken as UTC.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from newswatch.errors import SourceParseError

from .charset import decode_html
from .sitemaps import (
    GZIP_MAGIC,
    MAX_DECODED_BYTES,
    GzipProblem,
    gunzip,
    index_children,
    text_sitemap,
    urlset_entries,
)
from .urls import canonical_url

__all__ = ["KINDS", "Link", "SourceParse", "parse_source"]

logger = logging.getLogger(__name__)

KINDS = ("rss", "atom", "sitemap", "sitemap_index", "html")
_EXPECTED = (None, "feed", "sitemap", "html")
_FAMILY = {"rss": "feed", "atom": "feed", "sitemap": "sitemap", "sitemap_index": "sitemap",
           "html": "html"}
_ARTICLE = {"feed": "a feed", "sitemap": "a sitemap", "html": "an HTML page"}
_ATOM = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")  # 1.0, 0.3
_RSS = ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
_FEED_PATH = re.compile(r"(?:/feed|/rss|/atom|\.rss|\.atom|\.rdf|\.xml)$", re.IGNORECASE)
_COMMENTS = re.compile(r"\bcomments\b", re.IGNORECASE)  # trafilatura's rule: no comment feeds
_HTML_MARKS = ("<!doctype html", "<html", "<head", "<body")
# The first element's name, past the XML declaration, comments and a DOCTYPE.
_FIRST_TAG = re.compile(
    r"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!doctype[^>\[]*(?:\[.*?\])?\s*>\s*)*<([a-z][\w:.-]*)",
    re.DOTALL)
_BARE_AMP = re.compile(rb"&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][\w.-]*;)")
_XML_ROOTS = {"rss", "rdf", "feed", "urlset", "sitemapindex"}
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")  # RFC 3986: an absolute URL
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")  # W3C datetime's short forms
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table td th tr ul".split())
_SKIP = frozenset({"script", "style", "template"})
_MAX_NOTES = 20  # problems listed one by one; the rest are counted


@dataclass(frozen=True)
class Link:
    """An article link a source lists."""

    url: str  # canonical and absolute
    title: str | None
    published_at: datetime | None  # UTC; None when missing or unparseable
    summary: str | None  # plain text


@dataclass
class SourceParse:
    """What one source document holds; `kind` is one of KINDS."""

    kind: str
    links: list[Link]
    children: list[str]  # a sitemap index's child sitemaps
    feeds: list[str]  # the feeds an HTML page advertises
    problems: list[str]  # one readable line each


def parse_source(content: str | bytes, url: str, expected: str | None = None) -> SourceParse:
    """Read a fetched feed, sitemap or home page; `expected` is "feed", "sitemap", "html"
    or None (detect). Raises SourceParseError when it is none of these."""
    if expected not in _EXPECTED:
        raise ValueError(f"expected must be one of {_EXPECTED}, not {expected!r}")
    data, encoding = _prepare(content, url)
    out = _Collector(url)
    root, error = _xml_root(data, encoding, url, out)
    if root is None:
        head = _head(data)
        if expected == "html" or any(mark in head for mark in _HTML_MARKS):
            return _html(content, data, expected, out)
        text = content if isinstance(content, str) else data.decode("utf-8", "replace")
        if expected in (None, "sitemap") and (lines := text_sitemap(text)):
            for line in lines:
                out.add(line, url, None, None, None)
            return out.result("sitemap")
        raise SourceParseError("not_xml", f"not XML: {error}", url)
    kind = _kind(root)
    if kind is None:
        raise SourceParseError(
            "not_a_feed", f"XML with root <{etree.QName(root).localname}> is neither a feed "
            "nor a sitemap", url)
    if kind == "html":
        return _html(content, data, expected, out)
    if expected and _FAMILY[kind] != expected:
        out.note(f"expected {_ARTICLE[expected]}, found {kind}")
    if kind == "rss":
        _rss(root, out)
    elif kind == "atom":
        _atom(root, out)
    elif kind == "sitemap":
        for loc, date, title in urlset_entries(root):
            out.add(loc, url, title, date, None)
    else:
        return out.result(kind, children=_children(root, out))
    if not out.entries:
        out.note("empty sitemap" if kind == "sitemap" else "empty feed: no entries")
    return out.result(kind)


class _Collector:
    """Links and problems as they are found: resolved, canonical, de-duplicated."""

    def __init__(self, url: str):
        self.url = url
        self.links: list[Link] = []
        self.problems: list[str] = []
        self.entries = 0  # entries read, kept or not
        self._seen: set[str] = set()
        self._unlisted = 0

    def note(self, message: str) -> None:
        if len(self.problems) < _MAX_NOTES:
            self.problems.append(message)
        else:
            self._unlisted += 1

    def resolve(self, href: str, base: str | None) -> str | None:
        """The canonical absolute form of `href`, None (and a note) unless http(s)."""
        href = href.strip()
        relative = not _SCHEME.match(href)
        resolved = canonical_url(href, (base or self.url) if relative else None)
        if resolved is None:
            self.note(f"not an http(s) link, skipped: {href!r}")
        elif relative:
            self.note(f"relative link {href!r} resolved to {resolved}")
        return resolved

    def add(self, href: str | None, base: str | None, title: str | None, date: str | None,
            summary: str | None) -> None:
        self.entries += 1
        if not href or not href.strip():
            self.note(f"entry {title!r} has no link: skipped" if title
                      else "an entry without a link: skipped")
            return
        url = self.resolve(href, base)
        if url is None or url in self._seen:
            return
        self._seen.add(url)
        published = _parse_date(date) if date else None
        if date and published is None:
            self.note(f"{url}: unparseable date {date!r}, kept without a date")
        self.links.append(Link(url, title, published, summary))

    def result(self, kind: str, children: list[str] | None = None,
               feeds: list[str] | None = None) -> SourceParse:
        problems = list(self.problems)
        if self._unlisted:
            problems.append(f"... and {self._unlisted} more problems")
        logger.debug("%s: %s, %d links, %d children, %d feeds, %d problems", self.url, kind,
                     len(self.links), len(children or ()), len(feeds or ()), len(problems))
        return SourceParse(kind, self.links, children or [], feeds or [], problems)


# --- reading the input ------------------------------------------------------------------------

def _prepare(content: str | bytes, url: str) -> tuple[bytes, str | None]:
    """The document's bytes (gzip undone), and "utf-8" when they came from a str."""
    if isinstance(content, str):
        data, encoding = content.encode("utf-8"), "utf-8"
    else:
        data, encoding = bytes(content), None
        if data.startswith(GZIP_MAGIC):
            try:
                data = gunzip(data)
            except GzipProblem as exc:
                raise SourceParseError(exc.reason, str(exc), url) from None
    if len(data) > MAX_DECODED_BYTES:
        raise SourceParseError("too_large", f"more than {MAX_DECODED_BYTES} bytes", url)
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise SourceParseError("empty", "empty document", url)
    return data, encoding


def _xml_parser(encoding: str | None, recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        encoding=encoding, recover=recover, resolve_entities=False, no_network=True,
        huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True)


def _xml_root(data: bytes, encoding: str | None, url: str,
              out: _Collector) -> tuple[etree._Element | None, str]:
    """The parsed root, or None and the parser's message; broken feeds are recovered."""
    try:
        return etree.fromstring(data, _xml_parser(encoding), base_url=url), ""
    except etree.XMLSyntaxError as exc:
        error = str(exc)
    if encoding is None and ("UTF-8" in error or "encoding" in error):
        text, charset = decode_html(data)  # BOM, then detection
        try:
            root = etree.fromstring(text.encode("utf-8"), _xml_parser("utf-8"), base_url=url)
        except etree.XMLSyntaxError:
            pass
        else:
            out.note(f"not in its declared encoding: read as {charset}")
            return root, ""
    first = _FIRST_TAG.match(_head(data))
    if not first or first.group(1).rpartition(":")[2] not in _XML_ROOTS:
        return None, error
    # a feed or sitemap that is not well-formed: most often a bare & in a URL
    repaired = _BARE_AMP.sub(b"&amp;", data)
    if repaired != data:
        try:
            root = etree.fromstring(repaired, _xml_parser(encoding), base_url=url)
        except etree.XMLSyntaxError:
            pass
        else:
            out.note("malformed XML: bare '&' read as '&amp;'")
            return root, ""
    try:
        root = etree.fromstring(repaired, _xml_parser(encoding, recover=True), base_url=url)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return None, error
    out.note(f"malformed XML, read what could be recovered: {error}")
    return root, ""


def _head(data: bytes) -> str:
    return data[:4096].removeprefix(codecs.BOM_UTF8).decode("latin-1").lower()


def _kind(root: etree._Element) -> str | None:
    name, space = _local(root.tag), _namespace(root.tag)
    if name == "rss" or (name == "RDF" and space == _RDF):
        return "rss"
    if name == "feed" and space in ("", *_ATOM):
        return "atom"
    return {"urlset": "sitemap", "sitemapindex": "sitemap_index", "html": "html"}.get(name or "")


# --- feeds ------------------------------------------------------------------------------------

def _rss(root: etree._Element, out: _Collector) -> None:
    """RSS 0.9x, 1.0 (RDF) and 2.0 items."""
    for item in root.iter():
        if _local(item.tag) != "item" or _namespace(item.tag) not in _RSS:
            continue
        fields = _fields(item)
        link = _rss_field(fields, "link")
        guid = fields.get("guid")
        if _text(link) is None and guid is not None and guid.get("isPermaLink") != "false":
            link = guid
        href = _text(link) if link is not None else item.get(f"{{{_RDF}}}about")
        date = _some(_rss_field(fields, "pubDate"), fields.get(_DC_DATE),
                     _first(fields, _ATOM, "published", "updated"))
        summary = _some(_rss_field(fields, "description"), fields.get(_CONTENT))
        out.add(href, (link if link is not None else item).base,
                _html_text(_text(_rss_field(fields, "title"))), _text(date),
                _html_text(_text(summary)))


def _atom(root: etree._Element, out: _Collector) -> None:
    """Atom 1.0 and 0.3 entries; a link's base follows xml:base."""
    space = _namespace(root.tag)
    for entry in root.iter(f"{{{space}}}entry" if space else "entry"):
        fields = _fields(entry)
        link = _atom_link(entry)
        date = _first(fields, (space,), "published", "updated", "issued", "modified")
        summary = _first(fields, (space,), "summary", "content")
        out.add(link.get("href") if link is not None else None,
                link.base if link is not None else None,
                _atom_text(_first(fields, (space,), "title")), _text(date), _atom_text(summary))


def _atom_link(entry: etree._Element) -> etree._Element | None:
    """The entry's page: rel="alternate" (the default), HTML preferred."""
    alternates = [link for link in entry
                  if _local(link.tag) == "link" and link.get("href")
                  and link.get("rel", "alternate") == "alternate"]
    for link in alternates:
        if link.get("type", "text/html").split(";")[0].strip() in ("text/html",
                                                                  "application/xhtml+xml"):
            return link
    return alternates[0] if alternates else None


def _atom_text(element: etree._Element | None) -> str | None:
    """An Atom text construct as plain text: type text, html or xhtml."""
    if element is None:
        return None
    kind = (element.get("type") or "text").lower()
    if "xhtml" in kind:
        return _element_text(element)
    if "html" in kind or element.get("mode") == "escaped":
        return _html_text(_text(element))
    return _squash(_text(element))


def _fields(entry: etree._Element) -> dict[str, etree._Element]:
    """The entry's first child of each name, by {namespace}name."""
    fields: dict[str, etree._Element] = {}
    for child in entry:
        if isinstance(child.tag, str):
            fields.setdefault(child.tag, child)
    return fields


def _rss_field(fields: dict[str, etree._Element], name: str) -> etree._Element | None:
    return _first(fields, _RSS, name)


def _some(*elements: etree._Element | None) -> etree._Element | None:
    """The first element that is there (an element without children is falsy in lxml)."""
    return next((element for element in elements if element is not None), None)


def _first(fields: dict[str, etree._Element], spaces: tuple[str, ...],
           *names: str) -> etree._Element | None:
    for name in names:
        for space in spaces:
            found = fields.get(f"{{{space}}}{name}" if space else name)
            if found is not None:
                return found
    return None


# --- sitemap indexes and home pages -----------------------------------------------------------

def _children(root: etree._Element, out: _Collector) -> list[str]:
    """A sitemap index's child sitemaps, without the index itself."""
    me = canonical_url(out.url)
    children: list[str] = []
    listed_itself = False
    for loc in index_children(root):
        if not loc:
            out.note("a <sitemap> without <loc>: skipped")
            continue
        child = out.resolve(loc, out.url)
        if child is not None and child == me:
            if not listed_itself:
                out.note(f"the index lists itself ({child}): dropped")
            listed_itself = True
        elif child is not None and child not in children:
            children.append(child)
    if listed_itself and not children:
        raise SourceParseError("self_referencing_index",
                               "the sitemap index lists only itself", out.url)
    if not children:
        out.note("empty sitemap index")
    return children


def _html(content: str | bytes, data: bytes, expected: str | None,
          out: _Collector) -> SourceParse:
    """A home page: the feeds it advertises."""
    if expected in ("feed", "sitemap"):
        raise SourceParseError("html_served_as_feed",
                               f"an HTML page where a {expected} was expected", out.url)
    text = content if isinstance(content, str) else decode_html(data)[0]
    try:
        doc = lxml.html.document_fromstring(
            text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError) as exc:
        raise SourceParseError("not_html", f"not an HTML page: {exc}", out.url) from None
    base = out.url
    for href in doc.xpath("//base/@href")[:1]:
        try:
            base = urljoin(out.url, href.strip())
        except ValueError:  # a malformed <base>: the page's own URL will do
            out.note(f"malformed <base href={href!r}>: ignored")
    hrefs = [link.get("href") for link in doc.iter("link")
             if "alternate" in (link.get("rel") or "").lower().split() and link.get("href")
             and (link.get("type") or "").split(";")[0].strip().lower() in _FEED_TYPES]
    if not hrefs:
        hrefs = [a.get("href") for a in doc.iter("a") if _feed_path(a.get("href"))]
        if hrefs:
            out.note("no <link rel=alternate> feed: feeds guessed from links")
    feeds: list[str] = []
    for href in hrefs:
        feed = canonical_url(href, base)
        if feed and feed not in feeds and not _COMMENTS.search(feed):
            feeds.append(feed)
    if not feeds:
        out.note("no feed links found")
    return out.result("html", feeds=feeds)


def _feed_path(href: str | None) -> bool:
    try:
        path = urlsplit(href or "").path.rstrip("/")
    except ValueError:
        return False
    return bool(_FEED_PATH.search(path)) and "sitemap" not in path.lower()


# --- text and dates ---------------------------------------------------------------------------

def _parse_date(value: str) -> datetime | None:
    """RFC 822 or ISO 8601 (W3C datetime's year and year-month too), in UTC."""
    value = value.strip()
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            short = _YEAR_MONTH.fullmatch(value)
            try:
                when = datetime(int(short[1]), int(short[2] or 1), 1) if short else None
            except ValueError:
                when = None
    if when is None:
        return None
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _html_text(markup: str | None) -> str | None:
    """Plain text of an HTML snippet (tags, scripts and entities gone)."""
    if not markup or ("<" not in markup and "&" not in markup):
        return _squash(markup)
    try:
        fragment = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return _squash(markup)
    return _element_text(fragment)


def _element_text(element: etree._Element) -> str | None:
    """Text of an element, with a space between blocks (no recursion: any depth)."""
    parts: list[str] = []
    skipping = 0
    for event, node in etree.iterwalk(element, events=("start", "end")):
        name = _local(node.tag)
        if event == "start":
            if name in _SKIP:
                skipping += 1
            elif not skipping:
                parts.append(" " if name in _BLOCKS else "")
                if node.tag is etree.Entity:
                    parts.append(html.unescape(node.text))
                elif name is not None and node.text:
                    parts.append(node.text)
            continue
        if name in _SKIP:
            skipping -= 1
        if not skipping:
            parts.append(" " if name in _BLOCKS else "")
            if node is not element and node.tail:
                parts.append(node.tail)
    return _squash("".join(parts))


def _squash(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split()) or None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _local(tag: object) -> str | None:
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def _namespace(tag: object) -> str:
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else ""
