"""Fetching web pages politely and defensively: one FetchResult per URL, never an exception.

    async with Fetcher(FetchPolicy()) as fetcher:
        async for result in fetcher.fetch_many([(url, None, None) for url in urls]):
            if result.ok:
                store(result.url, result.raw)

Every hop of a redirect chain is checked before it is requested: an http(s)
URL, a host that resolves only to public addresses (so a page cannot point us
at the intranet), and robots.txt. Requests are bounded in all and per host,
spaced per host, retried with backoff when that can help, and cut off by a
deadline. Bodies are decoded under a byte limit, so neither a huge page nor
a compressed bomb is ever held in memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import random
import socket
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from newswatch.errors import FetchError, PermanentFetchError, TransientFetchError

from .charset import decode_html, utf16_without_bom
from .policy import FetchPolicy
from .robots import MAX_ROBOTS_BYTES, RobotsCache, origin_of

__all__ = ["OUTCOMES", "FetchPolicy", "FetchResult", "Fetcher", "address_problem", "fetch_all"]

logger = logging.getLogger(__name__)

DEFAULT_POLICY = FetchPolicy()

OUTCOMES = frozenset({
    "ok", "not_modified", "http_error", "disallowed", "blocked_address", "too_large",
    "not_html", "timeout", "connection_error", "redirect_loop", "too_many_redirects",
    "invalid_url", "empty", "bad_encoding", "rate_limited",
})
_RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
# Only what _Inflater decodes under the limit: a server must not send us brotli or zstd.
_ACCEPT_ENCODING = "gzip, deflate"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32 text is full of NUL bytes, legitimately
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\f\r\x1b") + b"\x7f"
_MAX_BAD_SHARE = 0.05  # of a page's characters undecodable or control: not text
_STEP = 65536  # bytes inflated at a time: the most a body can overshoot the limit by
_DNS_TTL = 60.0  # seconds an address check is reused: glibc does not cache lookups
# special-purpose ranges that Python's ipaddress calls global (IETF protocol assignments)
_ALSO_REFUSED = (ipaddress.ip_network("192.0.0.0/24"),)
_MAX_CODINGS = 2  # stacked Content-Encodings decoded; a deeper stack is refused


@dataclass(frozen=True)
class Attempt:
    """One HTTP request made while fetching a URL: a retry or a redirect hop."""

    url: str
    status: int | None
    error: str | None
    bytes: int
    elapsed: float
    started_at: datetime


@dataclass
class FetchResult:
    """How fetching one URL went; `raw` (and for an HTML page `encoding`, so `html`)
    are set for outcome "ok" only."""

    url: str
    final_url: str | None
    status: int | None
    outcome: str
    error: str | None
    bytes: int
    elapsed: float
    attempts: int  # HTTP requests made: retries and redirect hops, robots.txt not counted
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    encoding: str | None = None
    raw: bytes | None = None
    attempt_log: list[Attempt] = field(default_factory=list)  # every HTTP request, in order

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def html(self) -> str | None:
        """The HTML page's text, decoded when asked for, not kept: a page waiting for
        extraction holds its bytes only (decoded, real pages take 1 to 4 times more)."""
        if self.raw is None or self.encoding is None:
            return None
        return self.raw.decode(self.encoding, errors="replace")

    @property
    def transient(self) -> bool:
        """Whether fetching again later may succeed."""
        if self.outcome == "http_error":
            return self.status in _RETRY_STATUSES
        return self.outcome in ("timeout", "connection_error", "rate_limited")

    def raise_for_outcome(self) -> None:
        """Raise a FetchError unless the page was fetched or is unchanged."""
        if self.outcome in ("ok", "not_modified"):
            return
        kind: type[FetchError] = TransientFetchError if self.transient else PermanentFetchError
        raise kind(self.url, self.outcome, self.error or self.outcome)


def address_problem(address: str, policy: FetchPolicy = DEFAULT_POLICY) -> str | None:
    """Why the policy refuses to connect to this IP address, or None if it may.

    >>> address_problem("10.0.0.1")
    'private'
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 reaches 10.0.0.1, and so may 6to4's 2002:0a00:0001::
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    if policy.allow_private or any(ip in net for net in _networks(policy.allowed_networks)):
        return None
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private",
                 "site_local"):
        if getattr(ip, f"is_{kind}", False):
            return kind.replace("_", "-")
    if any(ip in net for net in _ALSO_REFUSED):
        return "special-purpose"
    return None if ip.is_global else "not globally routable"


