"""What a page says about itself: headline, outlet, authors and dates, and where each came from.

trafilatura reads the raw metadata (og: and meta tags, JSON-LD, the title
element); this module turns it into what an analyst reads:

- the headline without the site's name and section around it ("Opinion | ...",
  "... - MDR.DE"), taken from the page's own <h1> when the title wraps it;
- the outlet from the site's own name (og:site_name, JSON-LD publisher,
  application-name), never a template word ("Home", "Hosted"), else the host;
- authors as people: credit lines ("Staff", "CNN", "the defense ministries")
  are left out;
- every publication date the page states, by source (JSON-LD, meta, <time>,
  URL, the page's text through htmldate), the one kept and whether they
  disagree by more than a day.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from courlan import extract_domain
from lxml.etree import XPath
from lxml.html import HtmlElement

__all__ = ["PageDates", "clean_authors", "clean_title", "outlet_name", "page_dates",
           "DATE_SOURCES", "disagree"]

# where a publication date came from, in the order of trust: the page's JSON-LD,
# its meta tags, its <time> element, its URL, its text (htmldate's finding, or
# a seed file's dateline), a seed manifest; "feed" is added at loading (the
# feed that listed the link); "first_seen" means none was found
DATE_SOURCES = ("json_ld", "meta", "time", "url", "text", "manifest", "feed", "first_seen")
_DISAGREE = timedelta(days=1)

_SEPARATOR = r"\s+[-–—|:·•»«/~]\s+|\s*[|·•]\s*|:\s+"
_SEPARATOR_RE = re.compile(_SEPARATOR)
# sections that sites put before a headline
_SECTION_WORDS = frozenset({
    "opinion", "analysis", "live", "live updates", "video", "watch", "exclusive", "breaking",
    "breaking news", "explainer", "update", "updated", "editorial", "commentary", "review",
    "obituary", "photos", "gallery", "podcast", "news", "world", "world news", "politics",
    "business", "meinung", "kommentar", "kolumne", "analyse", "exclusif", "opinión",
})
# names a template gives a site when it does not know its own
_TEMPLATE_NAMES = frozenset({
    "home", "homepage", "home page", "hosted", "index", "news", "article", "articles",
    "website", "web site", "site", "blog", "default", "untitled", "page", "main", "www",
    "amp", "mobile", "m", "online", "startseite",
})
_META_SITE = XPath(
    "//meta[@property='og:site_name' or @name='og:site_name'"
    " or @name='application-name' or @name='apple-mobile-web-app-title']/@content"
)
_JSON_LD = XPath("//script[@type='application/ld+json']/text()")
_JSON_PUBLISHER = re.compile(
    r'"publisher"\s*:\s*(?:\[\s*)?\{[^{}]*?"name"\s*:\s*"([^"]{2,80})"', re.DOTALL)
_JSON_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_META_PUBLISHED = XPath(
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:article:published_time' or @itemprop='datePublished'"
    " or @name='pubdate' or @name='publish-date' or @name='parsely-pub-date'"
    " or @name='dc.date' or @name='DC.date.issued' or @name='date']/@content"
)
_TIME_PUBLISHED = XPath(
    "//time[@itemprop='datePublished' or @pubdate]/@datetime | //article//time/@datetime"
)
_HEADINGS = XPath("//h1")
_URL_DATE = re.compile(
    r"/((?:19|20)\d\d)[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)")

# a person's name: two to five words, capitalised, maybe with particles
_NAME_PARTICLES = frozenset({"de", "da", "del", "della", "der", "den", "di", "du", "la", "le",
                             "van", "von", "al", "el", "bin", "ben", "ibn", "zu", "y", "dos"})
_NOT_PERSON = re.compile(
    r"\b(?:ministr|ministry|ministries|agenc|news|press|staff|desk|editor|redaktion|"
    r"redacci|rédaction|team|service|media|reporters?|correspondents?|bureau|office|"
    r"department|government|gmbh|ltd|inc|llc|corp|group|online|magazin|zeitung|times|"
    r"post|daily|journal|tribune|radio|tv|television|channel|said|unknown|admin|name|"
    r"contributors?|wire|associated|reuters|afp|dpa|cnn|bbc|photo|video|foto|"
    r"university|institute|council|committee|police|army|forces|the)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PageDates:
    """The publication dates a page states: `candidates` as (source, time) pairs in
    the order of DATE_SOURCES, `chosen` the one kept (or None) and its `source`."""

    chosen: datetime | None
    source: str | None
    candidates: tuple[tuple[str, datetime], ...]


# --- headline ---------------------------------------------------------------------------------


def clean_title(title: str | None, tree: HtmlElement | None, site_names: list[str]) -> str | None:
    """The headline: the page's <h1> when the title wraps it in site name and section,
    else the title without the site's name at either end or a section word before it."""
    if not title:
        return None
    title = " ".join(title.split())
    for heading in _HEADINGS(tree) if tree is not None else []:
        text = " ".join(heading.text_content().split())
        if text and text != title and _wraps(title, text) and not _names_site(text, site_names):
            return text
    parts = _SEPARATOR_RE.split(title)
    seps = _SEPARATOR_RE.findall(title)
    # drop the site's name at either end, then a section word at the start
    while len(parts) > 1 and _names_site(parts[-1], site_names):
        parts, seps = parts[:-1], seps[:-1]
    while len(parts) > 1 and _names_site(parts[0], site_names):
        parts, seps = parts[1:], seps[1:]
    # "Opinion | ..." but not "Analysis: ...", which is the headline's own
    if len(parts) > 1 and _key(parts[0]) in _SECTION_KEYS and seps[0].strip() in "|·•»«/~":
        parts, seps = parts[1:], seps[1:]
    cleaned = parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:], strict=True))
    return cleaned.strip(" -–—|:·•/~") or title


