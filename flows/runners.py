"""Which Prefect task runner fans batches out, chosen by configuration alone.

`task_runner = "dask"` with `dask_address` uses a running Dask cluster (a
scheduler with workers on other machines); without it, a local cluster of
`dask_workers` processes, one thread each (extraction is CPU-bound).
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner

from newswatch.config import Settings


def task_runner(settings: Settings) -> TaskRunner:
    """The configured distributed task runner (prefect-dask)."""
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": settings.dask_workers, "threads_per_worker": 1, "processes": True,
        "dashboard_address": None,   # no web dashboard, no extra port
    })
