"""Opening the warehouse: a format today's DuckDB CLI reads, and the single-writer lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import hold_lock, load

from newswatch.errors import WarehouseLockedError, WarehouseMissingError
from newswatch.warehouse.connection import connect

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"

def test_duckdb_cli_1_5_reads_the_warehouse(db_path):
    with connect(db_path) as con:
        con.execute("INSERT INTO rejects VALUES ('x.txt', 'read', 'empty', 'empty file', now())")
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith("v1.5"), version
    out = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", str(db_path),
         "-c", "SELECT item, reason FROM rejects"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "x.txt,empty" in out.stdout


def test_locked_file_is_retried_then_opened(db_path):
    connect(db_path).__enter__().close()  # create it
    holder = hold_lock(db_path, 1.0)
    started = time.monotonic()
    with connect(db_path, lock_timeout=20) as con:
        assert con.execute("SELECT 42").fetchall() == [(42,)]
    assert time.monotonic() - started > 0.3  # it did wait for the holder
    holder.wait(timeout=10)


def test_locked_file_gives_a_clear_error_after_the_timeout(db_path):
    connect(db_path).__enter__().close()
    holder = hold_lock(db_path, 5.0)
    try:
        with pytest.raises(WarehouseLockedError, match="locked by another process"):
            with connect(db_path, lock_timeout=0.5):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_reading_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(WarehouseMissingError, match="newswatch demo"):
        with connect(tmp_path / "none.duckdb", read_only=True):
            pass


def test_a_load_can_cap_duckdb_s_memory(db_path):
    # ingest urls loads with settings.load_memory_limit: DuckDB must take the cap
    from newswatch.config import load_settings

    limit = load_settings().load_memory_limit
    assert limit == "128MB"
    with connect(db_path, memory_limit=limit) as con:
        capped = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    with connect(db_path) as con:
        default = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert capped in ("128.0 MiB", "122.0 MiB") and capped != default


def test_a_load_connection_writes_its_commit_into_the_file_not_the_log(db_path):
    # A batch written to the write-ahead log at commit is written again by the
    # checkpoint on close: loads (which do not merge row groups) skip the log.
    from newswatch.extractors.records import Article

    wal = db_path.with_name(db_path.name + ".wal")

    def load_one(batch: int, **options) -> int:
        articles = [Article(text=f"Article {batch}-{i}, long enough to be one." * 3,
                            raw="<p>x</p>", url=f"https://a.example/{batch}/{i}")
                    for i in range(50)]
        with connect(db_path, **options) as con:
            load(con, articles)
            return wal.stat().st_size if wal.exists() else 0  # before the close

    assert load_one(0) == 0
    assert load_one(1, merge_row_groups=True) > 0  # compaction's connection keeps it
    with connect(db_path, read_only=True) as con:
        held = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    assert held == 100


def test_a_wait_for_the_lock_says_who_holds_it(db_path):
    """From the command line: one line while waiting, naming the holder's PID."""
    with connect(db_path):
        pass
    holder = hold_lock(db_path, 2.0)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "newswatch", "--db", str(db_path), "sql", "SELECT 42 AS n",
             "--format", "csv"], capture_output=True, text=True, timeout=60,
            env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "20"})
    finally:
        holder.wait(10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "42"]
    waiting = [line for line in result.stderr.splitlines() if "waiting" in line]
    assert len(waiting) == 1, result.stderr
    assert waiting[0].startswith(f"newswatch: waiting up to 20 s for the warehouse {db_path}")
    assert f"the lock is held by PID {holder.pid} (" in waiting[0]
