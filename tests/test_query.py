"""`newswatch sql` only reads: writes are refused before they run, with a reason."""

from __future__ import annotations

import pytest

from newswatch.errors import QueryError, ReadOnlyQueryError
from newswatch.warehouse.connection import connect
from newswatch.warehouse.query import analyst_connection, run_query


@pytest.fixture
def ro_con(db_path):
    with connect(db_path) as con:
        con.execute("INSERT INTO rejects VALUES ('a', 'read', 'empty', NULL, now()),"
                    " ('b', 'read', 'not_utf8', NULL, now())")
    with analyst_connection(db_path, lock_timeout=5) as con:
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


def _escapes(db_path, tmp_path):
    """Statements that reached past the warehouse before it was locked down."""
    secret = tmp_path / "environ"
    secret.write_text("NEWSWATCH_SMTP_PASSWORD=hunter2")
    out = tmp_path / "out"
    return [
        f"EXPLAIN ANALYZE COPY (SELECT 'gone') TO '{db_path}'",
        f"EXPLAIN ANALYZE COPY (SELECT 'new') TO '{out}.csv'",
        f"SELECT * FROM read_text('{secret}')",
        f"SELECT * FROM read_blob('{secret}')",
        f"SELECT * FROM read_csv('{secret}')",
        f"FROM glob('{tmp_path}/*')",
        "SELECT * FROM read_text('/proc/self/environ')",
        f"CALL enable_logging('QueryLog', storage='file', storage_config={{'path': '{out}'}})",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    ]


def test_no_statement_reaches_past_the_warehouse(db_path, tmp_path):
    with connect(db_path) as con:
        con.execute("INSERT INTO rejects VALUES ('a', 'read', 'empty', NULL, now())")
    before = db_path.read_bytes()
    with analyst_connection(db_path, lock_timeout=5) as con:
        for sql in _escapes(db_path, tmp_path):
            with pytest.raises(QueryError) as caught:
                list(run_query(con, sql).rows)
            assert "hunter2" not in str(caught.value), sql
            assert "\n" not in str(caught.value)
        # still usable, still the same warehouse
        assert list(run_query(con, "SELECT item FROM rejects").rows) == [("a",)]
    assert db_path.read_bytes() == before
    assert not [p for p in tmp_path.rglob("out*")]


def test_rows_past_the_limit_are_cut_off_and_said_so(ro_con):
    result = run_query(ro_con, "SELECT * FROM range(10)", chunk=3, max_rows=4)
    assert [r[0] for r in result.rows] == [0, 1, 2, 3]
    assert result.truncated
    whole = run_query(ro_con, "SELECT * FROM range(4)", chunk=3, max_rows=4)
    assert len(list(whole.rows)) == 4 and not whole.truncated


def test_a_query_past_the_time_limit_is_stopped(ro_con):
    slow = "SELECT count(*) FROM range(100000000000) a WHERE hash(a.range) % 7 = 99"
    with pytest.raises(QueryError, match=r"stopped after 0.5 s \(the sql_timeout setting\)"):
        list(run_query(ro_con, slow, timeout=0.5).rows)
    assert list(run_query(ro_con, "SELECT 1", timeout=0.5).rows) == [(1,)]
