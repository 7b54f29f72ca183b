"""Asking the upstream indexes: requests with the credential on its origin only (redirects
followed without it elsewhere), named problems for what fails, and the run's shared state
(upstreams, pool, pages fetched and merged per project)."""

from __future__ import annotations

import http.client
import http.server
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from privpip.checks.provenance import Recorder
from privpip.core import identity
from privpip.core.identity import DEFAULT_USERNAME, basic_auth
from privpip.core.secret import Secret, redact
from privpip.core.signals import leave_signals_to_main_thread
from privpip.localindex import pages, routing
from privpip.localindex.held import Holder
from privpip.localindex.pool import PER_ORIGIN, Alarm, ConnectionPool, Origin, Watchdog
from privpip.localindex.routing import Problem, Upstream
from privpip.localindex.tls import CA_HINT

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

_REDIRECTS = (301, 302, 303, 307, 308)


_MAX_REDIRECTS = 10


_CHUNK = 256 * 1024


# Headers a client's file request may carry upstream, and the ones its answer may bring back.
FORWARD = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "Accept-Encoding")


_PAGE_READ = 64 * 1024


class UpstreamFailed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


def display_url(url: str) -> str:
    """``url`` fit for a message: no userinfo, no query, no fragment, secrets scrubbed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


@dataclass
class Reply:
    """An upstream's final answer; ``release()`` once the body is read (or abandoned)."""

    response: http.client.HTTPResponse
    url: str
    _conn: http.client.HTTPConnection
    _origin: Origin
    _pool: ConnectionPool

    def release(self, reuse: bool = True) -> None:
        if reuse and not self.response.will_close and self.response.isclosed():
            self._pool.put(self._origin, self._conn)
        else:
            self._conn.close()


