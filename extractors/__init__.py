"""Everything hard about the input: plain Python, no Prefect, no DuckDB.

Bytes and strings in, typed records out: seed files cleaned into articles,
the watchlist, the tagger, sentences and summaries, identities.
"""

from newswatch.extractors.identity import article_id, content_hash
from newswatch.extractors.records import Article, Mention, Reject
from newswatch.extractors.seeds import iter_seed_files, load_manifest, parse_seed_text, read_seed
from newswatch.extractors.sentences import sentence_spans
from newswatch.extractors.summary import summarize
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import Entity, Watchlist, load_watchlist, parse_watchlist

__all__ = [
    "Article", "Entity", "Mention", "Reject", "Tagger", "Watchlist", "article_id",
    "content_hash", "iter_seed_files", "load_manifest", "load_watchlist", "parse_seed_text",
    "parse_watchlist", "read_seed", "sentence_spans", "summarize",
]
