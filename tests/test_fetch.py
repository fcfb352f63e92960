"""The fetcher against real HTTP servers on 127.0.0.1: werkzeug's (pytest-httpserver)
for ordinary answers, a raw socket server where a test needs a misbehaving one."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.errors import PermanentFetchError, TransientFetchError
from newswatch.extractors.charset import decode_html
from newswatch.extractors.fetch import (
    Fetcher,
    FetchPolicy,
    FetchResult,
    address_problem,
    fetch_all,
)

PAGE = "<!doctype html><html><head><title>T</title></head><body><p>Hello</p></body></html>"
RUSSIAN = (
    "<html><head><title>Новости</title></head><body><p>Президент Казахстана Касым-Жомарт "
    "Токаев обратился к ОДКБ с просьбой о помощи. Миротворцы прибыли в Алматы в пятницу.</p>"
    "</body></html>"
)
FRENCH = (
    "<html><head><title>Nouvelles</title></head><body><p>Un café à Zürich, près de la gare. "
    "Les délégués se sont réunis à huis clos pendant deux heures.</p></body></html>"
)


def policy(**overrides) -> FetchPolicy:
    """Fast and local: 127.0.0.1 allowed, no politeness delay, tiny backoff."""
    settings = dict(
        allowed_networks=("127.0.0.1/32",), per_host_delay=0.0, backoff_base=0.01,
        backoff_max=0.05, connect_timeout=1.0, read_timeout=1.0, total_timeout=3.0,
        retries=2, obey_robots=False, max_bytes=1_000_000,
    )
    settings.update(overrides)
    return FetchPolicy(**settings)


def fetch(url: str, pol: FetchPolicy | None = None, **kwargs) -> FetchResult:
    async def run() -> FetchResult:
        async with Fetcher(pol or policy()) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(run())


def fetch_many(requests, pol: FetchPolicy | None = None) -> list[FetchResult]:
    async def run() -> list[FetchResult]:
        async with Fetcher(pol or policy()) as fetcher:
            return [result async for result in fetcher.fetch_many(requests)]

    return asyncio.run(run())


def paths(server: HTTPServer) -> list[str]:
    return [request.full_path.rstrip("?") for request, _ in server.log]


@pytest.fixture(scope="module")
def threaded_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(threaded_server: HTTPServer) -> HTTPServer:
    """A threaded werkzeug server on 127.0.0.1 (not "localhost", which may also be ::1)."""
    threaded_server.clear()
    return threaded_server


class RawServer:
    """A TCP server on 127.0.0.1 whose `respond(server, sock)` writes the raw answer."""

    def __init__(self, respond):
        self.requests: list[str] = []
        self.sent = 0
        self.done = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    head += data
                outer.requests.append(head.split(b"\r\n", 1)[0].decode())
                try:
                    respond(outer, self.request)
                except OSError:  # the client hung up: what several tests want
                    pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/page"

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.done.set()
        self._server.shutdown()
        self._server.server_close()


def _hang(server: RawServer, sock: socket.socket) -> None:
    server.done.wait(10)


def _drip(server: RawServer, sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    while not server.done.wait(0.05):
        sock.sendall(b"<p>")


def _twenty_mb(server: RawServer, sock: socket.socket) -> None:
    # no Content-Length: only the limit while streaming can stop this one
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    chunk = b"<p>" + b"x" * 65533
    while server.sent < 20_000_000:
        sock.sendall(chunk)
        server.sent += len(chunk)


def _short_body(server: RawServer, sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
                 b"<p>only this</p>")


# --- HTTP errors and retries ---------------------------------------------------------------

@pytest.mark.parametrize("status", [404, 410])
def test_client_errors_are_http_errors_without_retry(server, status):
    server.expect_request("/page").respond_with_data("no", status=status)
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.attempts) == ("http_error", status, 1)
    assert result.error.startswith(f"HTTP {status}")
    assert result.html is None and result.raw is None


def test_500_then_200_is_retried(server):
    answers = iter([Response("oops", status=500), Response(PAGE, content_type="text/html")])
    server.expect_request("/page").respond_with_handler(lambda request: next(answers))
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.attempts) == ("ok", 200, 2)
    assert result.error is None and "Hello" in result.html


def test_429_retry_after_is_honoured(server):
    answers = iter([Response("slow down", status=429, headers={"Retry-After": "1"}),
                    Response(PAGE, content_type="text/html")])
    server.expect_request("/page").respond_with_handler(lambda request: next(answers))
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.attempts) == ("ok", 200, 2)
    assert result.elapsed >= 0.95


def test_a_host_asking_for_a_day_is_left_alone_for_the_run(server):
    server.expect_request("/busy").respond_with_data(
        "come back tomorrow", status=429, headers={"Retry-After": "86400"})
    urls = [server.url_for(f"/busy?page={n}") for n in range(6)]
    started = time.monotonic()
    results = fetch_many(urls, policy(max_per_host=1, max_retry_after=120))
    assert {r.outcome for r in results} == {"rate_limited"}
    assert all("Retry-After" in r.error and "not asked again" in r.error for r in results)
    assert len(server.log) == 1  # the first answer; the rest were never asked
    assert time.monotonic() - started < 30  # not a day, nor 120 s per URL
    assert all(r.transient for r in results)


def test_a_429_pauses_the_whole_host(server):
    times: dict[str, list[float]] = {"a": [], "b": []}
    answers = iter([Response("slow down", status=429, headers={"Retry-After": "1"})])

    def handler(request: Request) -> Response:
        name = request.path.strip("/")
        times[name].append(time.monotonic())
        if name == "a":
            return next(answers, Response(PAGE, content_type="text/html"))
        return Response(PAGE, content_type="text/html")

    server.expect_request("/a").respond_with_handler(handler)
    server.expect_request("/b").respond_with_handler(handler)

    async def run() -> list[FetchResult]:
        async with Fetcher(policy(max_per_host=1)) as fetcher:
            first = asyncio.create_task(fetcher.fetch(server.url_for("/a")))
            while not times["a"]:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the 429 has come back
            return [await fetcher.fetch(server.url_for("/b")), await first]

    b, a = asyncio.run(run())
    assert (a.outcome, a.attempts, b.outcome, b.attempts) == ("ok", 2, "ok", 1)
    assert times["b"][0] - times["a"][0] >= 0.9  # /b waited out the host's Retry-After


def test_503_to_the_end_is_an_http_error_after_all_attempts(server):
    server.expect_request("/page").respond_with_data("down", status=503)
    result = fetch(server.url_for("/page"), policy(retries=2))
    assert (result.outcome, result.status, result.attempts) == ("http_error", 503, 3)
    assert "503" in result.error and "3 attempts" in result.error
    assert result.transient


def test_403_is_not_retried(server):
    server.expect_request("/page").respond_with_data("forbidden", status=403)
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.attempts) == ("http_error", 403, 1)
    assert len(server.log) == 1


def test_a_hanging_server_times_out_after_retries():
    with RawServer(_hang) as raw:
        started = time.monotonic()
        result = fetch(raw.url, policy(read_timeout=0.2, retries=1))
    assert (result.outcome, result.status, result.attempts) == ("timeout", None, 2)
    assert "read timed out" in result.error and "2 attempts" in result.error
    assert len(raw.requests) == 2
    assert time.monotonic() - started < 2


def test_a_slow_drip_is_cut_off_by_the_total_deadline():
    with RawServer(_drip) as raw:
        result = fetch(raw.url, policy(read_timeout=1.0, total_timeout=0.3, retries=0))
    assert (result.outcome, result.status, result.attempts) == ("timeout", 200, 1)
    assert "within 0.3s" in result.error
    assert result.elapsed < 5  # cut at 0.3 s, not left to drip on (loose: a busy CI)


def test_a_body_shorter_than_its_content_length_is_a_connection_error():
    with RawServer(_short_body) as raw:
        result = fetch(raw.url, policy(retries=1))
    assert (result.outcome, result.status, result.attempts) == ("connection_error", 200, 2)
    assert "RemoteProtocolError" in result.error


def test_a_refused_connection_is_a_connection_error():
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/", policy(retries=1))
    assert (result.outcome, result.status, result.attempts) == ("connection_error", None, 2)
    assert "ConnectError" in result.error


# --- redirects -----------------------------------------------------------------------------

def _redirect(server: HTTPServer, path: str, location: str, status: int = 302) -> None:
    server.expect_request(path).respond_with_response(
        Response(status=status, headers={"Location": location}))


def test_a_redirect_loop_is_detected(server):
    _redirect(server, "/a", server.url_for("/b"))
    _redirect(server, "/b", "/a")
    result = fetch(server.url_for("/a"))
    assert (result.outcome, result.status, result.attempts) == ("redirect_loop", 302, 2)
    assert "already visited" in result.error
    assert paths(server) == ["/a", "/b"]


def test_too_many_redirects(server):
    for n in range(10):
        _redirect(server, f"/r{n}", f"/r{n + 1}", status=301)
    result = fetch(server.url_for("/r0"), policy(max_redirects=3))
    assert (result.outcome, result.status, result.attempts) == ("too_many_redirects", 301, 4)
    assert result.error == "more than 3 redirects"


def test_a_relative_redirect_is_followed_and_recorded(server):
    _redirect(server, "/news/old", "story?id=7", status=301)
    server.expect_request("/news/story", query_string="id=7").respond_with_data(
        PAGE, content_type="text/html")
    result = fetch(server.url_for("/news/old"))
    assert (result.outcome, result.status, result.attempts) == ("ok", 200, 2)
    assert result.final_url == server.url_for("/news/story?id=7")
    assert result.url == server.url_for("/news/old")


def test_a_redirect_to_a_refused_address_is_blocked_before_connecting(server):
    # 127.0.0.2 is loopback but outside the allowed /32; nothing listens there either,
    # so a connection attempt would show as connection_error, not blocked_address
    target = f"http://127.0.0.2:{server.port}/inside"
    _redirect(server, "/out", target)
    result = fetch(server.url_for("/out"))
    assert (result.outcome, result.status, result.attempts) == ("blocked_address", 302, 1)
    assert "127.0.0.2" in result.error and "loopback" in result.error
    assert result.final_url == target


# --- addresses and URLs --------------------------------------------------------------------

def test_a_private_address_is_refused_unless_allowed(server):
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    result = fetch(server.url_for("/page"), policy(allowed_networks=()))
    assert (result.outcome, result.status, result.attempts) == ("blocked_address", None, 0)
    assert "127.0.0.1" in result.error and "loopback" in result.error
    assert server.log == []
    assert fetch(server.url_for("/page"), policy(allowed_networks=(), allow_private=True)).ok


def test_a_host_name_is_checked_on_the_addresses_it_resolves_to(server):
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    result = fetch(f"http://localhost:{server.port}/page", policy(allowed_networks=()))
    assert (result.outcome, result.attempts) == ("blocked_address", 0)
    assert result.error.startswith("localhost resolves to ") and "loopback" in result.error
    assert "allowed_networks setting, NEWSWATCH_ALLOWED_NETWORKS" in result.error
    assert server.log == []


def test_a_name_that_rebinds_to_a_private_address_is_not_reached(server, monkeypatch):
    """DNS rebinding: the name answers a public address when checked, 127.0.0.1 after.
    The resolver is the one part replaced here: no DNS server's answers can be set."""
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    answers = iter(["93.184.216.34"] + ["127.0.0.1"] * 10)
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def rebinding(self, host, port, *args, **kwargs):
        if host in ("rebind.test", b"rebind.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", rebinding)
    result = fetch(f"http://rebind.test:{server.port}/page",
                   policy(allowed_networks=(), retries=0, connect_timeout=0.5))
    assert result.outcome in ("connection_error", "timeout")  # the public address, unreachable
    assert server.log == []


