"""Opening the DuckDB file: storage format, the single-writer lock, migrations.

DuckDB lets one process hold the file read-write, and that blocks every other
process, readers included. The pipeline therefore opens the file only for
the few seconds it loads a batch, and a locked file is retried with backoff
before it becomes a clear `WarehouseLockedError`, never a lost batch.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newswatch.errors import (
    WarehouseError,
    WarehouseLockedError,
    WarehouseMissingError,
    one_line,
)

from .load_tuning import remember_memory_limit
from .migrations import migrate

log = logging.getLogger(__name__)

# DuckDB 2.0 writes storage version 69 by default, which the DuckDB CLI that
# installs today (1.5.x) cannot read. Write the newest format 1.5 reads, so
# analysts can open the warehouse with their own tools.
STORAGE_COMPATIBILITY = "v1.5.0"


_FIRST_DELAY = 0.05
_HOLDER = re.compile(r"lock is held in (\S+) \(PID (\d+)\)")


def _lock_holder(exc: duckdb.Error) -> str:
    """"the lock is held by PID 123 (python3.11)", from DuckDB's message."""
    match = _HOLDER.search(str(exc))
    if not match:
        return "it is locked by another process"
    return f"the lock is held by PID {match.group(2)} ({Path(match.group(1)).name})"


# DuckDB reports a failed write as an IOException, or at a checkpoint as a fatal error
# that invalidates the connection (the transaction is lost, the file stays as it was)
_WRITE_ERRORS = (duckdb.IOException, duckdb.FatalException)


def _write_failed(path: str | Path, exc: BaseException) -> WarehouseError:
    """A failed write, in the OS's words rather than DuckDB's wrapping."""
    match = re.search(r'Could not write file "[^"]*": ([^"\n]+)', str(exc))
    cause = match.group(1) if match else one_line(exc)
    return WarehouseError(f"cannot write the warehouse {path}: {cause}")


def _is_lock_error(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def open_database(
    path: str | Path,
    *,
    read_only: bool = False,
    lock_timeout: float = 30.0,
    memory_limit: str | None = None,
    merge_row_groups: bool = False,
    config: dict | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (and, read-write, create and migrate) the warehouse at `path`.

    Retries while another process holds the file, for up to `lock_timeout`
    seconds, then raises WarehouseLockedError. `memory_limit` caps DuckDB's
    own memory ("48MB"; None: DuckDB's default, 80% of the machine's RAM).

    Read-write, DuckDB's checkpoints do not merge the small row groups each
    load leaves into bigger ones (its `max_vacuum_tasks` 0) unless
    `merge_row_groups`: only `compact` merges (see warehouse/compact.py). DuckDB
    seals a load's rows in a row group of their own and merged them into the
    table's last, growing group, rewriting up to a row group of articles (tens
    of MB of text) on the load's close; the worst merges grew with the
    warehouse. Such a connection also commits straight into the file:
    otherwise its commit wrote the batch to the write-ahead log and the
    checkpoint on close wrote it again (0.2 s more for 10,000 articles).

    `config` adds DuckDB settings given at opening (warehouse/query.py locks
    analysts' connections down this way).
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseMissingError(
            f"no warehouse at {path}: run `newswatch ingest seeds` or `newswatch demo` first"
        )
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create the warehouse's folder {path.parent}: "
                                 f"{exc.strerror or exc}") from None
    config = {"storage_compatibility_version": STORAGE_COMPATIBILITY, **(config or {})}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if not merge_row_groups and not read_only:
        config["max_vacuum_tasks"] = 0
        config["checkpoint_threshold"] = "0B"  # every commit is a checkpoint
    deadline = time.monotonic() + lock_timeout
    delay = _FIRST_DELAY
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            break
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open the warehouse {path}: "
                                     f"{one_line(exc)}") from None
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by another process "
                    f"(waited {lock_timeout:.0f} s): {_lock_holder(exc)}"
                ) from exc
            if delay == _FIRST_DELAY:  # say it once, while waiting
                log.warning("waiting up to %.0f s for the warehouse %s: %s", lock_timeout, path,
                            _lock_holder(exc))
            log.debug("warehouse %s is locked, retrying in %.2f s", path, delay)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0) * random.uniform(0.8, 1.2)
    try:
        remember_memory_limit(con, memory_limit)  # for load_tuning.small_scan_cache
        if not read_only:
            migrate(con)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(
    path: str | Path, *, read_only: bool = False, lock_timeout: float = 30.0,
    memory_limit: str | None = None, merge_row_groups: bool = False,
    config: dict | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_database` as a context manager that always closes the file."""
    con = open_database(path, read_only=read_only, lock_timeout=lock_timeout,
                        memory_limit=memory_limit, merge_row_groups=merge_row_groups,
                        config=config)
    try:
        yield con
    except _WRITE_ERRORS as exc:  # a full disk, a file grown past a limit
        raise _write_failed(path, exc) from exc
    finally:
        try:
            con.close()  # a checkpoint: it writes too
        except _WRITE_ERRORS as exc:
            raise _write_failed(path, exc) from exc
