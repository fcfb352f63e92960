"""Every failure is one clear line on stderr and the right exit code, never a traceback:
through the real command, in a process of its own, flows included."""

from __future__ import annotations

import logging
import os
import re
import resource
import signal
import socket
import subprocess
import sys
from functools import partial

import pytest
from conftest import SEEDS

from newswatch.warehouse.connection import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Prefect's progress lines, which may surround the error line (DEBUG too: a test
# earlier in the same worker may have left the root logger at DEBUG)
_PREFECT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| (DEBUG|INFO|WARNING) ")


def _in_process(capfd, monkeypatch, *args: str, env: dict[str, str] | None = None,
                ) -> subprocess.CompletedProcess:
    """The console script's entry point, run here (no interpreter start-up, no
    Prefect server): stdout and stderr as the file descriptors saw them."""
    from newswatch.cli import main

    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["newswatch", *args])
    # Prefect's console handlers keep the stream of the test that configured them:
    # point them at file descriptor 2, which capfd reads
    for handler in {*logging.getLogger().handlers, *logging.getLogger("prefect").handlers}:
        if hasattr(handler, "console"):
            monkeypatch.setattr(handler.console, "file", sys.__stderr__)
            monkeypatch.setattr(handler, "stream", sys.__stderr__)
    capfd.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def _newswatch(*args: str, env: dict[str, str] | None = None, limit_file_bytes: int = 0,
               ) -> subprocess.CompletedProcess:
    """In a process of its own: what a user meets, to the interpreter's exit."""
    from prefect.settings import PREFECT_API_URL

    def limit() -> None:  # a full disk, as the process meets it: writes fail
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "newswatch", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **(env or {})},
        preexec_fn=limit if limit_file_bytes else None)


def _one_error_line(result: subprocess.CompletedProcess, code: int = 1,
                    reports: tuple[str, ...] = ()) -> str:
    """The one error line; other lines may only be Prefect's progress and `reports`
    (lines that start so: what became of each item)."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()
             and not _PREFECT_LINE.match(line) and not line.startswith(reports or "\0")]
    assert len(lines) == 1 and lines[0].startswith("newswatch: error: "), result.stderr
    return lines[0].removeprefix("newswatch: error: ")


@pytest.mark.parametrize("kind, message", [
    ("corrupt", "is not a valid DuckDB database file"),
    ("empty", "is not a valid DuckDB database file"),
    ("directory", "Is a directory"),
])
def test_a_warehouse_that_is_not_one(tmp_path, capfd, monkeypatch, kind, message):
    path = tmp_path / "newswatch.duckdb"
    if kind == "corrupt":
        path.write_bytes(os.urandom(50_000))
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.mkdir()
    run = _newswatch if kind == "corrupt" else partial(_in_process, capfd, monkeypatch)
    line = _one_error_line(run("--db", str(path), "sql", "SELECT 1"))
    assert line.startswith(f"cannot open the warehouse {path}: ") and message in line


def test_a_warehouse_of_a_newer_newswatch_inside_a_flow(db_path):
    with connect(db_path) as con:
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    line = _one_error_line(_newswatch("--db", str(db_path), "ingest", "seeds"))
    assert "written by a newer newswatch (schema 999" in line


def test_a_warehouse_where_nothing_can_be_written(capfd, monkeypatch):
    line = _one_error_line(_in_process(capfd, monkeypatch, "--db", "/proc/newswatch/w.duckdb",
                                       "ingest", "seeds"))
    assert line.startswith("cannot create the warehouse's folder /proc/newswatch")


def test_a_full_disk_while_loading(db_path):
    with connect(db_path):
        pass
    size = db_path.stat().st_size
    line = _one_error_line(_newswatch("--db", str(db_path), "ingest", "seeds",
                                      limit_file_bytes=size + 4096))
    assert line.startswith(f"cannot write the warehouse {db_path}")
    with connect(db_path, read_only=True) as con:  # nothing half-written
        assert con.execute("SELECT count(*) FROM articles").fetchall() == [(0,)]


def test_a_malformed_watchlist_inside_a_flow(tmp_path, db_path, capfd, monkeypatch):
    watchlist = tmp_path / "watchlist.toml"
    watchlist.write_text('[[entity]]\nid = "x"\nname = \n')
    line = _one_error_line(_in_process(capfd, monkeypatch, "--db", str(db_path), "ingest",
                                       "seeds", env={"NEWSWATCH_WATCHLIST": str(watchlist)}))
    assert line.startswith(f"{watchlist}, line 3: ")


def test_a_malformed_or_missing_sources_file(tmp_path, db_path, capfd, monkeypatch):
    run = partial(_in_process, capfd, monkeypatch)
    broken = tmp_path / "sources.toml"
    broken.write_text('[[source]]\nname = "x"\n')
    line = _one_error_line(run("--db", str(db_path), "poll", "--sources", str(broken)))
    assert str(broken) in line
    missing = _one_error_line(run("--db", str(db_path), "poll", "--sources",
                                  str(tmp_path / "missing.toml")))
    assert missing.startswith(f"no sources file at {tmp_path / 'missing.toml'}")


def test_a_send_that_fails_and_a_bad_address(db_path, tmp_path, capfd, monkeypatch):
    run = partial(_in_process, capfd, monkeypatch)
    with socket.socket() as probe:  # a port where no SMTP server listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"NEWSWATCH_SMTP_PORT": str(port), "NEWSWATCH_SMTP_HOST": "127.0.0.1",
           "NEWSWATCH_SMTP_SECURITY": "none", "NEWSWATCH_SMTP_RETRIES": "0",
           "NEWSWATCH_DIGESTS_DIR": str(tmp_path / "digests"),
           "NEWSWATCH_SEEDS_DIR": str(SEEDS)}
    down = _one_error_line(run("--db", str(db_path), "digest", "--send", "--to",
                               "ann@example.org", env=env))
    assert "ann@example.org" in down
    bad = _one_error_line(run("--db", str(db_path), "digest", "--send", "--to",
                              "ann@example.org\nBcc: eve@example.org", env=env))
    assert bad.startswith("--to: not an e-mail address")


def test_a_setting_out_of_range(db_path, capfd, monkeypatch):
    line = _one_error_line(_in_process(capfd, monkeypatch, "--db", str(db_path), "sql",
                                       "SELECT 1", env={"NEWSWATCH_MAX_CONNECTIONS": "0"}))
    assert line.startswith("invalid configuration: max_connections "
                           "(NEWSWATCH_MAX_CONNECTIONS): must be at least 1")


def test_serve_on_a_port_in_use(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        result = subprocess.run(
            [sys.executable, "-m", "newswatch", "serve"], capture_output=True, text=True,
            timeout=120, env={**env, "PREFECT_SERVER_API_HOST": "127.0.0.1",
                              "PREFECT_SERVER_API_PORT": str(port)})
    line = _one_error_line(result)
    assert line.startswith(f"cannot start a Prefect server on 127.0.0.1:{port}: ")
    assert "PREFECT_SERVER_API_PORT" in line


def test_a_run_where_every_url_fails_exits_3(db_path, capfd, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _in_process(capfd, monkeypatch, "--db", str(db_path), "ingest", "urls",
                         f"http://127.0.0.1:{port}/a", f"http://127.0.0.1:{port}/b",
                         env={"NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.1/32",
                              "NEWSWATCH_FETCH_RETRIES": "0"})
    line = _one_error_line(result, code=3, reports=("connection_error: ",))
    assert line.startswith("nothing ingested: none of the 2 URLs gave an article")
    assert "connection_error" in result.stderr  # each URL's reason, above the line