@pytest.mark.parametrize(("address", "problem"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.1", "private"), ("172.16.5.4", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("fd00::1", "private"), ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"), ("::ffff:10.0.0.1", "private"),
    ("100.64.0.1", "not globally routable"), ("93.184.216.34", None), ("2606:4700::1", None),
    ("192.0.0.9", "special-purpose"), ("2002:7f00:1::", "loopback"),
    ("2002:a00:1::", "private"), ("fec0::1", "site-local"), ("2002:5db8:d822::", None),
])
def test_address_problem(address, problem):
    assert address_problem(address) == problem


def test_allowed_networks_apply_to_ipv4_mapped_addresses():
    allowed = FetchPolicy(allowed_networks=("127.0.0.1/32",))
    assert address_problem("::ffff:127.0.0.1", allowed) is None
    assert address_problem("127.0.0.2", allowed) == "loopback"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/file", "file:///etc/passwd", "not a url",
                                 "http://"])
def test_invalid_urls(url):
    result = fetch(url)
    assert (result.outcome, result.status, result.attempts) == ("invalid_url", None, 0)
    assert result.error


# --- bodies --------------------------------------------------------------------------------

def test_a_20_mb_body_is_cut_off_while_streaming():
    with RawServer(_twenty_mb) as raw:
        result = fetch(raw.url, policy(max_bytes=1_000_000))
        time.sleep(0.1)  # let the server notice the hang-up
        sent = raw.sent
    assert (result.outcome, result.status, result.attempts) == ("too_large", 200, 1)
    assert "1000000 bytes" in result.error
    assert 1_000_000 < result.bytes <= 1_000_000 + 65536
    assert sent < 20_000_000


