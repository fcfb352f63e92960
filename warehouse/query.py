"""Read-only SQL for analysts: `newswatch sql "SELECT ..."`.

An analyst's SQL reaches the warehouse and nothing else. Three guards:

- the file is opened read-only, with DuckDB's `enable_external_access` off
  (no file or network access by any function: `read_text`, `glob`, COPY,
  ATTACH, EXPORT, logging to files, installing extensions) and its
  configuration locked (no SET, no `enable_logging`, no turning it back on);
- statements other than queries are refused before they run, with a message
  that says why (EXPLAIN ANALYZE of a COPY is caught by the first guard);
- a query runs for at most `timeout` seconds and returns at most `max_rows`
  rows: the rest is cut off and said so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from newswatch.errors import QueryError, ReadOnlyQueryError, one_line

from .connection import connect

_READ_ONLY = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
}

# Given to DuckDB when the file is opened: set later, a query could unset them.
LOCKED_DOWN = {"enable_external_access": False, "lock_configuration": True}


@dataclass
class QueryResult:
    columns: list[str]
    rows: Iterator[tuple]
    truncated: bool = False   # set once `rows` is exhausted and rows were cut off


@contextmanager
def analyst_connection(path: str | Path,
                       lock_timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse read-only, with no way out of it (see the module's note)."""
    with connect(path, read_only=True, lock_timeout=lock_timeout, config=LOCKED_DOWN) as con:
        yield con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ReadOnlyQueryError unless every statement in `sql` only reads."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse the query: {one_line(exc)}") from exc
    if not statements:
        raise ReadOnlyQueryError("no SQL statement given")
    for statement in statements:
        if statement.type not in _READ_ONLY:
            kind = statement.type.name
            raise ReadOnlyQueryError(
                f"newswatch sql is read-only: refused a {kind} statement "
                "(only SELECT, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, PRAGMA and CALL run)"
            )


def run_query(con: duckdb.DuckDBPyConnection, sql: str, chunk: int = 1000, *,
              max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
    """Run a read-only query; rows stream in chunks rather than all at once.

    The clock covers reading the rows too: past `timeout` seconds DuckDB is
    interrupted and the rows end in a QueryError.
    """
    check_read_only(con, sql)
    statements = con.extract_statements(sql)
    timer = _interrupt_after(con, timeout)
    try:
        for statement in statements[:-1]:
            con.execute(statement)
        cursor = con.execute(statements[-1])
    except duckdb.Error as exc:
        timer.cancel()
        raise _query_error(exc, timeout) from exc
    columns = [d[0] for d in cursor.description or []]
    result = QueryResult(columns, iter(()))

    def rows() -> Iterator[tuple]:
        left = max_rows
        try:
            while batch := cursor.fetchmany(chunk if left is None else min(chunk, left + 1)):
                if left is not None and len(batch) > left:
                    yield from batch[:left]
                    result.truncated = True
                    return
                yield from batch
                if left is not None:
                    left -= len(batch)
        except duckdb.Error as exc:
            raise _query_error(exc, timeout) from exc
        finally:
            timer.cancel()

    result.rows = rows()
    return result


class _NoTimer:
    def cancel(self) -> None:
        pass


def _interrupt_after(con: duckdb.DuckDBPyConnection, timeout: float | None):
    if not timeout:
        return _NoTimer()
    timer = threading.Timer(timeout, con.interrupt)
    timer.daemon = True
    timer.start()
    return timer


def _query_error(exc: duckdb.Error, timeout: float | None) -> QueryError:
    if isinstance(exc, duckdb.InterruptException):
        return QueryError(f"query stopped after {timeout:g} s (the sql_timeout setting)")
    if isinstance(exc, duckdb.PermissionException):
        return QueryError("newswatch sql reads the warehouse only: no files, no network "
                          f"({one_line(exc)})")
    if isinstance(exc, duckdb.InvalidInputException) and "has been locked" in str(exc):
        return QueryError("newswatch sql cannot change settings")
    return QueryError(f"query failed: {one_line(exc)}")
