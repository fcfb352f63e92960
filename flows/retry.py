"""When a Prefect task retry can help: only for transient errors (locks, timeouts).

`warehouse_task` declares, once, how every task that opens the warehouse is
retried: while another process holds the file, up to three more times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from newswatch.errors import TransientError


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn`: retry a failed task only if its error was transient.

    Prefect hands over a Failed state holding the exception. It is read from
    the state's data, not through `state.result()`: in an async task that is a
    coroutine, never awaited, and a locked warehouse was never retried.
    """
    return isinstance(getattr(state, "data", None), TransientError)


def warehouse_task(fn: Callable[..., Any]) -> Any:
    """A task that opens the warehouse: never cached (its inputs are whole batches),
    retried after 1, 4 and 10 s (with jitter) only while its error is transient."""
    return task(fn, cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
                retry_jitter_factor=0.5, retry_condition_fn=only_transient)