def test_a_too_large_content_length_is_refused_before_the_body(server):
    server.expect_request("/page").respond_with_data("x" * 2_000_000, content_type="text/html")
    result = fetch(server.url_for("/page"), policy(max_bytes=1_000_000))
    assert (result.outcome, result.status, result.bytes) == ("too_large", 200, 0)
    assert result.error == "Content-Length 2000000 exceeds the limit of 1000000 bytes"


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of zeros as a ~1 MB gzip member, built from one repeated deflate segment."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    # after a full flush the compressor starts afresh, so every MiB compresses the same
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return (header + segment * 1024 + deflate.flush(zlib.Z_FINISH)
            + struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF))


# Serves one file, raw, to every connection. It runs in its own process so that the memory
# measured is the fetcher's alone: tracemalloc sees every thread, servers' threads included.
_FILE_SERVER = """
import socket, sys
body = open(sys.argv[1], "rb").read()
coding = sys.argv[2].encode() if len(sys.argv) > 2 else b"gzip"
head = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\nContent-Encoding: %s\\r\\n"
        b"Content-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % (coding, len(body)))
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    with conn:
        conn.recv(65536)
        try:
            conn.sendall(head + body)
        except OSError:
            pass
"""


@pytest.mark.parametrize("coding", ["gzip", "gzip, gzip"])
def test_a_gzip_bomb_is_stopped_quickly_and_in_little_memory(gzip_bomb, tmp_path, coding):
    """Also stacked: gzip of the bomb, labelled "gzip, gzip" (httpx inflated 1 GB)."""
    bomb_file = tmp_path / "bomb.gz"
    bomb_file.write_bytes(gzip_bomb if coding == "gzip" else zlib.compress(gzip_bomb, wbits=31))
    limit = 2_000_000  # above the compressed size, so only the decoded size can trip it

    async def run(bomb_url: str) -> tuple[FetchResult, int]:
        async with Fetcher(policy(max_bytes=limit)) as fetcher:
            await fetcher.fetch(bomb_url)  # once untraced: the client's lazy imports happen here
            tracemalloc.start()
            try:
                result = await fetcher.fetch(bomb_url)
                return result, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    with subprocess.Popen([sys.executable, "-c", _FILE_SERVER, str(bomb_file), coding],
                          stdout=subprocess.PIPE, text=True) as child:
        try:
            port = int(child.stdout.readline())
            result, peak = asyncio.run(run(f"http://127.0.0.1:{port}/bomb"))
        finally:
            child.kill()
    assert (result.outcome, result.status, result.attempts) == ("too_large", 200, 1)
    assert f"{limit} bytes" in result.error
    assert limit < result.bytes <= limit + 65536
    assert result.elapsed < 30  # loose bound for a busy machine; memory is the real check
    # inflating each 64 KB network read whole (what httpx does) would peak above 60 MB
    assert peak < 2 * limit, peak


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "gzip-members"])
def test_compressed_pages_are_decoded(server, coding):
    body = PAGE.encode()
    if coding == "gzip":
        data = zlib.compress(body, wbits=31)
    elif coding == "deflate":
        data = zlib.compress(body)
    elif coding == "raw-deflate":
        data = zlib.compress(body, wbits=-15)
    else:  # two gzip members, as `cat a.gz b.gz` makes
        data = zlib.compress(body[:20], wbits=31) + zlib.compress(body[20:], wbits=31)
    header = "gzip" if "gzip" in coding else "deflate"
    server.expect_request("/page").respond_with_data(
        data, content_type="text/html", headers={"Content-Encoding": header})
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.html, result.bytes) == ("ok", PAGE, len(body))


