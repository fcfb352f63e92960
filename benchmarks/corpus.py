"""A corpus of realistic news pages served from 127.0.0.1, for benchmarks.

The page templates are the English article pages of tests/pages (real-looking
outlets: navigation, cookie banners, scripts, related links, comments). Each
page keeps its outlet's chrome and gets an article of its own: a headline and
8 to 16 paragraphs (600 to 1,500 words) drawn from the outlets' vocabulary,
so that pages are distinct articles, not near-copies of five. About half
mention watched entities; one page in ten is a syndicated copy of a recent
page under another outlet's template (the same body and headline). The
corpus is the same on every run: page i depends on i alone.
"""

from __future__ import annotations

import multiprocessing
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "tests" / "pages"
COPY_SHARE = 0.1       # syndicated copies of a recent page
MENTION_SHARE = 0.5    # pages that name watched entities
# names the tagger knows (seeds/watchlist.toml), as a journalist would write them
ENTITIES = ["Kassym-Jomart Tokayev", "Kazakhstan", "Vladimir Putin", "Russia", "Almaty",
            "Collective Security Treaty Organization", "CSTO", "Nikol Pashinyan", "Armenia",
            "Kyrgyzstan", "Belarus", "Karim Massimov", "Nursultan Nazarbayev", "China"]
_BODY = re.compile(r"(<p(?:\s[^>]*)?>)([^<]{150,})(</p>)?")
_STANDFIRST = re.compile(r'(<p class="standfirst">)[^<]*</p>')
_H1 = re.compile(r"<h1[^>]*>([^<\n]+)")  # one template never closes its h1
_WORDS = re.compile(r"\b[a-z]{2,}\b")


@cache
def templates() -> list[tuple[str, str, str]]:
    """(html, canonical URL path, headline) of each English article template."""
    from newswatch.extractors.article import extract_article

    found = []
    for page in sorted(TEMPLATES.glob("*.html")):
        if page.stem.endswith(("_index", "_nav", "_short", "_ru")):
            continue
        html = page.read_text(encoding="utf-8")
        canonical = extract_article(html, "http://127.0.0.1/").canonical_url or ""
        path = "/" + canonical.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].rstrip("/")
        found.append((html, path, _H1.search(html).group(1)))
    return found


@cache
def vocabulary() -> list[str]:
    """The lowercase words of the templates' article text, each once: drawn
    uniformly, distinct articles share few word 5-grams, as real ones do."""
    words = set()
    for html, _, _ in templates():
        for match in _BODY.finditer(html):
            words.update(_WORDS.findall(match.group(2)))
    return sorted(words)


def _sentence(rng: random.Random, words: list[str], entity: str | None) -> str:
    chosen = rng.choices(words, k=rng.randint(12, 28))
    if entity:
        chosen.insert(rng.randrange(len(chosen)), entity)
    text = " ".join(chosen)
    return text[0].upper() + text[1:] + "."


def article(seed: int) -> tuple[str, list[str]]:
    """(headline, paragraphs) of article `seed`."""
    rng = random.Random(seed)
    words = vocabulary()
    entities = rng.sample(ENTITIES, rng.randint(1, 4)) if rng.random() < MENTION_SHARE else []
    headline = _sentence(rng, words, entities[0] if entities else None)[:-1][:90]
    paragraphs = []
    for _ in range(rng.randint(8, 16)):
        paragraphs.append(" ".join(
            _sentence(rng, words, rng.choice(entities) if entities and rng.random() < 0.3
                      else None)
            for _ in range(rng.randint(3, 6))))
    return headline, paragraphs


def make_page(i: int) -> str:
    """Page i: an outlet's template around article i, or around a recent page's article."""
    rng = random.Random(-1 - i)
    seed = i
    if i >= 20 and rng.random() < COPY_SHARE:
        seed = i - rng.randint(1, 19)  # a copy of a recent page
    bases = templates()
    html, path, template_headline = bases[i % len(bases)]
    headline, paragraphs = article(seed)
    html = html.replace(template_headline, headline)
    if len(path) > 1:
        html = html.replace(path, f"{path}-{i}")
    start = _H1.search(html).end()
    end = html.find("comment", start)
    body = list(_BODY.finditer(html, start, end if end > 0 else len(html)))
    # the template's own text goes, subheadings and quotes too: the page is article i
    first, last = body[0], body[-1]
    html = (html[:first.start()] + first.group(1) + "</p>\n<p>".join(paragraphs)
            + (first.group(3) or "") + html[last.end():])
    return _STANDFIRST.sub(lambda m: m.group(1) + paragraphs[0][:120] + "</p>", html)


class PageHandler(BaseHTTPRequestHandler):
    """Serves robots.txt (allow all) and what `page` finds for a path; 404 else."""

    protocol_version = "HTTP/1.1"  # keep-alive, as news sites do
    pages: dict[str, bytes] = {}

    def page(self, path: str) -> tuple[bytes, str] | None:
        """(body, content type) served at `path`, None if nothing is."""
        if path in self.pages:
            return self.pages[path], "text/html; charset=utf-8"
        return None

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/robots.txt":
            found = b"User-agent: *\nAllow: /\n", "text/plain"
        elif (found := self.page(self.path)) is None:
            self.send_error(404)
            return
        body, ctype = found
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def run_server(handler: type[PageHandler], ports: multiprocessing.Queue) -> None:
    """Serve with `handler` on a free port of 127.0.0.1, put in `ports`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    ports.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def serving(target: Callable[..., None], *args: object) -> Iterator[int]:
    """Run `target(*args, ports)` (which calls run_server) in another process (the
    web is not in our process either); yields the port it serves on."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=target, args=(*args, ports), daemon=True)
    server.start()
    try:
        yield ports.get(timeout=120)
    finally:
        server.terminate()
        server.join(10)


def _run_server(n: int, ports: multiprocessing.Queue) -> None:
    pages = {f"/news/{i}": make_page(i).encode("utf-8") for i in range(n)}
    run_server(type("Handler", (PageHandler,), {"pages": pages}), ports)


@contextmanager
def serve(n: int) -> Iterator[list[str]]:
    """Serve n pages on 127.0.0.1 from another process; yields their URLs."""
    with serving(_run_server, n) as port:
        yield [f"http://127.0.0.1:{port}/news/{i}" for i in range(n)]