@lru_cache(maxsize=32)
def _networks(specs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


class _Fail(Exception):
    """Ends one URL's fetch with an outcome; `retry` if another attempt may help."""

    def __init__(self, outcome: str, error: str, *, retry: bool = False,
                 retry_after: float | None = None):
        super().__init__(error)
        self.outcome, self.error, self.retry, self.retry_after = outcome, error, retry, retry_after


@dataclass
class _Trace:
    """What one URL's fetch has seen so far, across hops and attempts."""

    final_url: str | None = None
    status: int | None = None
    attempts: int = 0
    bytes: int = 0
    headers: httpx.Headers | None = None
    log: list[Attempt] = field(default_factory=list)
    html_only: bool = True


@dataclass
class _Response:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes = b""


class _Host:
    """One origin's share of the fetcher: concurrent requests and spacing of their starts."""

    def __init__(self, policy: FetchPolicy):
        self.slots = asyncio.Semaphore(policy.max_per_host)
        self.delay = policy.per_host_delay
        self._turn = asyncio.Lock()
        self._next_start = 0.0
        self.gave_up: str | None = None  # why this run asks the host nothing more

    async def wait_turn(self) -> None:
        # the lock queues waiters, so each start is at least `delay` after the previous one
        async with self._turn:
            loop = asyncio.get_running_loop()
            wait = self._next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start = loop.time() + self.delay

    def pause(self, seconds: float) -> None:
        """The host said to slow down: no request to it starts for `seconds`."""
        loop = asyncio.get_running_loop()
        self._next_start = max(self._next_start, loop.time() + seconds)


class _Inflater:
    """Decodes gzip, deflate or identity in pieces of at most _STEP bytes.

    httpx inflates each network read whole: 64 KB of gzip can become 64 MB.
    The caller stops pulling pieces at its limit, and the rest is never inflated.
    """

    def __init__(self, coding: str):
        self._coding = coding
        self._z = self._new() if coding else None
        self._started, self._members = False, 0

    def _new(self, raw_deflate: bool = False) -> zlib._Decompress:
        if raw_deflate:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in self._coding else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:
            yield data
            return
        while data:
            try:
                piece = self._z.decompress(data, _STEP)
            except zlib.error:
                if self._coding == "deflate" and not self._started:
                    self._z = self._new(raw_deflate=True)  # servers that send deflate unwrapped
                    self._started = True
                    continue
                if self._members:
                    return  # junk after a complete gzip member: ignored, as browsers do
                raise
            self._started = True
            if piece:
                yield piece
            if not self._z.eof:
                data = self._z.unconsumed_tail
            elif "gzip" in self._coding:  # the next gzip member, if any
                data, self._z = self._z.unused_data, self._new()
                self._members += 1
            else:
                return


def _inflaters(header: str) -> list[_Inflater]:
    """One decoder per Content-Encoding layer, outermost (last applied) first."""
    codings = [c.strip().lower() for c in header.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
    if unknown:
        raise _Fail("bad_encoding", f"Content-Encoding {', '.join(unknown)} was not asked for")
    if len(codings) > _MAX_CODINGS:
        raise _Fail("bad_encoding", f"Content-Encoding stacks {len(codings)} layers "
                                    f"(at most {_MAX_CODINGS} are decoded)")
    return [_Inflater(c) for c in reversed(codings)] or [_Inflater("")]


def _inflate(inflaters: list[_Inflater], data: bytes) -> Iterator[bytes]:
    """Data through every layer, lazily: each layer inflates at most _STEP bytes at a
    time, so the caller's limit holds on the decoded bytes of every layer."""
    if len(inflaters) == 1:
        yield from inflaters[0].feed(data)
        return
    for piece in inflaters[0].feed(data):
        yield from _inflate(inflaters[1:], piece)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the address the fetcher checked, never to a fresh lookup.

    Checking a name and then letting httpx resolve it again to connect lets a
    name that answered a public address answer 127.0.0.1 the second time (DNS
    rebinding). TLS still names the host (SNI and the certificate check use the
    URL's host, not the address).
    """

    def __init__(self, pinned: dict[tuple[str, int], str], allow_private: bool):
        self._inner = httpcore.AnyIOBackend()
        self._pinned, self._allow_private = pinned, allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        address = self._pinned.get((host, port))
        if address is None and not self._allow_private:
            raise httpcore.ConnectError(f"{host}:{port} was not checked before connecting")
        return await self._inner.connect_tcp(address or host, port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _pinned_transport(policy: FetchPolicy, pinned: dict[tuple[str, int], str],
                      limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx takes no network backend; its pool creates every connection through this one
    transport._pool._network_backend = _PinnedBackend(pinned, policy.allow_private)
    return transport


class Fetcher:
    """Fetches pages over one httpx.AsyncClient; use it as an async context manager."""

    def __init__(self, policy: FetchPolicy = DEFAULT_POLICY,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.policy = policy
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(policy.max_connections)
        self._hosts: dict[str, _Host] = {}
        self._checked: dict[tuple[str, int], tuple[float, str | None]] = {}
        self._pinned: dict[tuple[str, int], str] = {}  # the address each check allowed
        self._robots = RobotsCache(policy.user_agent, self._download_robots)
        # a few tasks per connection, so that one slow host does not idle the rest
        self._workers = max(1, policy.max_connections) * 4

    async def __aenter__(self) -> Fetcher:
        p = self.policy
        limits = httpx.Limits(max_connections=p.max_connections,
                              max_keepalive_connections=p.max_connections)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": p.user_agent, "Accept": _ACCEPT,
                     "Accept-Encoding": _ACCEPT_ENCODING},
            timeout=httpx.Timeout(connect=p.connect_timeout, read=p.read_timeout,
                                  write=p.read_timeout, pool=p.total_timeout),
            limits=limits,
            follow_redirects=False,  # each hop is checked first, in _follow
            trust_env=False,  # a proxy from the environment would bypass the address check
            transport=self._transport or _pinned_transport(p, self._pinned, limits),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None, document: bool = False) -> FetchResult:
        """Fetch one page; a conditional GET when validators are given.

        `document=True` fetches a feed or sitemap: any content type, the body
        in `raw` undecoded (the parser reads its XML encoding), `html` None.
        """
        if self._client is None:
            raise RuntimeError("use the Fetcher inside `async with`")
        loop = asyncio.get_running_loop()
        started, fetched_at = loop.time(), datetime.now(UTC)
        trace = _Trace(html_only=not document)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        raw = encoding = error = None
        try:
            response = await self._follow(url, headers, trace)
            if response.status == 304:
                outcome = "not_modified"
            elif document:
                if not 200 <= response.status < 300:
                    raise _Fail("http_error",
                                f"HTTP {response.status} {response.reason}".strip())
                if not response.body:
                    raise _Fail("empty", f"empty body (HTTP {response.status})")
                outcome, raw = "ok", response.body
            else:
                encoding = self._judge(response)
                outcome, raw = "ok", response.body
        except _Fail as fail:
            outcome, error = fail.outcome, fail.error
        hdrs = trace.headers or httpx.Headers()
        result = FetchResult(
            url=url, final_url=trace.final_url, status=trace.status, outcome=outcome,
            error=error, bytes=trace.bytes, elapsed=loop.time() - started,
            attempts=trace.attempts, fetched_at=fetched_at, attempt_log=trace.log,
            etag=hdrs.get("etag") or (etag if outcome == "not_modified" else None),
            last_modified=hdrs.get("last-modified")
            or (last_modified if outcome == "not_modified" else None),
            content_type=hdrs.get("content-type"), encoding=encoding, raw=raw,
        )
        logger.debug("%s: %s%s", url, outcome, f" ({error})" if error else "")
        return result

    async def fetch_many(
        self, requests: Iterable[tuple[str, str | None, str | None] | str]
    ) -> AsyncIterator[FetchResult]:
        """Fetch (url, etag, last_modified) requests; yield results as they complete."""
        async for _, result in self._pool(requests):
            yield result

    async def _pool(self, requests: Iterable) -> AsyncIterator[tuple[int, FetchResult]]:
        # a feeder keeps at most _workers tasks alive: 100k URLs never become 100k tasks
        feed = enumerate(requests)
        pending: dict[asyncio.Task, int] = {}
        try:
            while True:
                for index, item in itertools.islice(feed, self._workers - len(pending)):
                    url, etag, last_modified = (item, None, None) if isinstance(item, str) else item
                    task = asyncio.create_task(
                        self.fetch(url, etag=etag, last_modified=last_modified))
                    pending[task] = index
                if not pending:
                    return
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield pending.pop(task), task.result()
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # --- one URL: hops, attempts, the response ----------------------------------------------

    async def _follow(self, url: str, headers: dict[str, str], trace: _Trace) -> _Response:
        seen: set[str] = set()
        current = url
        for _ in range(self.policy.max_redirects + 1):
            target = _parse(current)
            trace.final_url = str(target)
            key = str(target.copy_with(fragment=None))
            if key in seen:
                raise _Fail("redirect_loop", f"redirect loop: {key} was already visited")
            seen.add(key)
            await self._check_address(target)
            if self.policy.obey_robots:
                robots = await self._robots.get(target)
                host = self._host(target)
                host.delay = max(self.policy.per_host_delay, robots.crawl_delay or 0.0)
                if not robots.allowed(str(target)):
                    raise _Fail("disallowed", f"robots.txt disallows {key} for our user agent")
            response = await self._request(target, headers, trace)
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            try:
                current = str(target.join(location))
            except httpx.InvalidURL as exc:
                raise _Fail("invalid_url", f"bad redirect Location {location!r}: {exc}") from None
        raise _Fail("too_many_redirects", f"more than {self.policy.max_redirects} redirects")

    async def _request(self, target: httpx.URL, headers: dict[str, str],
                       trace: _Trace) -> _Response:
        """One hop, retried while that can help."""
        p = self.policy
        for attempt in range(p.retries + 1):
            trace.attempts += 1
            trace.status, trace.bytes = None, 0
            started, clock = datetime.now(UTC), time.perf_counter()
            try:
                response = await self._attempt(target, headers, trace)
            except _Fail as fail:
                trace.log.append(Attempt(str(target), trace.status, fail.error, trace.bytes,
                                         time.perf_counter() - clock, started))
                if not fail.retry:
                    raise
                failure = fail
            else:
                error = None if response.status < 400 else (
                    f"HTTP {response.status} {response.reason}".strip())
                trace.log.append(Attempt(str(target), response.status, error, trace.bytes,
                                         time.perf_counter() - clock, started))
                if response.status not in _RETRY_STATUSES:
                    return response
                failure = _Fail(
                    "http_error", f"HTTP {response.status} {response.reason}".strip(), retry=True,
                    retry_after=_retry_after(response.headers.get("retry-after")))
            host = self._host(target)
            if failure.retry_after is not None and failure.retry_after > p.max_retry_after:
                # a host that asks for more than we wait is left alone for this run
                host.gave_up = (f"{target.host} asked to wait {failure.retry_after:.0f} s "
                                f"(Retry-After), more than max_retry_after "
                                f"{p.max_retry_after:g} s: not asked again this run")
                logger.warning("%s", host.gave_up)
                failure.outcome, failure.error = "rate_limited", host.gave_up
                break
            if attempt == p.retries:
                break
            if failure.retry_after is not None:
                delay = failure.retry_after
            else:  # full jitter: retries from many workers do not arrive together
                delay = random.uniform(0, min(p.backoff_max, p.backoff_base * 2**attempt))
            if trace.status in (429, 503):  # the host is overloaded: all its URLs wait
                host.pause(delay)
            logger.debug("%s: %s, retrying in %.2fs", target, failure.error, delay)
            await asyncio.sleep(delay)
        failure.error += f" ({trace.attempts} attempts)" if trace.attempts > 1 else ""
        raise failure

    async def _attempt(self, target: httpx.URL, headers: dict[str, str], trace: _Trace, *,
                       limit: int | None = None, html_only: bool = True,
                       truncate: bool = False) -> _Response:
        """One HTTP request under the host's and the fetcher's limits and a deadline."""
        assert self._client is not None
        p = self.policy
        host = self._host(target)
        # the host's slot first: waiting for a busy host must not hold one of the fetcher's
        async with host.slots, self._slots:
            await host.wait_turn()
            if host.gave_up:
                raise _Fail("rate_limited", host.gave_up)
            try:
                async with asyncio.timeout(p.total_timeout):
                    async with self._client.stream("GET", target, headers=headers) as response:
                        return await self._read(response, trace, limit or p.max_bytes,
                                                html_only and trace.html_only, truncate)
            except TimeoutError:
                raise _Fail("timeout", f"no complete answer within {p.total_timeout:g}s",
                            retry=True) from None
            except httpx.TimeoutException as exc:
                kind = type(exc).__name__.removesuffix("Timeout").lower()
                raise _Fail("timeout", f"{kind} timed out", retry=True) from None
            except httpx.InvalidURL as exc:
                raise _Fail("invalid_url", f"invalid URL: {exc}") from None
            except (httpx.HTTPError, zlib.error) as exc:
                reason = str(exc) or type(exc).__name__
                raise _Fail("connection_error", f"{type(exc).__name__}: {reason}",
                            retry=True) from None

    async def _read(self, response: httpx.Response, trace: _Trace, limit: int,
                    html_only: bool, truncate: bool = False) -> _Response:
        trace.status, trace.headers, trace.bytes = response.status_code, response.headers, 0
        result = _Response(response.status_code, response.reason_phrase, response.headers)
        if not 200 <= response.status_code < 300:
            return result  # redirects, 304 and errors: their bodies are not wanted
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit and not truncate:
            raise _Fail("too_large", f"Content-Length {length} exceeds the limit of {limit} bytes")
        media = _media_type(response.headers.get("content-type"))
        if html_only and media is not None and media not in _HTML_TYPES:
            raise _Fail("not_html", f"content type {media} is not HTML")
        inflaters = _inflaters(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        async for raw in response.aiter_raw():
            for piece in _inflate(inflaters, raw):
                trace.bytes += len(piece)
                if trace.bytes > limit:
                    if truncate:  # robots.txt: its first `limit` bytes are its rules
                        chunks.append(piece[:len(piece) - (trace.bytes - limit)])
                        result.body = b"".join(chunks)
                        return result
                    raise _Fail("too_large", f"body exceeds the limit of {limit} bytes")
                chunks.append(piece)
        result.body = b"".join(chunks)
        return result

    def _judge(self, response: _Response) -> str:
        """The page's charset, if the final response is an HTML page that decodes with it."""
        if not 200 <= response.status < 300:
            raise _Fail("http_error", f"HTTP {response.status} {response.reason}".strip())
        body = response.body
        if not body:
            raise _Fail("empty", f"empty body (HTTP {response.status})")
        content_type = response.headers.get("content-type")
        media = _media_type(content_type)
        head = body[:2048]
        if media is None and not any(mark in head.lower() for mark in _HTML_MARKS):
            raise _Fail("not_html", "no Content-Type, and the body does not look like HTML")
        if _is_binary(head) and not utf16_without_bom(head):
            raise _Fail("not_html", f"binary content labelled {media or 'as nothing'}")
        text, encoding = decode_html(body, content_type)
        # binary after the first bytes: undecodable (U+FFFD) or control characters
        bad = text.count("\ufffd")
        if not encoding.startswith(("utf-16", "utf-32")):  # there NUL bytes are text
            bad += len(body) - len(body.translate(None, _CONTROL_BYTES))
        if bad > max(16, len(text) * _MAX_BAD_SHARE):
            raise _Fail("not_html", f"{bad:,} of {len(text):,} characters are not text "
                                    f"(binary content, or not {encoding})")
        return encoding

    # --- checks before a request ------------------------------------------------------------

    def _host(self, target: httpx.URL) -> _Host:
        key = origin_of(target)
        if key not in self._hosts:
            self._hosts[key] = _Host(self.policy)
        return self._hosts[key]

    async def _check_address(self, target: httpx.URL) -> None:
        """Refuse a host if any address it resolves to is one the policy forbids."""
        if self.policy.allow_private:
            return
        host = target.raw_host.decode("ascii")
        port = target.port or (443 if target.scheme == "https" else 80)
        loop = asyncio.get_running_loop()
        cached = self._checked.get((host, port))
        if cached and cached[0] > loop.time():
            problem = cached[1]
        else:
            problem, address = await self._resolve_problem(host, port)
            self._checked[(host, port)] = (loop.time() + _DNS_TTL, problem)
            if address:
                self._pinned[(host, port)] = address
        if problem:
            raise _Fail("blocked_address", f"{target.host} {problem}: refused by the policy "
                        "(the allowed_networks setting, NEWSWATCH_ALLOWED_NETWORKS, allows it)")

    async def _resolve_problem(self, host: str, port: int) -> tuple[str | None, str | None]:
        """Why the host is refused, else None and the address to connect to."""
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            try:
                async with asyncio.timeout(self.policy.connect_timeout):
                    infos = await asyncio.get_running_loop().getaddrinfo(
                        host, port, type=socket.SOCK_STREAM)
            except TimeoutError:
                raise _Fail("timeout", f"resolving {host} timed out") from None
            except (OSError, UnicodeError) as exc:
                raise _Fail("connection_error", f"cannot resolve {host}: {exc}") from None
            addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in sorted(addresses):
            problem = address_problem(address, self.policy)
            if problem:
                return f"resolves to {address} ({problem})", None
        return None, addresses[0] if addresses else None

    async def _download_robots(self, url: str) -> tuple[int, bytes] | None:
        """robots.txt for RobotsCache: one attempt, a few checked redirects, no HTML rules."""
        target = httpx.URL(url)
        for _ in range(5):
            try:
                await self._check_address(target)
                response = await self._attempt(target, {}, _Trace(), limit=MAX_ROBOTS_BYTES,
                                               html_only=False, truncate=True)
            except _Fail as fail:
                logger.info("robots.txt at %s: %s", target, fail.error)
                return None
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response.status, response.body
            target = target.join(location)
        return None


async def fetch_all(
    urls: Iterable[str], policy: FetchPolicy = DEFAULT_POLICY,
    conditional: dict[str, tuple[str | None, str | None]] | None = None,
    *, transport: httpx.AsyncBaseTransport | None = None,
) -> list[FetchResult]:
    """Fetch every URL, results in the order of `urls`; `conditional` maps a URL to
    its (etag, last_modified) from an earlier fetch."""
    conditional = conditional or {}
    requests = [(url, *conditional.get(url, (None, None))) for url in urls]
    results: list[FetchResult | None] = [None] * len(requests)
    async with Fetcher(policy, transport) as fetcher:
        async for index, result in fetcher._pool(requests):
            results[index] = result
    return [r for r in results if r is not None]


def _parse(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _Fail("invalid_url", f"invalid URL: {exc}") from None
    if target.scheme not in ("http", "https"):
        scheme = target.scheme or "none"
        raise _Fail("invalid_url", f"unsupported scheme {scheme!r}: only http and https")
    if not target.host:
        raise _Fail("invalid_url", "no host in the URL")
    if target.userinfo:  # never sent, stored or shown: the URL is refused without them
        raise _Fail("invalid_url", "credentials in the URL (user:password@) are not sent")
    return target


def _media_type(content_type: str | None) -> str | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or None


def _is_binary(head: bytes) -> bool:
    """NUL bytes, or control characters in more than a tenth of the first bytes."""
    if head.startswith(_WIDE_BOMS):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return b"\0" in head or controls * 10 > len(head)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
