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
