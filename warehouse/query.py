"""Read-only SQL for analysts: `newswatch sql "SELECT ..."`.

Two guards: statements other than queries are refused before they run, with
a message that says why, and the file is opened read-only anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from newswatch.errors import QueryError, ReadOnlyQueryError

_READ_ONLY = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
}


@dataclass
class QueryResult:
    columns: list[str]
    rows: Iterator[tuple]


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ReadOnlyQueryError unless every statement in `sql` only reads."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryError(f"cannot parse the query: {exc}") from exc
    if not statements:
        raise ReadOnlyQueryError("no SQL statement given")
    for statement in statements:
        if statement.type not in _READ_ONLY:
            kind = statement.type.name
            raise ReadOnlyQueryError(
                f"newswatch sql is read-only: refused a {kind} statement "
                "(only SELECT, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, PRAGMA and CALL run)"
            )


def run_query(con: duckdb.DuckDBPyConnection, sql: str, chunk: int = 1000) -> QueryResult:
    """Run a read-only query; rows stream in chunks rather than all at once."""
    check_read_only(con, sql)
    statements = con.extract_statements(sql)
    try:
        for statement in statements[:-1]:
            con.execute(statement)
        cursor = con.execute(statements[-1])
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from exc
    columns = [d[0] for d in cursor.description or []]

    def rows() -> Iterator[tuple]:
        while batch := cursor.fetchmany(chunk):
            yield from batch

    return QueryResult(columns, rows())
