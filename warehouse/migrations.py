"""Numbered schema migrations, recorded in `schema_migrations`.

Each file `schema/NNN_name.sql` runs once, in order, in its own transaction.
A schema change is a new file, never an edit of an applied one: analysts'
queries depend on the names these files create.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

import duckdb

from newswatch.errors import WarehouseError

from .bulk import transaction

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in schema/, in order."""
    found = []
    for entry in resources.files("newswatch.warehouse").joinpath("schema").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this database has not seen; return their versions."""
    done = applied_versions(con)
    known = available_migrations()
    if done and known and max(done) > known[-1][0]:
        raise WarehouseError(
            f"the warehouse was written by a newer newswatch (schema {max(done)}; this one "
            f"knows up to {known[-1][0]}): upgrade newswatch to use it")
    applied = []
    for version, name, sql in known:
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
        log.info("applied migration %03d_%s", version, name)
        applied.append(version)
    return applied
