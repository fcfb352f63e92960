"""Real news pages served from 127.0.0.1, for `make bench`.

`corpus/real_pages.tar.xz` holds 208 pages saved by public repositories' test
data (the labelled development set of `devsets/pages.tsv`: 141 articles, long
reports, short briefs, live blogs and opinion in many languages; 67 front,
section, listing and tag pages), as their sites served them: their own
charsets, scripts, menus and sizes (190 KB on average). None comes from the
extraction benchmark that judges this work.

Request i is page i modulo 208, at the page's own path with `?nw=i`: every
URL is distinct, the path keeps what the address says (a front page is "/"),
and from the 209th request on a page comes again as a copy under a new
address, as syndication and re-polled feeds bring them.
"""

from __future__ import annotations

import csv
import multiprocessing
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from benchmarks.corpus import PageHandler, run_server, serving

HERE = Path(__file__).resolve().parent
ARCHIVE = HERE / "corpus" / "real_pages.tar.xz"
LABELS = HERE / "devsets" / "pages.tsv"


@cache
def pages() -> list[tuple[str, str, bytes]]:
    """(label, path, HTML bytes) of every page, in the archive's order."""
    with LABELS.open(encoding="utf-8", newline="") as f:
        labels = {row["id"]: row for row in csv.DictReader(f, delimiter="\t")}
    found = []
    with tarfile.open(ARCHIVE) as archive:
        for member in archive:
            page_id = member.name.removesuffix(".html")
            row = labels[page_id]
            parts = urlsplit(row["url"]) if row["url"] else None
            path = (parts.path or "/") if parts else f"/page/{page_id}"
            body = archive.extractfile(member).read()
            found.append((row["label"], path, body))
    return found


def page_for(i: int) -> tuple[str, str, bytes]:
    """(label, path, body) of request i."""
    corpus = pages()
    return corpus[i % len(corpus)]


def urls(port: int, n: int) -> Iterator[str]:
    """The addresses of the first n requests."""
    for i in range(n):
        yield f"http://127.0.0.1:{port}{page_for(i)[1]}?nw={i}"


def articles_among(n: int) -> int:
    """How many of the first n requests are article pages (copies included)."""
    return sum(page_for(i)[0] == "article" for i in range(n))


class _Handler(PageHandler):
    def page(self, path: str) -> tuple[bytes, str] | None:
        # request i by its number (the path as the client quoted it is not compared);
        # no charset in the header: the page's own <meta> says it, as on many sites
        number = parse_qs(urlsplit(path).query).get("nw", [""])[0]
        return (page_for(int(number))[2], "text/html") if number.isdigit() else None


def _run_server(ports: multiprocessing.Queue) -> None:
    pages()  # read the archive before the first request
    run_server(_Handler, ports)


@contextmanager
def serve() -> Iterator[int]:
    """Serve the corpus on 127.0.0.1 from another process; yields its port."""
    with serving(_run_server) as port:
        yield port
