"""The watchlist: the entities a story follows, read from a TOML file.

    [[entity]]
    id = "tokayev"
    name = "Kassym-Jomart Tokayev"
    kind = "PERSON"
    aliases = ["Tokayev"]
    transliterations = ["Tokaev"]
    cyrillic = ["Токаев"]

`seeds/watchlist.toml` documents every field. A malformed file raises
`WatchlistError` naming the file and the line to fix.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

from newswatch.errors import WatchlistError

__all__ = ["KINDS", "Entity", "Watchlist", "load_watchlist", "parse_watchlist"]

log = logging.getLogger(__name__)

KINDS = frozenset({"ORG", "GPE", "PERSON", "LOC"})

_REQUIRED = ("id", "name", "kind")
_NAME_LISTS = ("aliases", "transliterations", "cyrillic")
_LISTS = (*_NAME_LISTS, "demonyms", "not_after", "not_before")
_KEYS = frozenset(_REQUIRED + _LISTS)
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
# tomllib keeps no positions, so lines are found again by scanning the text.
_HEADER_RE = re.compile(r"\s*\[\[?\s*[^\[\]]+\]\]?\s*(?:#.*)?$")
_ENTITY_HEADER_RE = re.compile(r"\s*\[\[\s*(?:entity|\"entity\"|'entity')\s*\]\]")
_TOML_LINE_RE = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_TOML_END_RE = re.compile(r"\s*\(at end of document\)$")


@dataclass(frozen=True, slots=True)
class Entity:
    """A watched entity. `aliases` holds every name form to match, `name` included."""

    entity_id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    demonyms: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Watchlist:
    """The entities of one watchlist file; `digest` changes whenever the file does."""

    entities: tuple[Entity, ...]
    digest: str

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    def by_id(self, entity_id: str) -> Entity:
        """The entity with this id; KeyError if the watchlist has none."""
        for entity in self.entities:
            if entity.entity_id == entity_id:
                return entity
        raise KeyError(entity_id)


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and check a watchlist file."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise WatchlistError(where, None, "no such file") from None
    except OSError as exc:
        raise WatchlistError(where, None, f"cannot read the file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WatchlistError(
            where, line, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return parse_watchlist(text, where)


def parse_watchlist(text: str, path: str = "<watchlist>") -> Watchlist:
    """Parse and check watchlist TOML; `path` only names the source in errors."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    body = text.removeprefix("\ufeff")  # editors on Windows add a BOM that TOML rejects
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, body, path) from None
    lines = _Lines(body)

    for key in data:
        if key != "entity":
            raise WatchlistError(
                path, lines.top_key(key), f"unknown top-level key {key!r}; use [[entity]] tables"
            )
    tables = data.get("entity")
    if tables is None:
        raise WatchlistError(path, None, "no [[entity]] tables")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise WatchlistError(path, lines.top_key("entity"), "'entity' must be [[entity]] tables")

    entities: list[Entity] = []
    ids: set[str] = set()
    owners: dict[str, str] = {}  # alias or demonym -> entity id, to reject ambiguous forms
    for index, table in enumerate(tables):
        entity = _entity(table, index, lines, path)
        if entity.entity_id in ids:
            raise WatchlistError(
                path, lines.key(index, "id"), f"duplicate entity id {entity.entity_id!r}"
            )
        ids.add(entity.entity_id)
        for key, forms in _form_fields(table):
            for form in forms:
                owner = owners.setdefault(form, entity.entity_id)
                if owner != entity.entity_id:
                    raise WatchlistError(
                        path,
                        lines.value(index, key, form),
                        f"{form!r} is already a form of {owner!r}; a form names one entity",
                    )
        clash = set(entity.aliases) & set(entity.demonyms)
        if clash:
            form = sorted(clash)[0]
            raise WatchlistError(
                path,
                lines.value(index, "demonyms", form),
                f"{form!r} is listed both as a name and as a demonym",
            )
        entities.append(entity)
    log.debug("watchlist %s: %d entities", path, len(entities))
    return Watchlist(entities=tuple(entities), digest=digest)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: str) -> WatchlistError:
    message = str(exc)
    if m := _TOML_LINE_RE.search(message):
        return WatchlistError(path, int(m.group(1)), f"TOML syntax: {message[: m.start()]}")
    if m := _TOML_END_RE.search(message):
        line = text.rstrip("\n").count("\n") + 1
        return WatchlistError(path, line, f"TOML syntax: {message[: m.start()]} (at end of file)")
    return WatchlistError(path, None, f"TOML syntax: {message}")


