"""Prefect flows: they only orchestrate calls into extractors/ and warehouse/."""

from newswatch.memory import return_freed_memory
from newswatch.prefect_env import quiet_prefect

quiet_prefect()
return_freed_memory()  # before Prefect starts its threads: they take arenas

from newswatch.flows.digest import daily_digest  # noqa: E402
from newswatch.flows.ingest import ingest_seeds  # noqa: E402
from newswatch.flows.ingest_urls import ingest_urls  # noqa: E402
from newswatch.flows.poll import poll  # noqa: E402
from newswatch.flows.reprocess import reprocess  # noqa: E402

__all__ = ["daily_digest", "ingest_seeds", "ingest_urls", "poll", "reprocess"]
