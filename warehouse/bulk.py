"""The moves every load makes: a transaction, rows in through the Appender, a
temporary staging table shaped like a real one. (What a load does for speed and
memory, not for its result, is in load_tuning.)"""

from __future__ import annotations

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
