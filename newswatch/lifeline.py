"""Child processes end with their parent, even when it is killed outright.

A `newswatch` run starts processes of its own: Prefect's temporary API
server and the extraction pool (its forkserver and workers). Killed with
SIGKILL, the run cannot stop them, and they lived on for good (the server,
225 MB, still listening). On Linux each asks the kernel for SIGTERM when its
parent dies (PR_SET_PDEATHSIG): the workers ask it of the forkserver;
Prefect's server gets it from a wrapper around the `subprocess` Prefect
starts it with. The forkserver, started from a thread that may end before
the run does, watches its parent instead. Elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import types
from typing import Any

_PR_SET_PDEATHSIG = 1


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # looked up before any fork: a child between fork and exec only calls it


def end_with_parent() -> None:
    """Ask for SIGTERM when the process that started this one dies; if it already
    has (we were adopted), end now."""
    if _PRCTL is None:
        return
    parent = os.getppid()
    _tie_to_parent()
    if parent == 1:
        os._exit(1)


PARENT_VARIABLE = "NEWSWATCH_PARENT_PID"


def watch_parent(interval: float = 0.5) -> None:
    """End this process when its parent process dies, from a daemon thread.

    For a process started from any thread of its parent: the kernel's
    PR_SET_PDEATHSIG fires when the starting *thread* ends, which may be
    long before the parent does. The parent names itself in the environment
    (`PARENT_VARIABLE`): it may have died before this process got here.
    """
    parent = int(os.environ.get(PARENT_VARIABLE) or os.getppid())

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="newswatch-lifeline", daemon=True).start()


class _SubprocessEndingWithUs(types.ModuleType):
    """`subprocess` for Prefect's server module: its children end with us.

    The kernel ties a child to the thread that forked it, so only children
    started from the main thread are tied (a worker thread may end first).
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - subprocess's name
        return subprocess.Popen(*args, **{**ending_with_us(), **kwargs})


def ending_with_us() -> dict[str, Any]:
    """Keyword arguments for subprocess.Popen: the child ends with this process."""
    if _PRCTL is not None and threading.current_thread() is threading.main_thread():
        return {"preexec_fn": _tie_to_parent}
    return {}


def _tie_to_parent() -> None:  # between fork and exec: no allocation, no locks
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def tie_prefect_server() -> None:
    """Make Prefect's temporary API server end with this process."""
    if _PRCTL is None or os.environ.get("PREFECT_API_URL"):
        return  # no temporary server to tie
    from prefect.server.api import server

    if not isinstance(server.subprocess, _SubprocessEndingWithUs):
        server.subprocess = _SubprocessEndingWithUs("subprocess")
