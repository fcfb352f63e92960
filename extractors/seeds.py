"""Seed files: plain-text news articles as a scraper left them, cleaned of boilerplate.

A seed file holds the text of a news page: section labels and social links
above the headline; a byline, tag line, photo credit and date line around the
standfirst; captions inside the body; republication notes, donation appeals,
related links and an author bio below it. `parse_seed_text` keeps the
headline, standfirst and body (with its section headings) by general line
rules: no rule knows a file, an outlet or a sentence. `seeds/manifest.toml`
supplies what the text does not carry.

    manifest = load_manifest(Path("seeds/manifest.toml"))
    for path in iter_seed_files(Path("seeds")):
        article = read_seed(path, manifest.get(path.name))
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from newswatch.errors import SeedFileError

from .records import Article

__all__ = [
    "DEFAULT_MAX_SEED_BYTES",
    "iter_seed_files",
    "load_manifest",
    "parse_seed_text",
    "read_seed",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_SEED_BYTES = 5_000_000

_BOM = b"\xef\xbb\xbf"
_MANIFEST_KEYS = {"title", "outlet", "published_at", "author", "url", "language"}

# --- what a line looks like -------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_BULLET = re.compile(r"^[•·▪◦‣►■●]\s*|^[*-]\s+")
_SENTENCE_END = (".", "!", "?", "…", '"', "”", "’", ")", "]")
# Held-out files start with a "source: <url>" line that is not part of the page.
_SOURCE_HEADER = re.compile(r"source:\s*(https?://\S+)", re.IGNORECASE)

# Photo captions and credits: short lines that name a picture agency or a credit marker.
_CREDIT = re.compile(
    r"©|^embed from\b|\((?:image|photo|picture|credit|source)s?:[^)]*\)"
    r"|^(?:image|photo|picture|credit|illustration)s?(?: by)?\s*:|\bphoto(?:graph)? by\b"
    r"|\b(?:getty images|shutterstock|ap photo|afp via getty|alamy)\b",
    re.IGNORECASE,
)
# Page furniture that stands alone on a line.
_UI_WORDS = {
    "by", "print", "share", "search", "tweet", "email", "e-mail", "comments", "advertisement",
    "subscribe", "menu", "close", "listen", "save", "share this", "печать", "поделиться",
}
# Labels that open a list of links; the article ends there unless prose follows.
_LINK_LABELS = {
    "top reads", "read also", "also read", "read more", "related", "related articles",
    "related stories", "related content", "related posts", "more from", "more stories",
    "recommended", "recommended for you", "most read", "most popular", "you may also like",
    "see also", "latest", "latest news", "tags", "topics", "more on this topic",
    "читайте также", "читать также", "по теме", "похожие материалы",
}
# Lines after which the article is over: republication notes, disclaimers, appeals, bios.
_ENDS_ARTICLE = re.compile(
    r"^\W*(?:this|the) (?:article|story|piece|post|report|commentary|interview)"
    r" (?:was |is |has been |first )*(?:originally |first )?"
    r"(?:published|appeared|republished|posted)\b"
    r"|^\W*the (?:views|opinions) expressed\b|^\W*about the authors?\b"
    r"|^(?:please )?(?:consider )?(?:donate|subscribe) (?:now|today)\b"
    r"|^become a (?:member|subscriber|supporter|patron)\b"
    r"|\bwe rely on\b|\bour (?:readers|journalism|independence)\b|\bsupport (?:us|our)\b"
    r"|\breader-supported\b|\bconsider (?:supporting|donating|subscribing)\b"
    r"|\byour support (?:will|helps|enables|makes)\b",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w.-]*(?:\s+(?:[A-Z][\w.-]*|&))*"
# "(Aditi Bhaduri is a columnist ...)": an author bio closing the article.
_BIO = re.compile(r"^\(\s*(?P<name>[A-Z][\w.’'-]+(?:\s+[A-Z][\w.’'-]+){1,3}) is (?:an?|the)\b")
_BYLINE = re.compile(
    r"^By\s+(?P<name>[A-Z][\w.’'-]+(?:\s+(?:[A-Z][\w.’'-]+|and|&))*)\s*(?:[,|].{0,60})?$"
)
# Where a site names itself in its own boilerplate (never in the body: quotes name others).
_OUTLET = [
    re.compile(rf"^Support\s+(?!(?:Us|Our)\b)(?P<name>{_NAME})(?:\s+by\b.*)?$"),
    re.compile(rf"\breflect\s+(?P<name>{_NAME})[’']s\s+editorial\b"),
    re.compile(rf"\bWe at\s+(?P<name>{_NAME})"),
    re.compile(rf"\bexclusive to\s+(?P<name>{_NAME})"),
    # a copyright footer, not a photo credit ("© 2022 Getty Images")
    re.compile(rf"(?:©|\bCopyright)\s*(?:©\s*)?\d{{4}}\s+(?P<name>{_NAME}).*(?i:all rights)"),
]

# --- dates ---------------------------------------------------------------------------------

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MON = r"(?P<mon>(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\.?"
_DAY_FIRST = rf"(?P<day>\d{{1,2}})\s+{_MON},?\s+(?P<year>\d{{4}})"
_MONTH_FIRST = rf"{_MON}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"
_ISO = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
_DATE_LINES = [
    re.compile(
        r"(?:(?:published|updated|posted|last updated)(?: on)?:?\s*)?"
        r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
        + pattern
        + r"(?:,?\s*(?:at\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::\d{2})?"
        r"\s*(?P<ampm>[ap]\.?m\.?)?)?\s*(?P<tz>[a-z]{1,5}|[+-]\d{2}:?\d{2})?",
        re.IGNORECASE,
    )
    for pattern in (_MONTH_FIRST, _DAY_FIRST, _ISO)
]
# UTC offsets in hours of the zone abbreviations news sites print.
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "MSK": 3, "ALMT": 6,
}


def read_seed(
    path: Path, manifest: dict | None = None, max_bytes: int = DEFAULT_MAX_SEED_BYTES
) -> Article:
    """Read one seed file and clean it; `manifest` is this file's manifest entry, if any.

    Raises SeedFileError (one line naming the file) for a file that is missing,
    empty, larger than `max_bytes` or not UTF-8. A BOM is dropped, CRLF becomes LF.
    """
    path = Path(path)
    try:
        # stat first: a runaway file must not be read into memory to be refused
        size = path.stat().st_size
        if size > max_bytes:
            raise SeedFileError(
                f"{path}: {size:,} bytes is larger than the {max_bytes:,}-byte limit for a seed",
                "too_large",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SeedFileError(f"{path}: cannot read the file: {exc.strerror}") from exc
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedFileError(
            f"{path}: not valid UTF-8 (byte offset {exc.start + skipped}); "
            "re-save the file as UTF-8",
            "not_utf8",
        ) from exc
    if not text.strip():
        what = "empty" if not text else "whitespace only"
        raise SeedFileError(f"{path}: the file is {what}, there is no article", "empty")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return parse_seed_text(path.name, text, manifest)


def parse_seed_text(name: str, raw: str, meta: dict | None = None) -> Article:
    """Clean one seed text into an Article: headline, standfirst and body joined by blank lines.

    Title, outlet, date (a date line such as "January 20, 2022 06:55 EDT"),
    author (a "By ..." byline or a closing "(X is a ...)" bio) and url (a
    "source: <url>" first line) come from the text. `meta`, a manifest entry,
    only fills the fields the text leaves empty, with two exceptions: its
    `title` replaces the headline (the manifest is written by a person who read
    the file), and its `language` replaces the text's guess ("ru" when mostly
    Cyrillic, else "en"). A manifest title is not added to `text`: text holds
    only what the file holds.
    """
    lines = [line.strip() for line in raw.split("\n")]
    # rules read lines with NBSP and runs of spaces flattened; text keeps them as written
    flat = [" ".join(line.split()) for line in lines]
    order = [i for i, line in enumerate(flat) if line]
    url = None
    if order and (header := _SOURCE_HEADER.fullmatch(flat[order[0]])):
        url, order = header.group(1), order[1:]
    cyrillic_doc = _cyrillic_share(raw) > 0.5
    noise = {i for i in order if _is_noise(flat[i], cyrillic_doc)}
    kept, title_i = _article_lines(flat, order, noise)
    if not kept:
        # better a noisy article than a lost one: the raw text stays for re-processing
        logger.warning("%s: no article text recognised, keeping every line", name)
        kept = order
    dropped = [flat[i] for i in order if i not in set(kept)]
    text = "\n\n".join(lines[i] for i in kept)
    published_at = next((d for i in order if i in noise and (d := _parse_date(flat[i]))), None)
    article = Article(
        text=text,
        raw=raw,
        title=flat[title_i] if title_i is not None else None,
        url=url,
        seed_file=name,
        outlet=_find_outlet(dropped),
        author=_find_author(dropped),
        published_at=published_at,
        published_source="text" if published_at else None,
        dates=(("text", published_at),) if published_at else (),
        language="ru" if _cyrillic_share(text) > 0.5 else "en",
    )
    if meta:
        article = _apply_meta(article, meta, name)
    logger.debug("%s: kept %d of %d lines", name, len(kept), len(order))
    return article


def load_manifest(path: Path) -> dict[str, dict]:
    """Read `seeds/manifest.toml`: {seed file name: {title, outlet, published_at, ...}}.

    A missing manifest is an empty one; a malformed one raises SeedFileError
    naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"{path}: malformed manifest: {exc}", "bad_manifest") from exc
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise SeedFileError(
                f"{path}: manifest entry {key!r} must be a table such as [\"{key}\"]",
                "bad_manifest",
            )
        if unknown := set(entry) - _MANIFEST_KEYS:
            logger.warning("%s: [%s] has unknown keys %s", path, key, sorted(unknown))
    return data