class Fetcher:
    """GET/HEAD against upstreams: their credential on their origin only, redirects followed."""

    def __init__(self, timeout: float, log: Callable[[str], None] | None,
                 context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.pool = ConnectionPool(timeout, context=context)
        self.log = log
        self.watchdog = Watchdog()

    def _send(self, origin: Origin, method: str, target: str, headers: dict[str, str],
              alarm: Alarm | None) -> tuple[http.client.HTTPConnection, Any]:
        for attempt in (0, 1):
            conn, reused = self.pool.get(origin)
            if alarm is not None:
                if conn.sock is None:  # the watchdog cannot reach a socket still connecting
                    conn.timeout = max(0.01, min(self.timeout, alarm.remaining()))
                self.watchdog.watch(alarm, conn)
            try:
                conn.request(method, target, headers=headers)
                return conn, conn.getresponse()
            except (ConnectionResetError, BrokenPipeError, http.client.BadStatusLine):
                conn.close()
                # A pooled connection the upstream closed meanwhile: one fresh try.
                if not reused or attempt:
                    raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    def open(self, upstream: Upstream, url: str, method: str = "GET",
             headers: dict[str, str] | None = None, alarm: Alarm | None = None) -> Reply:
        """The final answer for ``url``; with ``alarm``, the caller disarms it when done."""
        home = identity.origin(upstream.url)
        may_authenticate = True
        for _ in range(_MAX_REDIRECTS + 1):
            origin = identity.origin(url)
            if origin[0] not in ("http", "https"):
                raise self._failed(upstream, url, "redirected to a URL that is not http(s)",
                                   "check the index URL")
            sent = {"User-Agent": "privpip-localindex", **(headers or {})}
            may_authenticate = may_authenticate and origin == home
            if may_authenticate and upstream.token is not None:
                sent["Authorization"] = basic_auth(upstream.username or DEFAULT_USERNAME,
                                                   upstream.token.reveal())
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                if alarm is not None and alarm.fired:
                    raise TimeoutError
                conn, response = self._send(origin, method, target, sent, alarm)
            except (OSError, http.client.HTTPException) as exc:
                raise self._error(upstream, url, exc, alarm) from None
            if self.log is not None:  # off: not even formatted (redacting costs per request)
                self.log(f"upstream {upstream.name}: {method} {display_url(url)} -> "
                         f"{response.status}")
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                response.read()
                Reply(response, url, conn, origin, self.pool).release()
                url = urljoin(url, location)
                continue
            return Reply(response, url, conn, origin, self.pool)
        raise self._failed(upstream, url, f"redirected more than {_MAX_REDIRECTS} times",
                           "check the index URL")

    def _error(self, upstream: Upstream, url: str, exc: BaseException,
               alarm: Alarm | None) -> UpstreamFailed:
        if alarm is not None and alarm.fired:
            return self._failed(upstream, url, f"did not answer within {alarm.seconds:g} s "
                                "(the total limit per request)",
                                "check the URL and the network, or raise the deadline")
        if isinstance(exc, ssl.SSLCertVerificationError):
            why = exc.verify_message or exc.reason or "verification failed"
            return self._failed(upstream, url, f"has a TLS certificate privpip cannot verify "
                                f"({reason(why)})", CA_HINT)
        if isinstance(exc, ssl.SSLError):
            return self._failed(upstream, url, f"failed the TLS handshake ({reason(exc)})",
                                "check the URL (https on an http port?) and pip's client-cert "
                                "setting")
        if isinstance(exc, TimeoutError):
            return self._failed(upstream, url, f"did not answer within {self.timeout:g} s",
                                "check the URL and the network, or raise the timeout")
        return self._failed(upstream, url, f"cannot be reached ({reason(exc)})",
                            "check the index URL and the network")

    @staticmethod
    def _failed(upstream: Upstream, url: str, what: str, hint: str) -> UpstreamFailed:
        return UpstreamFailed(Problem(upstream.name, display_url(url), what, hint))

    def close(self) -> None:
        self.watchdog.stop()
        self.pool.close()


def reason(exc: BaseException | str) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return redact(str(text))


def status_problem(upstream: Upstream, url: str, status: int, reason: str) -> Problem:
    what = f"answered {status} {reason}".rstrip()
    if status in (401, 403):
        hint = f"privpip login {upstream.name}"
    elif status >= 500:
        hint = "the index has a problem; try again later or ask its administrators"
    else:
        hint = "check the index URL"
    return Problem(upstream.name, display_url(url), what, hint)


class State:
    """What the handler threads share: upstreams, credentials, the file map, the problems."""

    def __init__(self, upstreams: Sequence[Upstream], username: str, password: Secret,
                 timeout: float, log: Callable[[str], None] | None, *,
                 context: ssl.SSLContext | None = None, deadline: float = 120.0,
                 file_deadline: float = 3600.0, max_page_bytes: int = 64 << 20,
                 recorder: Recorder | None = None,
                 strategy: str = routing.FIRST_INDEX) -> None:
        self.upstreams = tuple(upstreams)
        self.strategy = strategy
        self.by_name = {u.name: u for u in self.upstreams}
        self.expected_auth = basic_auth(username, password.reveal()).encode("ascii")
        self.log_to = log  # None: logging is off, and nothing is formatted for it
        self.deadline = deadline
        self.file_deadline = file_deadline
        self.max_page_bytes = max_page_bytes
        self.fetcher = Fetcher(timeout, log, context)
        self.targets: dict[str, routing.Target] = {}
        self.problems: list[Problem] = []
        self.recorder = recorder  # the files streamed in full, for provenance (or None)
        self.held = Holder()  # small files fetched whole for a HEAD (see .held)
        if recorder is not None:
            recorder.bind(self.targets, self.by_name)
        self.lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The pool for the second and later upstreams of a page: made when first needed
        (with one upstream it never is), and its threads start only when needed too."""
        with self.lock:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(max_workers=PER_ORIGIN,
                                                    thread_name_prefix="privpip-upstream",
                                                    initializer=leave_signals_to_main_thread)
            return self._executor

    def close(self) -> None:
        """Stop the pool (pending page fetches are dropped) and the upstream connections."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.fetcher.close()

    def warm_up(self, names: Sequence[str]) -> None:
        """One connection to the origin of each upstream in ``names``, opened in the
        background (see ConnectionPool.warm); the threads inherit the caller's signal mask."""
        for origin in dict.fromkeys(identity.origin(u.url) for u in self.upstreams
                                    if u.name in names):
            threading.Thread(target=self.fetcher.pool.warm, args=(origin,),
                             name="privpip-warm", daemon=True).start()

    def log(self, line: str) -> None:
        if self.log_to is not None:
            self.log_to(line)

    def add_problem(self, problem: Problem) -> None:
        with self.lock:
            if problem not in self.problems:
                self.problems.append(problem)
        if self.log_to is not None:
            self.log_to(f"problem: {problem.describe()}")

    def fetch_page(self, upstream: Upstream, name: str) -> pages.Page | None:
        """``name``'s page on ``upstream``, rewritten to local paths; None when not there."""
        url = upstream.project_url(name)
        alarm = self.fetcher.watchdog.arm(self.deadline)
        reply: Reply | None = None
        try:
            reply = self.fetcher.open(upstream, url, headers={
                "Accept": pages.UPSTREAM_ACCEPT, "Accept-Encoding": "gzip"}, alarm=alarm)
            body = self._read_page(upstream, reply)
        except (OSError, http.client.HTTPException) as exc:
            if reply is not None:
                reply.release(reuse=False)
            if self.fetcher.watchdog.disarm(alarm):
                raise self.fetcher._error(upstream, url, exc, alarm) from None
            raise UpstreamFailed(Problem(upstream.name, display_url(url),
                                         f"broke off while sending a page ({reason(exc)})",
                                         "try again; check the network")) from None
        except UpstreamFailed:
            if reply is not None:
                reply.release(reuse=False)
            self.fetcher.watchdog.disarm(alarm)
            raise
        if self.fetcher.watchdog.disarm(alarm):  # the body may be cut short: the socket is shut
            reply.release(reuse=False)
            raise self.fetcher._error(upstream, url, TimeoutError(), alarm)
        reply.release()
        response = reply.response
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise UpstreamFailed(status_problem(upstream, reply.url, response.status,
                                                response.reason))
        if (response.getheader("Content-Encoding") or "").lower() == "gzip":
            body = self._gunzip(upstream, reply.url, body)
        try:
            page = pages.parse(body, response.getheader("Content-Type") or "", reply.url, name)
        except (pages.PageError, OSError) as exc:
            raise UpstreamFailed(Problem(upstream.name, display_url(reply.url),
                                         f"sent a page privpip cannot read ({exc})",
                                         "check that the URL is the simple API root")) from None
        # PEP 708 compares the URL asked for; a redirect's target is kept as well.
        page = replace(page, url=url)
        rewritten, targets = routing.rewrite(page, upstream)
        with self.lock:
            self.targets.update(targets)
        return rewritten

    def _too_big(self, upstream: Upstream, url: str) -> UpstreamFailed:
        limit = f"{self.max_page_bytes / (1 << 20):g} MiB"
        return UpstreamFailed(Problem(upstream.name, display_url(url),
                                      f"sent a project page larger than {limit}",
                                      "check that the URL is the simple API root, or raise "
                                      "the page size limit"))

    def _read_page(self, upstream: Upstream, reply: Reply) -> bytes:
        """The body, read a block at a time so that the size cap holds (error pages too)."""
        response = reply.response
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > self.max_page_bytes:
            raise self._too_big(upstream, reply.url)
        body = bytearray()
        while block := response.read1(_PAGE_READ):
            body += block
            if len(body) > self.max_page_bytes:
                raise self._too_big(upstream, reply.url)
        return bytes(body)

    def _gunzip(self, upstream: Upstream, url: str, body: bytes) -> bytes:
        # Bounded: a few kilobytes of gzip can expand to gigabytes.
        inflater = zlib.decompressobj(wbits=31)
        try:
            out = inflater.decompress(body, self.max_page_bytes + 1)
        except zlib.error as exc:
            raise UpstreamFailed(Problem(upstream.name, display_url(url),
                                         f"sent a page privpip cannot read ({exc})",
                                         "check that the URL is the simple API root")) from None
        if len(out) > self.max_page_bytes or inflater.unconsumed_tail:
            raise self._too_big(upstream, url)
        return out

    def project(self, name: str) -> tuple[int, pages.Page | None, str]:
        """The local status, page and a short message for ``/simple/<name>/``.

        Every upstream to ask is asked at once; the answers are weighed in order (routing
        decides), so the first one that has the name is served without waiting for the rest.
        """
        asked = routing.upstreams_for(name, self.upstreams)
        # The first upstream is asked from this handler thread and the others from the pool
        # meanwhile: with one index (the common case) no page waits for a pool worker, so
        # the client's own concurrency is the only limit (a pool of 2 made uv 2.5-3.9x slower).
        futures = [self.executor.submit(self.fetch_page, u, name) for u in asked[1:]]
        getters: list[Callable[[], pages.Page | None]] = [f.result for f in futures]
        if asked:
            getters.insert(0, lambda: self.fetch_page(asked[0], name))
        outcomes: list[routing.Outcome] = []
        verdict = None
        for get in getters:
            try:
                outcomes.append(get())
            except UpstreamFailed as exc:
                self.add_problem(exc.problem)
                outcomes.append(exc.problem)
            verdict = routing.answer(name, asked, outcomes, self.strategy)
            if verdict is not None:
                break
        for future in futures:
            future.cancel()  # those not started yet: their answer no longer matters
        assert verdict is not None
        if verdict.problem is not None:
            self.add_problem(verdict.problem)
        return verdict.status, verdict.page, verdict.message


def drain(response: http.client.HTTPResponse, limit: int) -> bool:
    """Read an error body up to ``limit``; True when it ended (the connection may be reused)."""
    left = limit
    while left > 0:
        block = response.read1(min(left, _PAGE_READ))
        if not block:
            return True
        left -= len(block)
    return response.isclosed()


def blocks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    # read1, not readinto: readinto waits until the whole chunk arrived, so a slow upstream
    # made the client see no byte for longer than its timeout (pip: 15 s).
    while True:
        block = response.read1(_CHUNK)
        if not block:
            return
        yield block