def _entity(table: dict, index: int, lines: _Lines, path: str) -> Entity:
    for key in table:
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise WatchlistError(
                path, lines.key(index, key), f"unknown key {key!r} in [[entity]] (known: {known})"
            )
    values: dict[str, str] = {}
    for key in _REQUIRED:
        value = table.get(key)
        if value is None:
            raise WatchlistError(path, lines.entity(index), f"[[entity]] has no {key!r}")
        if not isinstance(value, str) or not value.strip():
            raise WatchlistError(path, lines.key(index, key), f"{key!r} must be a non-empty string")
        values[key] = value.strip()
    if not _ID_RE.fullmatch(values["id"]):
        raise WatchlistError(
            path,
            lines.key(index, "id"),
            f"id {values['id']!r}: use lowercase letters, digits and '_' (e.g. 'tokayev')",
        )
    if values["kind"] not in KINDS:
        raise WatchlistError(
            path,
            lines.key(index, "kind"),
            f"unknown kind {values['kind']!r} (one of {', '.join(sorted(KINDS))})",
        )
    lists = {key: _string_list(table, key, index, lines, path) for key in _LISTS}
    if not any(ch.isalnum() for ch in values["name"]):
        raise WatchlistError(path, lines.key(index, "name"), "name has no letter or digit")
    names = [values["name"]]
    for key in _NAME_LISTS:
        names.extend(lists[key])
    return Entity(
        entity_id=values["id"],
        name=values["name"],
        kind=values["kind"],
        aliases=tuple(dict.fromkeys(names)),  # dedupe, keep the file's order
        demonyms=tuple(dict.fromkeys(lists["demonyms"])),
        not_after=tuple(lists["not_after"]),
        not_before=tuple(lists["not_before"]),
    )


def _string_list(table: dict, key: str, index: int, lines: _Lines, path: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise WatchlistError(
            path, lines.key(index, key), f'{key!r} must be a list of strings, e.g. ["..."]'
        )
    out = []
    for item in value:
        if not isinstance(item, str):
            raise WatchlistError(
                path, lines.key(index, key), f"{key!r} must hold strings only, not {item!r}"
            )
        if not item.strip():
            raise WatchlistError(path, lines.value(index, key, item), f"empty string in {key!r}")
        if not any(ch.isalnum() for ch in item):
            raise WatchlistError(
                path, lines.value(index, key, item), f"{item!r} in {key!r} has no letter or digit"
            )
        out.append(item.strip())
    return out


def _form_fields(table: dict) -> Iterator[tuple[str, list[str]]]:
    yield "name", [table["name"].strip()]
    for key in (*_NAME_LISTS, "demonyms"):
        yield key, [item.strip() for item in table.get(key, [])]


class _Lines:
    """Line numbers of entity headers, keys and values, found by scanning the text."""

    def __init__(self, text: str):
        self.lines = text.split("\n")  # tomllib counts "\n" only
        self.headers = [i for i, line in enumerate(self.lines) if _ENTITY_HEADER_RE.match(line)]

    def entity(self, index: int) -> int | None:
        """1-based line of the index-th [[entity]] header (of `entity =` if inline)."""
        return self.headers[index] + 1 if index < len(self.headers) else self.top_key("entity")

    def key(self, index: int, key: str) -> int | None:
        """Line of `key = ` inside the index-th entity, else of its header."""
        found = self._find_key(index, key)
        return found + 1 if found is not None else self.entity(index)

    def value(self, index: int, key: str, value: str) -> int | None:
        """Line holding `value` in the list under `key` (lists may span lines)."""
        start = self._find_key(index, key)
        if start is None:
            return self.entity(index)
        end = self._block(index)[1]
        quoted = (f'"{value}"', f"'{value}'")
        for i in range(start, end):
            if any(q in self.lines[i] for q in quoted):
                return i + 1
        return start + 1

    def top_key(self, key: str) -> int | None:
        pattern = _key_re(key)
        for i, line in enumerate(self.lines):
            if _HEADER_RE.match(line):
                break
            if pattern.match(line):
                return i + 1
        for i, line in enumerate(self.lines):
            if _HEADER_RE.match(line) and key in line:
                return i + 1
        return None

    def _block(self, index: int) -> tuple[int, int]:
        if index >= len(self.headers):
            return 0, 0
        start = self.headers[index] + 1
        end = start
        while end < len(self.lines) and not _HEADER_RE.match(self.lines[end]):
            end += 1
        return start, end

    def _find_key(self, index: int, key: str) -> int | None:
        start, end = self._block(index)
        pattern = _key_re(key)
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i
        return None


def _key_re(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"\s*(?:{k}|\"{k}\"|'{k}')\s*=")