def iter_seed_files(directory: Path) -> list[Path]:
    """The *.txt files of `directory`, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SeedFileError(f"{directory}: no such seed directory")
    return sorted((p for p in directory.glob("*.txt") if p.is_file()), key=lambda p: p.name)


# --- cleaning ------------------------------------------------------------------------------


def _article_lines(
    lines: list[str], order: list[int], noise: set[int]
) -> tuple[list[int], int | None]:
    """The indices of the article's lines, and of its headline (None when it has none)."""
    body_start = next((i for i in order if i not in noise and _is_prose(lines[i])), None)
    head = [i for i in order if body_start is None or i < body_start]
    title_i = next((i for i in head if i not in noise and _is_headline(lines[i])), None)
    if title_i is None:
        # a lone short line above the body is a short headline, not a section label
        plain = [i for i in head if i not in noise and not _BULLET.match(lines[i])]
        if len(plain) == 1 and not lines[plain[0]].endswith("."):
            title_i = plain[0]
    if body_start is None:
        # no paragraph of prose: everything after the headline is the body
        rest = [i for i in order if i not in noise and (title_i is None or i > title_i)]
        body_start = rest[0] if rest else len(lines)
    kept = [] if title_i is None else [title_i]
    # between headline and body only a standfirst survives; above the headline, nothing
    kept += [
        i for i in head
        if i < body_start and i not in noise and (title_i is None or i > title_i)
        and len(_WORD.findall(lines[i])) >= 4 and not _BULLET.match(lines[i])
    ]
    end, skipped = _find_end(lines, order, noise, body_start)
    body = [i for i in order if body_start <= i < end and i not in noise and i not in skipped]
    # related headlines and bullets between the last paragraph and the footer
    while len(body) > 1 and _is_link_line(lines[body[-1]]):
        body.pop()
    return kept + body, title_i


