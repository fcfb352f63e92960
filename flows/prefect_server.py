"""A Prefect API for `serve`: the configured one, else a Prefect server of our own.

Prefect's embedded (ephemeral) API does not run its scheduler, so with no
PREFECT_API_URL `serve` starts `prefect server start` on 127.0.0.1:4200
(PREFECT_SERVER_API_HOST / _PORT) and stops it on the way out.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_API_HOST,
    PREFECT_SERVER_API_PORT,
    temporary_settings,
)

from newswatch.config import ConfigError
from newswatch.lifeline import ending_with_us

log = logging.getLogger(__name__)

_SERVER_STARTUP = 180.0   # seconds; the first start creates Prefect's database


@contextmanager
def prefect_api() -> Iterator[str]:
    """The configured Prefect API, else a Prefect server started for as long as the block."""
    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    host, port = PREFECT_SERVER_API_HOST.value(), PREFECT_SERVER_API_PORT.value()
    url = f"http://{host}:{port}/api"
    _check_port_free(host, port)
    with tempfile.TemporaryFile() as output:
        # its own session: Ctrl-C reaches us, and we stop the server after the runs
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host,
             "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True, **ending_with_us())
        try:
            _wait_healthy(url, server, output)
            log.info("started a Prefect server at %s", url)
            with temporary_settings({PREFECT_API_URL: url}):
                yield url
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _check_port_free(host: str, port: int) -> None:
    """Say so before starting a server on a port something else holds (Prefect's
    own message ends in "...: flag.")."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot start a Prefect server on {host}:{port}: {exc.strerror or exc} (set "
            "PREFECT_SERVER_API_PORT to a free port, or PREFECT_API_URL to a running "
            "server)") from None


def _wait_healthy(url: str, server: subprocess.Popen, output: Any) -> None:
    deadline = time.monotonic() + _SERVER_STARTUP
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output.seek(0)
            lines = output.read().decode("utf-8", "replace").strip().splitlines()
            raise ConfigError(f"could not start a Prefect server at {url}: "
                              f"{lines[-1] if lines else f'exit code {server.returncode}'}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise ConfigError(f"the Prefect server at {url} did not start in {_SERVER_STARTUP:.0f} s")