def test_stacked_encodings_are_decoded_layer_by_layer(server):
    data = zlib.compress(zlib.compress(PAGE.encode(), wbits=31))
    server.expect_request("/page").respond_with_data(
        data, content_type="text/html", headers={"Content-Encoding": "gzip, deflate"})
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.html) == ("ok", PAGE)


@pytest.mark.parametrize(("header", "error"), [
    ("br", "Content-Encoding br was not asked for"),
    ("gzip, gzip, gzip", "stacks 3 layers (at most 2 are decoded)"),
])
def test_unasked_or_deep_encodings_are_refused(server, header, error):
    server.expect_request("/page").respond_with_data(
        b"whatever", content_type="text/html", headers={"Content-Encoding": header})
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.attempts) == ("bad_encoding", 1)
    assert error in result.error


def test_credentials_in_a_url_are_never_sent(server):
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    url = server.url_for("/page").replace("http://", "http://user:secret@")
    result = fetch(url)
    assert (result.outcome, result.attempts) == ("invalid_url", 0)
    assert "secret" not in result.error
    assert server.log == []
    # nor through a redirect
    server.expect_request("/hop").respond_with_data("", status=302, headers={"Location": url})
    hop = fetch(server.url_for("/hop"))
    assert hop.outcome == "invalid_url" and "secret" not in (hop.final_url or "")
    assert paths(server) == ["/hop"]


