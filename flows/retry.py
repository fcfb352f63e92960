"""When a Prefect task retry can help: only for transient errors (locks, timeouts)."""

from __future__ import annotations

from typing import Any

from newswatch.errors import TransientError


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn`: retry a failed task only if its error was transient.

    Prefect hands over a Failed state holding the exception. It is read from
    the state's data, not through `state.result()`: in an async task that is a
    coroutine, never awaited, and a locked warehouse was never retried.
    """
    return isinstance(getattr(state, "data", None), TransientError)
