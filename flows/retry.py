"""When a Prefect task retry can help: only for transient errors (locks, timeouts)."""

from __future__ import annotations

from typing import Any

from newswatch.errors import TransientError


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn`: retry a failed task only if its error was transient."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:  # noqa: BLE001 - any other failure is permanent
        return False
    return False