def _find_end(
    lines: list[str], order: list[int], noise: set[int], body_start: int
) -> tuple[int, set[int]]:
    """Where the article ends, and the link lists inside it that must be skipped."""
    after = [i for i in order if i > body_start and i not in noise]
    skipped: set[int] = set()
    for n, i in enumerate(after):
        line = lines[i]
        if _ENDS_ARTICLE.search(line) or _BIO.match(line):
            return i, skipped
        if _label(line) in _LINK_LABELS:
            rest = after[n + 1:]
            stop = next((k for k, j in enumerate(rest) if _ENDS_ARTICLE.search(lines[j])),
                        len(rest))
            prose = next((j for j in rest[:stop] if _is_prose(lines[j])), None)
            if prose is None:
                return i, skipped
            # a "Read also" box inside the article: skip it up to the next paragraph
            skipped.update(j for j in [i, *rest] if j < prose)
    return len(lines), skipped


def _is_noise(line: str, cyrillic_doc: bool) -> bool:
    """Boilerplate wherever it stands: credits, dates, bylines, tag lines, page furniture."""
    words = _WORD.findall(line)
    if _label(line) in _UI_WORDS or (_BYLINE.match(line) and len(words) <= 12):
        return True
    if _CREDIT.search(line) and len(words) <= 30:
        return True
    # "Read also: <headline>" on one line
    if ":" in line and _label(line.split(":")[0]) in _LINK_LABELS and len(words) <= 25:
        return True
    if _parse_date(line) is not None or _is_tagline(line):
        return True
    # a short line in the other script is a language switch ("Читать на русском")
    return len(words) <= 8 and (_cyrillic_share(line) > 0.5) != cyrillic_doc


