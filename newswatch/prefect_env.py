"""Prefect settings newswatch applies before Prefect is imported: quiet by default."""

from __future__ import annotations

import os


def quiet_prefect() -> None:
    """Turn off the embedded server's analytics and chatter unless the user set them."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
    # The first start on a machine creates Prefect's database, which takes
    # longer than Prefect's default 20 s here: do not fail the first `make demo`.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    # A Prefect server on SQLite answers 500 ("database is locked") now and then
    # when several runs write at once; the client retries only 429, 502 and 503,
    # so one such answer failed the run in progress. The failed write was rolled
    # back, so sending it again is safe.
    os.environ.setdefault("PREFECT_CLIENT_RETRY_EXTRA_CODES", "500")
