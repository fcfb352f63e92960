"""Typed records that leave extractors/: plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Mention:
    """One span of an article's text that names a watched entity.

    `form` is "name" for a mention proper, "demonym" for a demonym or metonym
    (Kazakh, Kremlin) that the watchlist asks to count apart.
    Offsets are Python str indices into the article's text, clitics excluded.
    """

    entity_id: str
    surface: str
    start_char: int
    end_char: int
    sentence: str
    form: str = "name"


class Span(NamedTuple):
    """Where a text names a watched entity, as the digest reads a mention back: its
    entity and offsets (a tuple: the digest of a busy day reads tens of thousands)."""

    entity_id: str
    start_char: int
    end_char: int
    form: str = "name"


@dataclass(frozen=True, slots=True)
class PersonMention:
    """A person the text names who is not a watched entity (extractors.people).

    `name` is the fullest form the text gives ("Jennifer Brick Murtazashvili"
    for "Murtazashvili"); `cue` is what marks it as a person: "speech",
    "title", "role", or "same_text" for a surname whose full name came before.
    """

    name: str
    surface: str
    start_char: int
    end_char: int
    sentence: str
    cue: str
    near_watched: bool


@dataclass(frozen=True, slots=True)
class Quote:
    """A quotation and the speaker the text gives for it."""

    speaker: str
    text: str
    start_char: int
    end_char: int
    score: float


@dataclass(frozen=True, slots=True)
class Article:
    """An article as extraction leaves it, before it has an id in the warehouse.

    Frozen: each step that adds to it (annotate, the extraction worker, a seed
    manifest, the flow that knows the address fetched) returns a new one with
    `dataclasses.replace`.

    `text` is the clean article (headline, standfirst, body); `raw` keeps the
    original bytes decoded as text (a seed file, or a page's HTML) so that a
    better extractor can re-process it.
    """

    text: str
    raw: str
    title: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    seed_file: str | None = None
    outlet: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    # where published_at came from (page_meta.DATE_SOURCES) and every date the
    # page states, as (source, time) pairs
    published_source: str | None = None
    dates: tuple[tuple[str, datetime], ...] = ()
    language: str | None = None
    mentions: tuple[Mention, ...] = ()
    people: tuple[PersonMention, ...] = ()
    quotes: tuple[Quote, ...] = ()
    # what story matching reads (newswatch.stories: the copy Fingerprint of the
    # text, its Terms, the lead sentences of the body) and identity's content_hash
    # of text, when computed ahead (in a worker process, on every core)
    fingerprint: object | None = None
    terms: object | None = None
    lead: object | None = None
    text_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """An input that could not be ingested, and why: recorded, never dropped silently."""

    item: str
    stage: str
    reason: str
    detail: str = ""