def _is_prose(line: str) -> bool:
    return len(_WORD.findall(line)) >= 15 and line.endswith(_SENTENCE_END)


def _is_headline(line: str) -> bool:
    words = _WORD.findall(line)
    return (4 <= len(words) <= 30 and not line.endswith(".") and not _BULLET.match(line)
            and _label(line) not in _LINK_LABELS)


def _is_link_line(line: str) -> bool:
    """A related-article link: a bullet, or a short headline without final punctuation."""
    words = _WORD.findall(line)
    return bool(_BULLET.match(line)) or (
        len(words) <= 20 and not line.endswith((*_SENTENCE_END, ":", ";"))
    )


def _is_tagline(line: str) -> bool:
    """A keyword line: five or more short comma-separated items, no final full stop."""
    items = line.split(",")
    return (len(items) >= 5 and not line.endswith((".", "!", "?"))
            and all(1 <= len(_WORD.findall(item)) <= 4 for item in items))


def _label(line: str) -> str:
    return " ".join(line.lower().rstrip(":").split())


def _cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters)


# --- metadata ------------------------------------------------------------------------------


def _parse_date(line: str) -> datetime | None:
    """The datetime of a bare date line, aware (UTC when it names no zone), else None."""
    if len(line) > 60:
        return None
    for pattern in _DATE_LINES:
        if m := pattern.fullmatch(line):
            break
    else:
        return None
    parts = m.groupdict()
    if parts.get("month"):
        month = int(parts["month"])
    else:
        month = _MONTHS.index(parts["mon"][:3].lower()) + 1
    hour, minute = int(parts["hour"] or 0), int(parts["minute"] or 0)
    if parts["ampm"]:
        hour = hour % 12 + (12 if parts["ampm"][0].lower() == "p" else 0)
    try:
        return datetime(int(parts["year"]), month, int(parts["day"]), hour, minute,
                        tzinfo=_zone(parts["tz"]))
    except ValueError:
        return None


def _zone(name: str | None) -> timezone:
    if not name:
        return UTC
    if name[0] in "+-":
        sign = -1 if name[0] == "-" else 1
        digits = name[1:].replace(":", "")
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    if name.upper() not in _ZONES:
        logger.info("unknown time zone %r in a date line: taken as UTC", name)
    return timezone(timedelta(hours=_ZONES.get(name.upper(), 0)))


def _find_outlet(dropped: list[str]) -> str | None:
    """The name a site gives itself in its boilerplate, the most frequent if several."""
    names = Counter(
        m.group("name").rstrip(".").strip()
        for line in dropped for pattern in _OUTLET if (m := pattern.search(line))
    )
    return names.most_common(1)[0][0] if names else None


def _find_author(dropped: list[str]) -> str | None:
    for line in dropped:
        if (m := _BYLINE.match(line) or _BIO.match(line)) is not None:
            return m.group("name")
    return None


def _apply_meta(article: Article, meta: dict, name: str) -> Article:
    """Fill from a manifest entry what the text did not give (see parse_seed_text)."""
    changes: dict[str, object] = {}
    for key in ("title", "language"):
        if meta.get(key):
            changes[key] = str(meta[key])
    for key in ("outlet", "author", "url"):
        if getattr(article, key) is None and meta.get(key):
            changes[key] = str(meta[key])
    if article.published_at is None and meta.get("published_at"):
        published = _meta_datetime(meta["published_at"], name)
        changes.update(published_at=published, published_source="manifest",
                       dates=(*article.dates, ("manifest", published)))
    return replace(article, **changes)


def _meta_datetime(value: object, name: str) -> datetime:
    """A manifest date: ISO string or TOML date/datetime; naive means UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise SeedFileError(
                f"manifest entry for {name}: published_at {value!r} is not an ISO date",
                "bad_manifest",
            ) from exc
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise SeedFileError(
            f"manifest entry for {name}: published_at must be a date, not {value!r}",
            "bad_manifest",
        )
    return value if value.tzinfo else value.replace(tzinfo=UTC)
