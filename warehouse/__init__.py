"""The DuckDB warehouse: schema migrations, bulk loading, the digest's queries.

No HTTP and no Prefect here. One process may write the file at a time: open
it with `connect()` only for as long as a batch takes.
"""

from newswatch.warehouse.connection import connect, open_database
from newswatch.warehouse.digest import DigestArticle, new_articles, record_digest
from newswatch.warehouse.load import LoadResult, load_batch, record_rejects, sync_entities
from newswatch.warehouse.query import QueryResult, run_query

__all__ = [
    "DigestArticle", "LoadResult", "QueryResult", "connect", "load_batch", "new_articles",
    "open_database", "record_digest", "record_rejects", "run_query", "sync_entities",
]
