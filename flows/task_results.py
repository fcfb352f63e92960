"""What tasks a run calls many times return: small wrappers, never long lists.

Prefect links each item of a task's result to the task's state for the whole flow
run (`FlowRunContext.run_results`), one level down: a task that returned a bare
list of 500 pages left 500 links a batch, memory that grew with a run's URLs.
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.warehouse.pages import Page


@dataclass
class FetchedBatch:
    """A batch's pages, as one link."""

    pages: list[Page]
