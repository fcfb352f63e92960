"""A run's URLs: as Prefect parameters (a list, or past its size limit a file), and
spooled to disk, canonical and each once, with their validators."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

import duckdb

from newswatch.extractors.records import Reject
from newswatch.extractors.urls import SeenUrls, canonical_url
from newswatch.warehouse.pages import validators

_SPOOL_CHUNK = 20_000  # URLs made canonical and asked for validators at a time

# Prefect refuses a flow run whose parameters serialize to 512 KiB or more
# (about 5,000 real news URLs): a longer list goes to the flow as a file.
MAX_URL_BYTES = 448 * 1024  # (the other parameters are a few paths)


@contextmanager
def url_parameters(urls: Sequence[str]) -> Iterator[dict[str, list[str] | str]]:
    """`ingest_urls`'s parameters for `urls`: the list, or past Prefect's limit, a file.

    One flow run takes a list of any length, so a long one pays once for the
    extraction pool, the story candidates and a last load that overlaps nothing.
    The file is removed when the block ends.
    """
    if len(json.dumps(list(urls))) < MAX_URL_BYTES:
        yield {"urls": list(urls)}
        return
    fd, path = tempfile.mkstemp(prefix="newswatch-urls-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(f"{url}\n" for url in urls)
        yield {"url_file": path}
    finally:
        os.unlink(path)


Request = tuple[str, str | None, str | None]  # a URL, its ETag and Last-Modified



class UrlSpool:
    """A run's URLs, canonical and each once, in a temporary file of their own,
    read back a batch at a time with their validators (ETag, Last-Modified).

    The run then holds 8 bytes a URL (SeenUrls), not the list: 150 bytes a URL.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="newswatch-urls-")
        self.count = 0                                 # URLs to fetch
        self.known: dict[str, tuple[str | None, str | None]] = {}  # their validators, if any

    def fill(self, listed: Iterable[str], con: duckdb.DuckDBPyConnection,
             ) -> tuple[int, list[Reject]]:
        """Spool `listed`; return how many were listed and a reject for each invalid URL."""
        seen, invalid, total = SeenUrls(), [], 0
        listed = iter(listed)
        while chunk := list(islice(listed, _SPOOL_CHUNK)):
            total += len(chunk)
            canonical = []
            for url in chunk:
                if (form := canonical_url(url.strip())) is None:
                    invalid.append(Reject(url, "fetch", "invalid_url",
                                          f"not an http(s) URL: {url!r}"))
                else:
                    canonical.append(form)
            fresh = [url for url, first in zip(canonical, seen.first_time(canonical),
                                               strict=True) if first]
            self._file.writelines(f"{url}\n" for url in fresh)
            self.count += len(fresh)
            self.known.update(validators(con, fresh))
        self._file.seek(0)
        return total, invalid

    def take(self, count: int | None = None) -> list[Request]:
        """The next `count` URLs (None: all that are left), each with its validators."""
        return [(url, *self.known.get(url, (None, None)))
                for url in (line.rstrip("\n") for line in islice(self._file, count))]

    def __enter__(self) -> UrlSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()
