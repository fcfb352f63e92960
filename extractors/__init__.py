"""Everything hard about the input: plain Python, no Prefect, no DuckDB.

Bytes and strings in, typed records out: seed files cleaned into articles,
pages fetched and extracted, the watchlist, the tagger, sentences and
summaries, people and quotes, identities and canonical URLs.
"""

from newswatch.extractors.annotate import annotate
from newswatch.extractors.article import Extraction, extract_article
from newswatch.extractors.feeds import Link, SourceParse, parse_source
from newswatch.extractors.fetch import Fetcher, FetchPolicy, FetchResult, fetch_all
from newswatch.extractors.identity import article_id, content_hash
from newswatch.extractors.people import find_people, find_quotes
from newswatch.extractors.records import Article, Mention, PersonMention, Quote, Reject
from newswatch.extractors.seeds import iter_seed_files, load_manifest, parse_seed_text, read_seed
from newswatch.extractors.sentences import sentence_spans
from newswatch.extractors.sources import Source, load_sources
from newswatch.extractors.summary import summarize
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.urls import canonical_url, same_article
from newswatch.extractors.watchlist import Entity, Watchlist, load_watchlist, parse_watchlist

__all__ = [
    "Article", "Entity", "Extraction", "FetchPolicy", "FetchResult", "Fetcher", "Link",
    "Mention", "PersonMention", "Quote", "Reject", "Source", "SourceParse", "Tagger",
    "Watchlist", "annotate", "article_id", "canonical_url", "content_hash", "extract_article",
    "fetch_all", "find_people", "find_quotes", "iter_seed_files", "load_manifest",
    "load_sources", "load_watchlist", "parse_seed_text", "parse_source", "parse_watchlist",
    "read_seed", "same_article", "sentence_spans", "summarize",
]
