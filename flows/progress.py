"""A hook through which a long flow run reports progress to whoever started it.

The CLI sets it to advance a rich progress bar; deployments leave it unset.
Flow parameters must stay serialisable, so the hook is not a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

# called with (done, total)
progress_hook: ContextVar[Callable[[int, int], None] | None] = ContextVar(
    "newswatch_progress_hook", default=None
)


def report(done: int, total: int) -> None:
    hook = progress_hook.get()
    if hook is not None:
        hook(done, total)
