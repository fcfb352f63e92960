"""Canonical URLs: one spelling per page, so that tracking variants of a link meet.

`canonical_url` builds on courlan (`scrub_url`, then `normalize_url`); what it does:

- resolves a relative URL against `base` (RFC 3986, `urllib.parse.urljoin`);
- strips surrounding whitespace, `&amp;` left over from HTML, markup rests (courlan);
- accepts only http and https URLs with a host; anything else gives None;
- drops credentials (`user:password@`), which must never be stored or shown;
- lowercases the scheme and the host, decodes punycode hosts to Unicode,
  drops the scheme's default port (:80 for http, :443 for https) and rejects
  a port out of range;
- collapses repeated slashes and leading `/..` in the path, and
  percent-encodes what lies outside courlan's safe set (so `+`, `@`, `;` and
  non-ASCII letters in a path become %XX; existing escapes are kept);
- removes tracking parameters by courlan's list: utm_*, fbclid, gclid, yclid,
  dclid, msclkid, mc_cid, mc_eid, _ga, ref, ref_src, and any parameter whose
  name contains a tracker word (campaign, source, medium, session, affiliate,
  referrer, gl, ...) at a word start: so also `refresh`, `source_id` and
  `glossary` (courlan's choice: recall over precision);
- drops parameters with an empty value, sorts the rest by name (values keep
  their order), drops the fragment;
- keeps the path's trailing slash, except on a bare host ("https://a.kz/" is
  "https://a.kz"), and keeps the host's "www." (it may be another server).

    >>> canonical_url("HTTPS://Example.com:443/a/b?utm_source=x&b=2&a=1#top")
    'https://example.com/a/b?a=1&b=2'
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np
from courlan import extract_domain, normalize_url, scrub_url

from newswatch.errors import UrlFileError

__all__ = ["SeenUrls", "canonical_url", "iter_url_file", "read_url_file", "same_article",
           "same_site"]

logger = logging.getLogger(__name__)

# a host name (letters of any script, digits, "-", "_", ".") or an IPv6 address
_HOST = re.compile(r"[\w.-]+|[0-9a-fA-F:.]+")


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The canonical form of `url` (see the module docstring), None unless http(s)."""
    if not url or not url.strip():
        return None
    url = url.strip()
    try:
        if base:
            url = urljoin(base.strip(), url)
        # not courlan's validate_url: it rejects hosts under five characters (t.co)
        parsed = urlsplit(scrub_url(url))
        if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
            return None
        if not _HOST.fullmatch(parsed.hostname):  # control characters, spaces, ...
            return None
        parsed.port  # noqa: B018 - raises ValueError on a port out of range
        # strict=False: strict mode would also drop every parameter outside a short
        # allow-list (story ids included); fragments are dropped here instead
        if parsed.username is not None or parsed.password is not None:
            # credentials (user:password@) are never kept: stored, they would be shown
            parsed = parsed._replace(netloc=parsed.netloc.rpartition("@")[2])
        normal = urlsplit(normalize_url(parsed, strict=False))
    except ValueError as exc:  # malformed ports, IPv6 brackets, ...
        logger.debug("not a URL: %r (%s)", url, exc)
        return None
    if normal.path == "/" and not normal.query:
        # a bare host: courlan strips "/" but not what "//" collapses to (found by
        # fuzzing: canonical_url must be a fixed point, or one page has two keys)
        normal = normal._replace(path="")
    return normal._replace(fragment="").geturl()


def same_article(a: str, b: str) -> bool:
    """Whether two links lead to one article: equal canonical forms.

    Beyond `canonical_url`, the comparison ignores http versus https, a leading
    "www." and a trailing slash: news sites serve one page under all of them.
    """
    ka, kb = _article_key(a), _article_key(b)
    return ka is not None and ka == kb


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one site: the same registered domain by the public
    suffix list (news.bbc.co.uk and www.bbc.co.uk are; a.github.io and b.github.io
    are not), or the same host where there is none (an IP address, localhost).

    >>> same_site("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b")
    True
    """
    da, db = extract_domain(a), extract_domain(b)
    if da and db:
        return da == db
    return (urlsplit(a).hostname or "") == (urlsplit(b).hostname or "")


def _article_key(url: str) -> tuple[str, str, str] | None:
    canonical = canonical_url(url)
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    host = parts.netloc.removeprefix("www.")
    return host, parts.path.rstrip("/"), parts.query


def iter_url_file(path: str | Path) -> Iterator[str]:
    """The URLs in a file, one per line, read as they are asked for: blank lines
    and `#` comments skipped; `-` is standard input."""
    try:
        stream = nullcontext(sys.stdin) if str(path) == "-" else open(path, encoding="utf-8")
        with stream as lines:
            for line in lines:
                url = line.split("#", 1)[0].strip()
                if url:
                    yield url
    except (OSError, UnicodeDecodeError) as exc:
        raise UrlFileError(f"cannot read URLs from {path}: {exc}") from exc


def read_url_file(path: str | Path) -> list[str]:
    """The URLs in a file, as a list (see iter_url_file)."""
    return list(iter_url_file(path))


class SeenUrls:
    """The URLs a run has met, at 8 bytes each: a sorted array of their 64-bit hashes.

    A set of the strings costs about 150 bytes a URL. Two URLs whose hashes
    collide would count as one: at a million URLs, odds of about 3 in 100 million.
    """

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)

    def first_time(self, urls: Sequence[str]) -> list[bool]:
        """For each URL, whether it is met here for the first time; remembers them."""
        hashes = np.fromiter((int.from_bytes(hashlib.blake2b(
            url.encode("utf-8"), digest_size=8).digest()) for url in urls),
            dtype=np.uint64, count=len(urls))
        fresh = np.zeros(len(urls), dtype=bool)
        fresh[np.unique(hashes, return_index=True)[1]] = True  # the first of repeats
        fresh &= ~np.isin(hashes, self._hashes, assume_unique=False)
        self._hashes = np.union1d(self._hashes, hashes[fresh])
        return fresh.tolist()
