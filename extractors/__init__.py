"""Everything hard about the input: plain Python, no Prefect, no DuckDB.

Bytes and strings in, typed records out: seed files cleaned into articles,
pages fetched and extracted, the watchlist, the tagger, sentences and
summaries, people and quotes, identities and canonical URLs. Import from the
module that holds a name (`newswatch.extractors.records`): nothing is
re-exported here, so that reading a record type loads no HTTP client or parser.
"""
