"""The DuckDB warehouse: schema migrations, bulk loading, the digest's queries.

No HTTP and no Prefect here. One process may write the file at a time: open
it with `connection.connect()` only for as long as a batch takes. Import from
the module that holds a name: nothing is re-exported here.
"""