def test_binary_content_labelled_html_is_not_html(server):
    png_ish = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 8
    server.expect_request("/page").respond_with_data(png_ish, content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status) == ("not_html", 200)
    assert result.error == "binary content labelled text/html"
    assert result.html is None


def test_an_image_is_not_html(server):
    server.expect_request("/logo.png").respond_with_data(b"\x89PNG\r\n", content_type="image/png")
    result = fetch(server.url_for("/logo.png"))
    assert (result.outcome, result.status, result.bytes) == ("not_html", 200, 0)
    assert result.error == "content type image/png is not HTML"
    assert result.content_type == "image/png"


def test_a_page_without_content_type_is_sniffed(server):
    untyped = Response(PAGE)
    del untyped.headers["Content-Type"]
    server.expect_request("/page").respond_with_response(untyped)
    plain = Response("just some words")
    del plain.headers["Content-Type"]
    server.expect_request("/text").respond_with_response(plain)
    assert fetch(server.url_for("/page")).ok
    result = fetch(server.url_for("/text"))
    assert (result.outcome, result.status) == ("not_html", 200)
    assert "does not look like HTML" in result.error


def test_an_empty_200_is_empty(server):
    server.expect_request("/page").respond_with_data(b"", content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.bytes) == ("empty", 200, 0)
    assert result.error == "empty body (HTTP 200)"


def test_malformed_html_is_still_fetched(server):
    broken = "<html><body><p>unclosed <div><b>bold <i>text</p></table>&nbsp &"
    server.expect_request("/page").respond_with_data(broken, content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.status, result.error) == ("ok", 200, None)
    assert result.html == broken and result.raw == broken.encode()


# --- charsets ------------------------------------------------------------------------------

def test_windows_1251_without_a_charset_is_detected(server):
    server.expect_request("/page").respond_with_data(RUSSIAN.encode("cp1251"),
                                                     content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.encoding) == ("ok", "cp1251")
    assert result.html == RUSSIAN


def test_latin_1_without_a_charset_is_detected(server):
    server.expect_request("/page").respond_with_data(FRENCH.encode("latin-1"),
                                                     content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert result.outcome == "ok"
    assert "café" in result.html and "Zürich" in result.html and "à huis" in result.html
    assert result.encoding == "cp1252"  # browsers read Latin-1 as its superset


def test_a_meta_charset_is_used(server):
    page = '<html><head><meta charset="windows-1251"></head><body>Войска ОДКБ</body></html>'
    server.expect_request("/page").respond_with_data(page.encode("cp1251"),
                                                     content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.encoding, result.html) == ("ok", "cp1251", page)


def test_a_header_charset_wins_over_the_document(server):
    page = '<html><head><meta charset="utf-8"></head><body>Войска ОДКБ</body></html>'
    server.expect_request("/page").respond_with_data(
        page.encode("koi8-r"), content_type="text/html; charset=KOI8-R")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.encoding, result.html) == ("ok", "koi8-r", page)


