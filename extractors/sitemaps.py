"""Reading sitemaps (sitemaps.org and Google News) from an already parsed lxml tree.

    for loc, date, title in urlset_entries(root):   # raw strings, as written
        ...

Only the XML format is known here: `feeds.parse_source` resolves, canonicalises,
dates and de-duplicates what these functions yield. Element names are matched
by local name, because many sitemaps use an old or misspelt namespace.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator

from lxml import etree

__all__ = ["MAX_DECODED_BYTES", "gunzip", "index_children", "text_sitemap", "urlset_entries"]

logger = logging.getLogger(__name__)

MAX_DECODED_BYTES = 50_000_000  # the sitemaps.org limit for one uncompressed sitemap
GZIP_MAGIC = b"\x1f\x8b"


class GzipProblem(ValueError):
    """Gzip data that is broken (`reason` "not_xml") or too large ("too_large")."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def gunzip(data: bytes, limit: int = MAX_DECODED_BYTES) -> bytes:
    """Decompress gzip data, refusing more than `limit` decoded bytes (a bomb stops there)."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise GzipProblem("not_xml", f"broken gzip data: {exc}") from None
    if len(out) > limit:
        raise GzipProblem("too_large", f"gzip data decodes to more than {limit} bytes")
    if not inflater.eof:
        raise GzipProblem("not_xml", "truncated gzip data")
    return out


def urlset_entries(root: etree._Element) -> Iterator[tuple[str | None, str | None, str | None]]:
    """(loc, date, title) of each <url>; a Google News entry gives its publication date
    and title, others their <lastmod> and no title."""
    for url in root:
        if _local(url.tag) != "url":
            continue
        loc = lastmod = published = title = None
        for child in url:
            name = _local(child.tag)
            if name == "loc" and loc is None:
                loc = _text(child)
            elif name == "lastmod":
                lastmod = _text(child)
            elif name == "news":
                for item in child:
                    name = _local(item.tag)
                    if name == "publication_date":
                        published = _text(item)
                    elif name == "title":
                        title = _text(item)
        yield loc, published or lastmod, title


def index_children(root: etree._Element) -> Iterator[str | None]:
    """The <loc> of each <sitemap> in a sitemap index, as written."""
    for sitemap in root:
        if _local(sitemap.tag) == "sitemap":
            yield next((_text(c) for c in sitemap if _local(c.tag) == "loc"), None)


def text_sitemap(text: str) -> list[str] | None:
    """The URLs of a plain-text sitemap (one http(s) URL a line), None if `text` is not one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(line.startswith(("http://", "https://")) and " " not in line
                            for line in lines):
        return None
    return lines


def _local(tag: object) -> str | None:
    """An element's name without its namespace; None for entities and other non-elements."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def _text(element: etree._Element) -> str | None:
    text = element.text if len(element) == 0 else "".join(element.itertext())
    return (text.strip() or None) if text else None
