"""Killing a `newswatch` run outright ends everything it started: Prefect's temporary
server, the extraction pool's forkserver and workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

PAGE = (Path(__file__).parent / "pages" / "steppe_courier_deployment.html").read_bytes()


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children of each thread)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.slow
def test_a_killed_run_leaves_no_process_behind(httpserver, db_path, tmp_path):
    blocked, gate = threading.Event(), threading.Event()

    def slow(request: Request) -> Response:
        blocked.set()
        gate.wait(60)
        return Response(PAGE, content_type="text/html; charset=utf-8")

    httpserver.expect_request("/fast").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/slow").respond_with_handler(slow)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(NEWSWATCH_ALLOWED_NETWORKS='["127.0.0.1/32"]', NEWSWATCH_PER_HOST_DELAY="0")
    run = subprocess.Popen([sys.executable, "-m", "newswatch", "--db", str(db_path), "ingest",
                            "urls", httpserver.url_for("/fast"), httpserver.url_for("/slow")],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert blocked.wait(120), "the run never asked for the slow page"
        deadline = time.monotonic() + 60
        while len(children := _descendants(run.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # the server, the forkserver, its workers
        assert len(children) >= 3, children
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in children if _alive(p)]
        info = [(Path(f"/proc/{p}/cmdline").read_bytes()[:80],
                 Path(f"/proc/{p}/stat").read_text()[:60]) for p in left]
        for pid in left:  # do not leave them to the next test either
            os.kill(pid, signal.SIGKILL)
        assert left == [], info
    finally:
        gate.set()
        if run.poll() is None:
            run.kill()
