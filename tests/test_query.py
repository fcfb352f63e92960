"""`newswatch sql` only reads: writes are refused before they run, with a reason."""

from __future__ import annotations

import pytest

from newswatch.errors import QueryError, ReadOnlyQueryError
from newswatch.warehouse.connection import connect
from newswatch.warehouse.query import run_query


@pytest.fixture
def ro_con(db_path):
    with connect(db_path) as con:
        con.execute("INSERT INTO rejects VALUES ('a', 'read', 'empty', NULL, now()),"
                    " ('b', 'read', 'not_utf8', NULL, now())")
    with connect(db_path, read_only=True) as con:
        yield con


def test_select_streams_rows(ro_con):
    result = run_query(ro_con, "SELECT item, reason FROM rejects ORDER BY item", chunk=1)
    assert result.columns == ["item", "reason"]
    assert list(result.rows) == [("a", "empty"), ("b", "not_utf8")]


@pytest.mark.parametrize("sql", [
    "SHOW TABLES", "DESCRIBE articles", "FROM rejects", "SUMMARIZE rejects",
    "WITH x AS (SELECT 1 AS n) SELECT n FROM x", "EXPLAIN SELECT 1",
])
def test_reading_statements_run(ro_con, sql):
    result = run_query(ro_con, sql)
    assert result.columns
    list(result.rows)


@pytest.mark.parametrize("sql, kind", [
    ("DELETE FROM rejects", "DELETE"),
    ("INSERT INTO rejects VALUES ('c', 'x', 'y', NULL, now())", "INSERT"),
    ("UPDATE articles SET title = 'x'", "UPDATE"),
    ("DROP TABLE articles", "DROP"),
    ("CREATE TABLE t (a INT)", "CREATE"),
    ("COPY rejects TO '/tmp/out.csv'", "COPY"),
    ("ATTACH '/tmp/other.duckdb' AS other", "ATTACH"),
    ("SELECT 1; DELETE FROM rejects", "DELETE"),
])
def test_writes_are_refused_with_the_statement_kind(ro_con, sql, kind):
    with pytest.raises(ReadOnlyQueryError, match=f"read-only: refused a {kind}"):
        run_query(ro_con, sql)
    assert len(list(run_query(ro_con, "FROM rejects").rows)) == 2


def test_a_broken_query_is_a_query_error(ro_con):
    with pytest.raises(QueryError, match="parse"):
        run_query(ro_con, "SELEC nothing")
    with pytest.raises(QueryError, match="no_such_table"):
        run_query(ro_con, "SELECT * FROM no_such_table")
