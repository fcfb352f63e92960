"""newswatch's Prefect deployments, declared once in prefect.yaml beside this file.

`prefect deploy --prefect-file deployments/prefect.yaml` reads it for a
Prefect server and its workers; `newswatch serve` reads it to serve the same
deployments on one machine (newswatch.flows.serve).
"""

from pathlib import Path

PREFECT_YAML = Path(__file__).with_name("prefect.yaml")

__all__ = ["PREFECT_YAML"]