@pytest.mark.parametrize(("body", "content_type", "encoding"), [
    (RUSSIAN.encode("cp1251"), "text/html; charset=x-unknown-charset", "cp1251"),
    (RUSSIAN.encode("cp1251"), "text/html; charset=utf-8", "cp1251"),  # a wrong declaration
    (b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">',
     None, "iso8859-2"),
    ("\ufeff<p>Привет</p>".encode(), "text/html; charset=windows-1251", "utf-8-sig"),
    ("<p>naïve</p>".encode("latin-1"), "text/html; charset=iso-8859-1", "cp1252"),
    (FRENCH.encode(), "text/html; charset=iso-8859-1", "utf-8"),   # the bytes say UTF-8
    (RUSSIAN.encode(), "text/html; charset=windows-1251", "utf-8"),
    (FRENCH.encode("utf-16-le"), "text/html", "utf-16-le"),        # no BOM: the NULs say
    (RUSSIAN.encode("utf-16-be"), None, "utf-16-be"),
])
def test_charset_choice(body, content_type, encoding):
    assert decode_html(body, content_type)[1] == encoding


@pytest.mark.parametrize(("body", "content_type"), [
    (FRENCH.encode(), "text/html; charset=iso-8859-1"),
    (RUSSIAN.encode("utf-16-le"), "text/html"),
    (RUSSIAN.encode("utf-16-be"), "text/html; charset=utf-16"),
])
def test_pages_are_decoded_by_evidence_not_labels(server, body, content_type):
    server.expect_request("/page").respond_with_data(body, content_type=content_type)
    result = fetch(server.url_for("/page"))
    assert result.outcome == "ok", result.error
    assert result.html in (FRENCH, RUSSIAN)


