"""Serve the deployments of deployments/prefect.yaml on this machine: `newswatch serve`.

The schedules, parameters and concurrency limits are read from the same
prefect.yaml that `prefect deploy` reads, so the two never drift apart.
With no PREFECT_API_URL, `serve` starts a Prefect server of its own
(flows/prefect_server.py) and stops it on the way out. Served runs start as
subprocesses; Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
from prefect import serve as prefect_serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule

from newswatch.config import CONFIG_ENV, ConfigError, Settings
from newswatch.deployments import PREFECT_YAML

from .prefect_server import prefect_api

log = logging.getLogger(__name__)


def declared(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The deployments as prefect.yaml declares them."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the deployments in {path}: {exc}") from exc


def load_flow(entrypoint: str) -> Flow:
    """`flows/poll.py:poll` -> the flow `newswatch.flows.poll.poll` (installed or not)."""
    path, name = entrypoint.rsplit(":", 1)
    module = "newswatch." + path.removesuffix(".py").replace("/", ".")
    return getattr(import_module(module), name)


def _schedule(spec: dict[str, Any], settings: Settings, deployment: str) -> Schedule:
    if "cron" in spec:  # the digest's 07:00 is in the configured time zone
        return Cron(spec["cron"], timezone=settings.timezone)
    seconds = spec["interval"]
    if deployment == "poll":  # the configured interval, as the poll's backoff uses it
        seconds = settings.poll_interval_minutes * 60
    return Interval(seconds)


def runner_deployments(settings: Settings, path: Path = PREFECT_YAML) -> list[RunnerDeployment]:
    """The declared deployments, with the configured db, time zone and poll interval."""
    deployments = []
    for spec in declared(path):
        flow = load_flow(spec["entrypoint"])
        parameters = dict(spec.get("parameters") or {})
        parameters.setdefault("db", str(settings.db))  # `serve --db` reaches the runs
        limit = spec.get("concurrency_limit")
        deployments.append(flow.to_deployment(
            name=spec["name"],
            description=spec.get("description"),
            tags=spec.get("tags"),
            parameters=parameters,
            schedules=[_schedule(s, settings, spec["name"]) for s in spec.get("schedules", [])],
            concurrency_limit=ConcurrencyLimitConfig(**limit) if isinstance(limit, dict)
            else limit,
        ))
    return deployments


def serve(settings: Settings, path: Path = PREFECT_YAML, config: Path | None = None) -> None:
    """Run the deployments on their schedules until interrupted; their runs (our
    subprocesses) read `config`, the file `settings` came from."""
    deployments = runner_deployments(settings, path)
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    # SIGTERM stops us as Ctrl-C does, so the server we started is stopped too
    # (while the runner runs it handles SIGTERM itself, the same way).
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with prefect_api():
            prefect_serve(*deployments)
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_STOP_WITHIN = 30.0  # seconds after an interrupt before serve exits regardless


def _interrupt(signum: int, frame: Any) -> None:
    # Prefect's runner pauses the deployments through the API as it stops; now and
    # then it hung there for good (nothing logged after the interrupt). A stop asked
    # for is a stop: past _STOP_WITHIN seconds the process ends, and the server it
    # started ends with it (newswatch.lifeline).
    threading.Thread(target=_exit_later, name="newswatch-stop", daemon=True).start()
    raise KeyboardInterrupt


def _exit_later() -> None:
    time.sleep(_STOP_WITHIN)
    log.warning("Prefect's runner did not stop within %.0f s of the interrupt: exiting",
                _STOP_WITHIN)
    logging.shutdown()
    os._exit(0)
