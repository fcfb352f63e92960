"""Compaction: loads leave a row group each; `compact` merges them, rows unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import hold_lock, load
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.errors import WarehouseLockedError, WarehouseMissingError
from newswatch.extractors.records import Article, Mention
from newswatch.warehouse.compact import compact, partial_row_groups
from newswatch.warehouse.connection import connect

TABLES = ("articles", "mentions", "raw_documents", "article_fingerprints", "story_links")
COMPARED = (*TABLES, "rejects", "entities")  # whose rows must survive compaction unchanged


def _load(db_path, batches: int, size: int = 40, first: int = 0) -> None:
    start = datetime(2022, 1, 5, tzinfo=UTC)
    for batch in range(first, first + batches):
        articles = []
        for i in range(size):
            text = (f"Tokayev spoke in Almaty on day {batch}, item {i}. "
                    + " ".join(f"w{batch}x{i}x{k}" for k in range(60)))
            articles.append(Article(
                text=text, raw=f"<p>{text}</p>", url=f"https://a.example/{batch}/{i}",
                title=f"Item {batch}-{i}", published_at=start + timedelta(hours=batch),
                mentions=[Mention("tokayev", "Tokayev", 0, 7, text)]))
        with connect(db_path) as con:  # as every load opens the file: no merging
            load(con, articles, now=start + timedelta(hours=batch))


def _contents(db_path) -> dict[str, list]:
    with connect(db_path, read_only=True) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in COMPARED}


def test_loads_leave_a_row_group_each_and_compact_merges_them(db_path):
    _load(db_path, batches=4)
    with connect(db_path, read_only=True) as con:
        before = partial_row_groups(con, "articles")
    rows = _contents(db_path)
    assert before == 4 and len(rows["articles"]) == 160

    result = compact(db_path)

    assert result.before["articles"] == 4 and result.after["articles"] == 1
    assert result.before["mentions"] == 4 and result.after["mentions"] == 1
    assert result.merged >= 6
    assert _contents(db_path) == rows  # the same rows, none lost or doubled
    with connect(db_path, read_only=True) as con:
        assert all(partial_row_groups(con, t) <= 1 for t in TABLES)
    assert compact(db_path).before == {}  # nothing left to merge


def test_loads_after_a_compaction_add_row_groups_again(db_path):
    _load(db_path, batches=2)
    compact(db_path)
    _load(db_path, batches=1)  # batch 0 again: all held, nothing added
    _load(db_path, batches=1, first=2)
    with connect(db_path, read_only=True) as con:
        assert partial_row_groups(con, "articles") == 2
        held = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    assert held == 120
    assert compact(db_path).after["articles"] == 1


def test_compacting_a_missing_warehouse_says_so(tmp_path):
    with pytest.raises(WarehouseMissingError, match="nothing to compact"):
        compact(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


def test_a_locked_warehouse_is_not_compacted_and_loses_nothing(db_path):
    _load(db_path, batches=2)
    rows = _contents(db_path)
    holder = hold_lock(db_path, 5.0)
    try:
        with pytest.raises(WarehouseLockedError):
            compact(db_path, lock_timeout=0.3)
    finally:
        holder.kill()
        holder.wait()
    assert _contents(db_path) == rows


def test_the_compact_command_prints_what_it_merged(db_path):
    _load(db_path, batches=3)
    result = CliRunner().invoke(app, ["--db", str(db_path), "compact"])
    assert result.exit_code == 0, result.output
    assert "articles: 3 partial row groups -> 1" in result.output
    assert "row groups merged" in result.output
    with connect(db_path, read_only=True) as con:
        assert partial_row_groups(con, "articles") == 1