def test_binary_after_the_first_bytes_is_not_stored_as_text(server):
    head = PAGE.encode() * 40  # 3 KB of HTML, then an image
    binary = bytes(range(256)) * 400
    server.expect_request("/page").respond_with_data(head + binary, content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert (result.outcome, result.html) == ("not_html", None)
    assert "characters are not text" in result.error


# --- conditional requests, robots.txt, politeness, concurrency ----------------------------

def test_a_conditional_request_gets_not_modified(server):
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(PAGE, content_type="text/html",
                        headers={"ETag": '"v1"', "Last-Modified": "Tue, 04 Jan 2022 10:00:00 GMT"})

    server.expect_request("/page").respond_with_handler(handler)
    first = fetch(server.url_for("/page"))
    assert (first.outcome, first.etag, first.last_modified) == (
        "ok", '"v1"', "Tue, 04 Jan 2022 10:00:00 GMT")
    again = fetch(server.url_for("/page"), etag=first.etag, last_modified=first.last_modified)
    assert (again.outcome, again.status, again.error, again.html) == (
        "not_modified", 304, None, None)
    assert again.etag == '"v1"'
    request = server.log[-1][0]
    assert request.headers["If-Modified-Since"] == "Tue, 04 Jan 2022 10:00:00 GMT"


def test_robots_txt_is_obeyed_and_fetched_once(server):
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    server.expect_request("/private").respond_with_data(PAGE, content_type="text/html")
    for n in range(8):
        server.expect_request(f"/news/{n}").respond_with_data(PAGE, content_type="text/html")
    urls = [server.url_for(f"/news/{n}") for n in range(8)] + [server.url_for("/private")]
    results = {r.url: r for r in fetch_many(urls, policy(obey_robots=True))}
    blocked = results[server.url_for("/private")]
    assert (blocked.outcome, blocked.status, blocked.attempts) == ("disallowed", None, 0)
    assert "robots.txt disallows" in blocked.error
    assert sum(r.ok for r in results.values()) == 8
    assert "/private" not in paths(server)
    assert paths(server).count("/robots.txt") == 1


@pytest.mark.parametrize("status", [404, 500])
def test_a_missing_or_failing_robots_txt_allows_all(server, status):
    server.expect_request("/robots.txt").respond_with_data("no", status=status)
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    assert fetch(server.url_for("/page"), policy(obey_robots=True)).ok


def test_a_robots_txt_over_the_limit_is_read_to_the_limit(server):
    big = "User-agent: *\nDisallow: /\n" + "# padding\n" * 60_000  # 600 KB
    server.expect_request("/robots.txt").respond_with_data(big, content_type="text/plain")
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    result = fetch(server.url_for("/page"), policy(obey_robots=True))
    assert result.outcome == "disallowed"
    assert "/page" not in paths(server)


def test_robots_crawl_delay_spaces_requests(server):
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 0.3\n")
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    started = time.monotonic()
    results = fetch_many([server.url_for("/page")] * 3, policy(obey_robots=True))
    assert all(r.ok for r in results)
    assert time.monotonic() - started >= 0.55


def test_per_host_politeness_spaces_request_starts(server):
    starts: list[float] = []

    def handler(request: Request) -> Response:
        starts.append(time.monotonic())
        return Response(PAGE, content_type="text/html")

    server.expect_request("/page").respond_with_handler(handler)
    results = fetch_many([server.url_for(f"/page?n={n}") for n in range(4)],
                         policy(per_host_delay=0.3, max_per_host=4))
    assert [r.outcome for r in results] == ["ok"] * 4
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # the first request also opens the connection: under load it reaches the server
    # late (a first gap of 0.16 s was seen in a full run), the others keep the pace
    assert len(gaps) == 3 and min(gaps[1:]) >= 0.28 and sum(gaps) >= 0.56


def _concurrency_probe(server: HTTPServer) -> list[int]:
    """Serve /slow/* slowly and record the peak number of requests in flight."""
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def handler(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Response(PAGE, content_type="text/html")

    server.expect_request("/slow").respond_with_handler(handler)
    return state


@pytest.mark.parametrize(("per_host", "peak"), [(1, 1), (3, 3)])
def test_max_per_host_bounds_concurrent_requests(server, per_host, peak):
    state = _concurrency_probe(server)
    results = fetch_many([server.url_for(f"/slow?n={n}") for n in range(9)],
                         policy(max_per_host=per_host))
    assert [r.outcome for r in results] == ["ok"] * 9
    assert state["peak"] == peak


def test_fetch_many_yields_every_result(server):
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    requests = [(server.url_for(f"/page?n={n}"), None, None) for n in range(50)]
    results = fetch_many(requests, policy(max_connections=4, max_per_host=4))
    assert len(results) == 50
    assert sorted(r.url for r in results) == sorted(url for url, _, _ in requests)
    assert all(r.ok for r in results)


def test_fetch_all_keeps_the_order_and_sends_validators(server):
    server.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    server.expect_request("/b", headers={"If-None-Match": '"x"'}).respond_with_data(
        "", status=304)
    urls = [server.url_for("/b"), server.url_for("/a"), "ftp://x/"]
    results = asyncio.run(fetch_all(urls, policy(), {urls[0]: ('"x"', None)}))
    assert [(r.url, r.outcome) for r in results] == [
        (urls[0], "not_modified"), (urls[1], "ok"), (urls[2], "invalid_url")]


def test_our_headers_are_sent(server):
    server.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    result = fetch(server.url_for("/page"))
    assert result.ok
    headers = server.log[0][0].headers
    assert headers["User-Agent"] == FetchPolicy().user_agent
    assert headers["Accept"] == "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
    assert headers["Accept-Encoding"] == "gzip, deflate"


def test_a_result_records_what_happened(server):
    server.expect_request("/page").respond_with_data(
        PAGE.encode(), content_type="text/html; charset=utf-8")
    result = fetch(server.url_for("/page"))
    assert result.ok and result.error is None
    assert (result.bytes, result.raw, result.html) == (len(PAGE), PAGE.encode(), PAGE)
    assert (result.encoding, result.content_type) == ("utf-8", "text/html; charset=utf-8")
    assert result.fetched_at.tzinfo is UTC and result.fetched_at <= datetime.now(UTC)
    assert 0 < result.elapsed < 10 and result.attempts == 1
    result.raise_for_outcome()


@pytest.mark.parametrize(("outcome", "status", "error"), [
    ("http_error", 404, PermanentFetchError), ("http_error", 503, TransientFetchError),
    ("timeout", None, TransientFetchError), ("too_large", 200, PermanentFetchError),
])
def test_raise_for_outcome_splits_transient_from_permanent(outcome, status, error):
    result = FetchResult(url="http://x/", final_url="http://x/", status=status, outcome=outcome,
                         error="why", bytes=0, elapsed=0.0, attempts=1,
                         fetched_at=datetime.now(UTC))
    with pytest.raises(error, match="http://x/: why"):
        result.raise_for_outcome()
