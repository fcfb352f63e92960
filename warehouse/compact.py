"""Merging the small row groups that loads leave: a maintenance step of its own.

Loads open the warehouse with DuckDB's merging of row groups off (see
connect): each leaves its rows in a row group of their own, and merging them
into the table's last, growing one cost a load more the more the warehouse
held (seconds, and tens of MB, at a run's end). `compact` merges them instead,
once a day in the digest flow or with `newswatch compact`. Scans read
unmerged row groups of 500 rows about as fast as merged ones (a full-text
ILIKE over 60,000 articles: 0.88 s against 0.72 s), so a day of them costs
queries little.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from newswatch.errors import WarehouseMissingError

from .bulk import transaction
from .connection import connect

log = logging.getLogger(__name__)

ROW_GROUP_SIZE = 122_880  # DuckDB's: a full row group is left alone


@dataclass
class CompactResult:
    """What `compact` merged: row groups per table, before and after, and its time."""

    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def merged(self) -> int:
        """Row groups merged away."""
        return sum(self.before[t] - self.after.get(t, self.before[t]) for t in self.before)


def partial_row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The table's row groups that hold fewer rows than a full one."""
    return con.execute(
        "SELECT count(*) FROM (SELECT row_group_id, max(count) AS n"
        f" FROM pragma_storage_info('{table}') GROUP BY row_group_id) WHERE n < ?",
        [ROW_GROUP_SIZE]).fetchall()[0][0]


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's own tables (no temporary ones), without a key index: DuckDB
    does not merge a table with one, and those are the few small ones."""
    return [name for (name,) in con.execute(
        "SELECT t.table_name FROM duckdb_tables() t WHERE t.database_name = current_database()"
        " AND NOT t.temporary AND t.schema_name = 'main' AND NOT EXISTS (SELECT 1 FROM"
        " duckdb_indexes() i WHERE i.table_oid = t.table_oid) AND NOT EXISTS (SELECT 1 FROM"
        " duckdb_constraints() c WHERE c.table_oid = t.table_oid"
        " AND c.constraint_type IN ('PRIMARY KEY', 'UNIQUE')) ORDER BY t.table_name"
    ).fetchall()]


def compact(path: str | Path, *, lock_timeout: float = 30.0,
            memory_limit: str | None = None) -> CompactResult:
    """Merge every table's partly filled row groups, a table at a time.

    DuckDB merges row groups only in a checkpoint after an append to the table,
    and has no statement for it: the table's last row is taken out and put back
    in one transaction (the table holds the same rows after it), then a
    checkpoint merges. A table with at most one partial row group is left alone.
    """
    if not Path(path).exists():
        raise WarehouseMissingError(f"no warehouse at {path}: nothing to compact")
    result = CompactResult()
    started = time.perf_counter()
    with connect(path, lock_timeout=lock_timeout, memory_limit=memory_limit,
                 merge_row_groups=True) as con:
        tables = _tables(con)
        result.before = {t: n for t in tables if (n := partial_row_groups(con, t)) >= 2}
        for table in result.before:
            # (a checkpoint may merge other tables' row groups too: count again)
            if partial_row_groups(con, table) < 2:
                continue
            last = f"(SELECT max(rowid) FROM {table})"
            with transaction(con):
                con.execute(f"CREATE TEMP TABLE compact_row AS SELECT * FROM {table}"
                            f" WHERE rowid = {last}")
                con.execute(f"DELETE FROM {table} WHERE rowid = {last}")
                con.execute(f"INSERT INTO {table} SELECT * FROM compact_row")
                con.execute("DROP TABLE compact_row")
            con.execute("CHECKPOINT")
        result.after = {t: partial_row_groups(con, t) for t in result.before}
    for table, before in result.before.items():
        log.info("compacted %s: %d partial row groups to %d", table, before,
                 result.after[table])
    result.seconds = time.perf_counter() - started
    return result
