"""A corpus of realistic news pages served from 127.0.0.1, for benchmarks.

Pages are made from the article templates in tests/pages (real-looking
outlets: navigation, cookie banners, scripts, related links, comments), each
copy with its own canonical URL and a sentence of its own, so that none is a
duplicate of another.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "tests" / "pages"
_PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>(?=[^<]{150})")


def templates() -> list[tuple[str, str]]:
    """(html, the path of its canonical URL) for each article template."""
    from newswatch.extractors.article import extract_article

    found = []
    for page in sorted(TEMPLATES.glob("*.html")):
        if page.stem.endswith(("_index", "_nav", "_short")):
            continue
        html = page.read_text(encoding="utf-8")
        canonical = extract_article(html, "http://127.0.0.1/").canonical_url or ""
        path = "/" + canonical.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].rstrip("/")
        found.append((html, path))
    return found


def make_page(template: tuple[str, str], i: int) -> str:
    """Copy i of a template: its own canonical URL and a sentence of its own."""
    html, path = template
    if len(path) > 1:
        html = html.replace(path, f"{path}-{i}")
    unique = (f"Dispatch {i}: correspondents counted {i % 97 + 3} more transport flights "
              f"and {i % 13 + 1} new checkpoints on the road to Almaty. ")
    match = _PARAGRAPH.search(html, html.find("</h1>"))
    return html[:match.end()] + unique + html[match.end():] if match else html


class _Handler(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path in self.pages:
            body, ctype = self.pages[self.path], "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _run_server(n: int, ports: multiprocessing.Queue) -> None:
    bases = templates()
    pages = {f"/news/{i}": make_page(bases[i % len(bases)], i).encode("utf-8")
             for i in range(n)}
    handler = type("Handler", (_Handler,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    ports.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def serve(n: int) -> Iterator[list[str]]:
    """Serve n pages on 127.0.0.1 from another process (the web is not in our
    process either); yields their URLs."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=_run_server, args=(n, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=60)
        yield [f"http://127.0.0.1:{port}/news/{i}" for i in range(n)]
    finally:
        server.terminate()
        server.join(10)
