"""newswatch: follow a developing story.

The rooms: `newswatch.extractors` (plain Python), `newswatch.warehouse`
(DuckDB), `newswatch.flows` (Prefect), `newswatch.digest` (rendering), and
the `newswatch` command in `newswatch.cli`.
"""

__version__ = "0.1.0"
