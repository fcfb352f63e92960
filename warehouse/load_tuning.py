"""What a load does for speed and memory, not for its result: Python's garbage
collector paused while it allocates, and DuckDB's cache of table blocks kept
small while it scans the warehouse's keys. Measurements: docs/performance.md."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)

# What DuckDB may use while a load scans the warehouse's keys, beyond what the
# load's transaction holds: the blocks the scans read and the joins' own working
# memory (see small_scan_cache). 16 MiB proved too tight: a join's allocation of
# 7.9 MiB failed with 9.1 MiB in use, and an out-of-memory error aborts the
# load's whole transaction.
SCAN_MEMORY_BYTES = 48 * 2**20
# DuckDB's memory units: "MB" is 10^6 bytes (how limits are configured, "48MB"),
# "MiB" 2^20 (how DuckDB shows them, "45.7 MiB")
_UNITS = {"b": 1, "bytes": 1, "kb": 10**3, "kib": 2**10, "mb": 10**6, "mib": 2**20,
          "gb": 10**9, "gib": 2**30, "tb": 10**12, "tib": 2**40}
_LIMIT_VARIABLE = "newswatch_memory_limit"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a bulk load.

    A batch allocates millions of rows and finds no cycles among them, yet each
    of the collector's passes walks the live objects: about 1.8 s of a load of
    100,000 articles went to passes that found nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def small_scan_cache(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep DuckDB's cache of table blocks small while the block's statements run.

    A load's anti-joins read the key columns of every row group, and each load
    leaves row groups of its own whose small key segments share 256 KiB blocks
    with other columns: about 0.4 MB of blocks for each 500 articles held.
    DuckDB keeps every block it read until its memory limit presses, so a
    load's memory grew with the warehouse up to the limit. In the block the
    limit is what the load holds besides table blocks plus SCAN_MEMORY_BYTES,
    room for the joins' hash tables and a small cache; the scans then drop the
    blocks they read (the operating system's page cache
    keeps them cheap to read again), and the limit is put back after.

    The limit is set through a cursor: should DuckDB refuse it, only the
    cursor's statement fails, not the load's transaction, and the load goes on
    with the usual cache.
    """
    restore = _configured_memory_limit(con)
    cursor = con.cursor()
    capped = False
    try:
        held = cursor.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()"
            " WHERE tag <> 'BASE_TABLE'").fetchall()[0][0]
        limit = held + SCAN_MEMORY_BYTES
        if limit < _bytes(restore):
            capped = _set_memory_limit(cursor, f"{limit}B")
        yield
    finally:
        if capped:
            _set_memory_limit(cursor, restore)
        cursor.close()


def remember_memory_limit(con: duckdb.DuckDBPyConnection, limit: str | None) -> str:
    """Note (and return) the connection's memory limit as configured ("48MB"),
    for small_scan_cache to put back: DuckDB shows it rounded down to a tenth
    of a unit, and what it shows, set again, shows a little lower."""
    limit = limit or con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET VARIABLE {_LIMIT_VARIABLE} = ?", [limit])
    return limit


def _configured_memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    kept = con.execute(f"SELECT getvariable('{_LIMIT_VARIABLE}')").fetchall()[0][0]
    # (None: a connection not opened by warehouse.connection)
    return kept if kept is not None else remember_memory_limit(con, None)


def _bytes(limit: str) -> float:
    """A DuckDB memory limit, configured ("48MB") or shown ("45.7 MiB"), in bytes;
    infinite if unreadable."""
    match = re.fullmatch(r"([0-9.]+)\s*([a-z]+)", limit.strip().lower())
    return float(match[1]) * _UNITS[match[2]] if match and match[2] in _UNITS else float("inf")


def _set_memory_limit(cursor: duckdb.DuckDBPyConnection, limit: str) -> bool:
    try:
        cursor.execute(f"SET memory_limit = '{limit}'")
    except duckdb.Error as exc:
        log.warning("could not set DuckDB's memory limit to %s: %s", limit, exc)
        return False
    return True