def _wraps(title: str, heading: str) -> bool:
    """Whether `title` is `heading` with separated segments before or after it."""
    start = title.find(heading)
    if start < 0 or len(heading) < 0.3 * len(title):
        return False
    before, after = title[:start], title[start + len(heading):]
    return ((not before or re.search(f"(?:{_SEPARATOR})$", before) is not None)
            and (not after or re.match(_SEPARATOR, after) is not None))


def _names_site(segment: str, site_names: list[str]) -> bool:
    key = _key(segment)
    # the site's name alone, or with a word or two ("Handball - Stans Online")
    return bool(key) and any(
        key == name or (len(name) >= 4 and name in key and len(key) <= len(name) + 12)
        for name in map(_key, site_names) if name)


def _key(text: str) -> str:
    """Letters and digits only, case folded: "MDR.DE" and "mdr.de" share one key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if c.isalnum())


_SECTION_KEYS = frozenset(map(_key, _SECTION_WORDS))


# --- outlet -----------------------------------------------------------------------------------


def site_names(tree: HtmlElement, sitename: str | None, url: str | None) -> list[str]:
    """What the site calls itself, most trusted first, then its host's names."""
    names = [" ".join(v.split()) for v in _META_SITE(tree)]
    names += [m.group(1) for s in _JSON_LD(tree) for m in _JSON_PUBLISHER.finditer(s)]
    if sitename:
        names.append(sitename)
    host = urlsplit(url).hostname if url else None
    if host:
        domain = extract_domain(url) or host
        names += [domain, domain.split(".")[0]]
    return [n for n in names if n]


def outlet_name(tree: HtmlElement, sitename: str | None, url: str | None) -> str | None:
    """The site's own name (og:site_name, JSON-LD publisher, application-name, the name
    trafilatura found), unless it is a template word or a bare host label; else the host."""
    host = urlsplit(url).hostname if url else None
    labels = set(host.split(".")) if host else set()
    for name in site_names(tree, sitename, None):
        name = name.strip(" @|-")
        key = name.casefold()
        if (2 <= len(name) <= 80 and key not in _TEMPLATE_NAMES and key not in labels
                and not key.startswith(("http://", "https://"))):
            return name
    return host.removeprefix("www.") if host else None


# --- authors ----------------------------------------------------------------------------------


def clean_authors(value: str | None, outlet: str | None = None) -> str | None:
    """The people among trafilatura's authors ("A; B"), joined with "; "; None when none is."""
    if not value:
        return None
    people = []
    for part in re.split(r"\s*(?:;|,|\band\b|\bund\b|&)\s*", value):
        name = re.sub(r"^(?:by|von|par|por|di|door|av)\s+", "", part.strip(), flags=re.I)
        name = name.strip(" .")
        if _is_person(name, outlet) and name not in people:
            people.append(name)
    return "; ".join(people) or None


def _is_person(name: str, outlet: str | None) -> bool:
    words = name.split()
    if not 2 <= len(words) <= 5 or any(c.isdigit() for c in name) or "@" in name:
        return False
    if _NOT_PERSON.search(name) or (outlet and _key(outlet) in _key(name)):
        return False
    named = [w for w in words if w.casefold() not in _NAME_PARTICLES]
    return len(named) >= 2 and all(
        w[0].isupper() and not (w.isupper() and len(w) > 2) for w in named if w[0].isalpha())


# --- dates ------------------------------------------------------------------------------------


def page_dates(tree: HtmlElement, url: str | None, found: str | None) -> PageDates:
    """The page's publication dates by source, and the one kept.

    `found` is htmldate's day (through trafilatura), which weighs the whole
    page; the kept time is the first stated timestamp on that day (with its
    own offset), else midnight UTC of that day. Without htmldate's day, the
    most trusted stated date is kept. A time without a zone is taken as UTC.
    """
    candidates: list[tuple[str, datetime]] = []
    stated = [("json_ld", v) for s in _JSON_LD(tree) for v in _JSON_PUBLISHED.findall(s)]
    stated += [("meta", v) for v in _META_PUBLISHED(tree)]
    stated += [("time", v) for v in _TIME_PUBLISHED(tree)]
    for source, value in stated:
        stamp = _parse(value)
        if stamp is not None and (source, stamp) not in candidates:
            candidates.append((source, stamp))
    if url and (m := _URL_DATE.search(urlsplit(url).path)):
        try:
            candidates.append(("url", datetime(*map(int, m.groups()), tzinfo=UTC)))
        except ValueError:
            pass
    day = _day(found)
    if day is None:
        chosen = next(iter(candidates), None)
        return PageDates(chosen[1] if chosen else None, chosen[0] if chosen else None,
                         tuple(candidates))
    on_day = [(s, t) for s, t in candidates if t.date() == day]
    timed = [(s, t) for s, t in on_day if s != "url" and (t.hour, t.minute, t.second) != (0,) * 3]
    if timed:
        source, chosen = timed[0]
    elif on_day:
        source, chosen = on_day[0][0], datetime(day.year, day.month, day.day, tzinfo=UTC)
    else:
        source, chosen = "text", datetime(day.year, day.month, day.day, tzinfo=UTC)
        candidates.append((source, chosen))
    return PageDates(chosen, source, tuple(candidates))


def disagree(dates: list[datetime] | tuple[datetime, ...]) -> bool:
    """Whether the dates lie more than a day apart."""
    return bool(dates) and max(dates) - min(dates) > _DISAGREE


def _parse(value: str) -> datetime | None:
    value = value.strip()
    if len(value) < 10:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z")
                                       else value)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    if not 1990 <= stamp.year <= 2100:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
