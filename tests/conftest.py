"""Shared fixtures: a fresh DuckDB file, the seed files, a Prefect test harness."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

# tests/gold.py and other helpers import as plain modules
sys.path.insert(0, str(pathlib.Path(__file__).parent))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

# a real SMTP server (aiosmtpd) with TLS and login, for any test that asks for it
pytest_plugins = ["smtp_server"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

_HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_lock(path: pathlib.Path, seconds: float) -> subprocess.Popen:
    """A second process holding the warehouse read-write for `seconds`, once it holds it."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def load(con, articles, *, now=None, recent=None, **options):
    """`warehouse.load.load_batch` with story matching, as the flows call it
    (`recent`: a run's RecentStories, kept from one batch to the next)."""
    from functools import partial

    from newswatch.flows.stories import RecentStories
    from newswatch.warehouse.load import load_batch

    recent = recent or RecentStories()
    return load_batch(con, articles, partial(recent.decide, con), now=now, **options)


@pytest.fixture
def db_path(tmp_path: pathlib.Path) -> pathlib.Path:
    """Where a fresh warehouse file goes (created on first open)."""
    return tmp_path / "warehouse" / "newswatch.duckdb"


@pytest.fixture
def seeds_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """A private copy of seeds/ that a test may add bad files to."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver on 127.0.0.1, not "localhost" (which may also mean ::1)."""
    return ("127.0.0.1", 0)
