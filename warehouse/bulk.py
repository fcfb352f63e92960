"""The moves every load makes: a transaction, rows in through the Appender, a
temporary staging table shaped like a real one, and the garbage collector paused."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit when the block ends, roll back when it raises: all of a batch or none."""
    con.begin()
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise


def append(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple]) -> int:
    """Bulk-insert rows with DuckDB's Appender (never row by row); return their count."""
    if rows:
        appender = con.appender(table)
        appender.append_rows(list(rows))
        appender.flush()
    return len(rows)


def stage(con: duckdb.DuckDBPyConnection, name: str, like: str, rows: Sequence[tuple]) -> None:
    """A temporary table `name` with the columns of `like`, holding `rows`."""
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {like} LIMIT 0")
    append(con, name, rows)


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
