"""The sources newswatch polls: feeds, sitemaps and sites, with their filters.

    [[source]]
    name = "Steppe Courier"
    url = "https://www.steppecourier.com/world/rss.xml"
    kind = "feed"                        # feed, sitemap or site (its feeds are discovered)
    include = ["Kazakhstan", "CSTO"]     # a link is kept if its title, summary or URL has one
    exclude = ["football"]               # ... and none of these
    include_urls = ["/world/"]           # URL substrings a link must contain (any)
    exclude_urls = ["/video/"]           # URL substrings a link must not contain

Keyword filters are case-insensitive. A malformed file names its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from newswatch.errors import SourcesError

from .urls import canonical_url

KINDS = ("feed", "sitemap", "site")
_LIST_KEYS = ("include", "exclude", "include_urls", "exclude_urls")
_KEYS = {"name", "url", "kind", *_LIST_KEYS}
_HEADER = re.compile(r"^\s*\[\[\s*source\s*\]\]")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Source:
    source_id: str                 # the canonical URL: the source's key in the warehouse
    name: str
    url: str
    kind: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_urls: tuple[str, ...] = ()
    exclude_urls: tuple[str, ...] = ()

    def accepts(self, url: str, text: str = "") -> bool:
        """Whether a link passes this source's filters (text: its title and summary)."""
        haystack = f"{url}\n{text}".casefold()
        if self.include and not any(k.casefold() in haystack for k in self.include):
            return False
        if any(k.casefold() in haystack for k in self.exclude):
            return False
        if self.include_urls and not any(part in url for part in self.include_urls):
            return False
        return not any(part in url for part in self.exclude_urls)


def load_sources(path: Path) -> list[Source]:
    """The sources listed in a TOML file; a missing file is an error (a poll of
    nothing would look like a quiet day)."""
    if not path.is_file():
        raise SourcesError(f"no sources file at {path}: pass --sources FILE or set "
                           "NEWSWATCH_SOURCES (README, Sources)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc}") from exc
    return parse_sources(text, str(path))


def parse_sources(text: str, path: str = "<sources>") -> list[Source]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        where = f", line {match[1]}" if match else ""
        raise SourcesError(f"{path}{where}: TOML syntax: {exc}") from exc
    headers = [i + 1 for i, line in enumerate(text.split("\n")) if _HEADER.match(line)]
    unknown_top = set(data) - {"source"}
    if unknown_top:
        raise SourcesError(f"{path}: unknown key {sorted(unknown_top)[0]!r} "
                           "(sources are [[source]] tables)")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, table in enumerate(data.get("source", [])):
        line = headers[index] if index < len(headers) else None
        where = f"{path}, line {line}" if line else path

        def fail(message: str, where: str = where) -> SourcesError:
            return SourcesError(f"{where}: {message}")

        if not isinstance(table, dict):
            raise fail("each source must be a [[source]] table")
        if unknown := set(table) - _KEYS:
            raise fail(f"unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KEYS))})")
        url = table.get("url")
        if not isinstance(url, str) or canonical_url(url) is None:
            raise fail(f"source needs an http(s) url, got {url!r}")
        kind = table.get("kind", "feed")
        if kind not in KINDS:
            raise fail(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
        lists = {}
        for key in _LIST_KEYS:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise fail(f"{key} must be a list of non-empty strings")
            lists[key] = tuple(value)
        source_id = canonical_url(url) or url
        if source_id in seen:
            raise fail(f"source {url} is listed twice")
        seen.add(source_id)
        sources.append(Source(source_id, str(table.get("name") or url), url, kind, **lists))
    return sources
