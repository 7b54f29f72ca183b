"""The local index's HTTP plumbing: the loopback server, upstream connections, file streaming.

Why the standard library: ``http.server.ThreadingHTTPServer`` serves uv's parallel downloads
(one thread per connection) and ``http.client`` with a small keep-alive pool per upstream origin
reuses connections as well as urllib3 would for this traffic (a handful of origins, sequential
requests per connection), without adding a dependency to privpip. The benchmark
(benchmarks/bench_localindex.py) measures the whole path against pip talking to the upstream
directly.

Credentials: an upstream's token goes only to that upstream's origin (scheme, host compared
case-insensitively without a trailing dot, port). A redirect elsewhere (object storage behind
Artifactory or CodeArtifact) is followed without it, and once a redirect chain has left the
origin no later hop gets it back. Nothing here logs a header, and every logged or reported URL
goes through the redactor with its query string dropped (signed storage URLs carry secrets);
the request log shows the method, the path without its query and the status, never the raw
request line (a client may put a credential in a query or an absolute-form target).

Limits: every socket read waits at most ``timeout``; on top, a watchdog shuts a connection
down when a whole page request (connect, redirects, headers, body) passes ``deadline``, or a
file download passes ``file_deadline``, so an upstream that trickles a byte at a time cannot
hold pip forever. A page body (after gzip) is capped at ``max_page_bytes``.
"""

from __future__ import annotations

import heapq
import hmac
import http.client
import http.server
import itertools
import os
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from privpip import identity
from privpip.identity import DEFAULT_USERNAME, basic_auth
from privpip.localindex import address, pages, routing
from privpip.localindex.routing import Problem, Upstream
from privpip.localindex.tls import CA_HINT
from privpip.provenance import Recorder, Sink
from privpip.secret import Secret, redact
from privpip.signals import leave_signals_to_main_thread

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

Origin = tuple[str, str, int]
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10
_CHUNK = 256 * 1024
# Headers a client's file request may carry upstream, and the ones its answer may bring back.
_FORWARD = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "Accept-Encoding")
_RETURN = ("Content-Type", "Content-Length", "Content-Range", "Content-Encoding", "Accept-Ranges",
           "ETag", "Last-Modified", "Cache-Control")
_PASSED_STATUSES = (200, 206, 304, 412, 416)
_PAGE_READ = 64 * 1024
# Methods a client may reasonably send; they get 405 (unknown ones get http.server's 501).
_NOT_ALLOWED = ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
# Idle connections kept per upstream origin: uv asks up to 50 things at once
# (UV_CONCURRENT_DOWNLOADS), and each connection a burst cannot reuse is a new handshake.
PER_ORIGIN = 64


class UpstreamFailed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


def display_url(url: str) -> str:
    """``url`` fit for a message: no userinfo, no query, no fragment, secrets scrubbed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


class ConnectionPool:
    """Idle keep-alive connections per origin, so a run opens few connections per upstream."""

    def __init__(self, timeout: float, per_origin: int = PER_ORIGIN,
                 context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.per_origin = per_origin
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl = context
        self._closed = False

    def get(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=self._ssl), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def put(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.per_origin and not self._closed:
                idle.append(conn)
                return
        conn.close()

    def warm(self, origin: Origin) -> None:
        """Open a connection to ``origin`` before anything is asked of it: the TCP and TLS
        handshakes happen while the client is still starting, not on its first request.
        Nothing is sent. On failure nothing is kept, and the first request meets (and
        reports) the problem."""
        conn, _ = self.get(origin)
        try:
            conn.connect()
        except (OSError, ValueError):  # ssl.SSLError is an OSError
            conn.close()
            return
        self.put(origin, conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


class Alarm:
    """One request's total deadline; the watchdog shuts ``conn``'s socket down when it passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.when = time.monotonic() + seconds
        self.conn: http.client.HTTPConnection | None = None
        self.fired = False
        self.done = False

    def remaining(self) -> float:
        return self.when - time.monotonic()


class Watchdog:
    """One thread for every deadline of the run: a heap of alarms, the earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, seconds: float) -> Alarm:
        alarm = Alarm(seconds)
        with self._cond:
            heapq.heappush(self._heap, (alarm.when, next(self._count), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="privpip-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is alarm:
                # Only a new earliest deadline changes the thread's wait; waking it on every
                # request cost a thread switch per request (profiled with uv's bursts).
                self._cond.notify()
        return alarm

    def watch(self, alarm: Alarm, conn: http.client.HTTPConnection) -> None:
        with self._cond:
            alarm.conn = conn
            if alarm.fired:
                _shut(conn)

    def disarm(self, alarm: Alarm) -> bool:
        """Stop watching; True when the deadline had already passed (the socket is shut)."""
        with self._cond:
            alarm.done = True
            alarm.conn = None
            return alarm.fired

    def _run(self) -> None:
        leave_signals_to_main_thread()
        with self._cond:
            while not self._stopped:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(self._heap)[2]
                alarm.fired = True
                if alarm.conn is not None:
                    _shut(alarm.conn)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()


def _shut(conn: http.client.HTTPConnection) -> None:
    # shutdown() wakes a thread blocked in recv() on this socket; close() alone would not.
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


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
                                f"({_reason(why)})", CA_HINT)
        if isinstance(exc, ssl.SSLError):
            return self._failed(upstream, url, f"failed the TLS handshake ({_reason(exc)})",
                                "check the URL (https on an http port?) and pip's client-cert "
                                "setting")
        if isinstance(exc, TimeoutError):
            return self._failed(upstream, url, f"did not answer within {self.timeout:g} s",
                                "check the URL and the network, or raise the timeout")
        return self._failed(upstream, url, f"cannot be reached ({_reason(exc)})",
                            "check the index URL and the network")

    @staticmethod
    def _failed(upstream: Upstream, url: str, what: str, hint: str) -> UpstreamFailed:
        return UpstreamFailed(Problem(upstream.name, display_url(url), what, hint))

    def close(self) -> None:
        self.watchdog.stop()
        self.pool.close()


def _reason(exc: BaseException | str) -> str:
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
                                         f"broke off while sending a page ({_reason(exc)})",
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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, about 40 ms per answer (measured: 48 ms vs 3 ms per page).
    disable_nagle_algorithm = True
    server: LocalServer

    def version_string(self) -> str:
        return "privpip-localindex"

    def setup(self) -> None:
        # A per-connection limit: a connection silent this long (before a request, between
        # keep-alive requests, or not reading an answer) is closed, so idle connections
        # cannot pile up threads while real requests wait.
        self.timeout = self.server.idle_timeout  # type: ignore[misc]
        super().setup()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.state.log_to is None:
            return  # called for every request: nothing to format while logging is off
        status = code.value if isinstance(code, http.HTTPStatus) else code
        raw = getattr(self, "path", None)
        target = safe_target(raw) if raw else "-"
        self.server.state.log(f"{self._safe_command()} {target} -> {status}")

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's error messages quote the raw request line: only the status is logged.
        code = next((a for a in args if isinstance(a, int)), None)
        self.server.state.log("rejected a malformed request" + (f" ({code})" if code else ""))

    def log_message(self, format: str, *args: Any) -> None:
        self.server.state.log(redact(format))

    def _safe_command(self) -> str:
        command = getattr(self, "command", None)
        if not command:
            return "-"
        return command if command.isascii() and command.isalpha() else "(odd method)"

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _not_allowed(self) -> None:
        # The body (if any) is not read: close the connection rather than parse it as a request.
        self.close_connection = True
        self._plain(405, "this index only answers GET and HEAD", False,
                    {"Allow": "GET, HEAD", "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed
    do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _plain(self, status: int, text: str, head: bool,
               extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _handle(self, head: bool) -> None:
        state = self.server.state
        given = (self.headers.get("Authorization") or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, state.expected_auth):
            self._plain(401, "this index needs the per-run credential", head,
                        {"WWW-Authenticate": 'Basic realm="privpip"'})
            return
        path = self.path.partition("?")[0].partition("#")[0]
        if not path.startswith("/") or path.startswith("//") or "\\" in path:
            # An absolute-form target (a proxy request) or a path urlsplit would read as a host.
            self._plain(400, "the request target must be a path on this index", head)
            return
        parts = path.split("/")
        try:
            if len(parts) == 4 and parts[1] == "simple" and parts[3] == "":
                self._project(unquote(parts[2]), head)
            elif len(parts) == 3 and parts[1] == "simple" and parts[2]:
                self._plain(301, "moved", head, {"Location": path + "/"})
            elif len(parts) == 5 and parts[1] == "files":
                self._file(unquote(parts[2]), parts[3], unquote(parts[4]), head)
            else:
                self._plain(404, "not found (the root listing is not served)", head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _project(self, name: str, head: bool) -> None:
        if not routing.is_valid_name(name):
            self._plain(404, "not a project name", head)
            return
        state = self.server.state
        status, page, message = state.project(name)
        if page is None:
            self._plain(status, message, head)
            return
        if state.recorder is not None:
            state.recorder.listed(name, page)  # provenance of files the installer has cached
        body, content_type = pages.render(page, routing.normalize(name),
                                          self.headers.get("Accept"))
        # Pages may be cached but are revalidated on every use (no-cache): the upstreams are
        # asked each time, so a new upload is seen on the next run, and an unchanged page
        # (same files, same local paths: the address and file ids are stable) is a 304.
        etag = _etag(body, content_type)
        fresh = _matches(self.headers.get("If-None-Match"), etag)
        self.send_response(304 if fresh else 200)
        self.send_header("Content-Type", content_type)
        if not fresh:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("ETag", etag)
        self.send_header("Vary", "Accept")
        self.end_headers()
        if not head and not fresh:
            self.wfile.write(body)

    def _file(self, index: str, file_id: str, filename: str, head: bool) -> None:
        state = self.server.state
        with state.lock:
            target = state.targets.get(file_id)
        suffix = ""
        if target is not None and filename == target.filename + ".metadata":
            suffix = ".metadata"  # PEP 658: the metadata file sits next to the file
        if (target is None or target.index != index
                or filename != target.filename + suffix or index not in state.by_name):
            self._plain(404, "unknown file (fetch the project page first)", head)
            return
        upstream = state.by_name[index]
        url = target.url + suffix
        headers = {k: v for k in _FORWARD if (v := self.headers.get(k)) is not None}
        alarm = state.fetcher.watchdog.arm(state.file_deadline)
        try:
            reply = state.fetcher.open(upstream, url, "HEAD" if head else "GET", headers, alarm)
        except UpstreamFailed as exc:
            state.fetcher.watchdog.disarm(alarm)
            state.add_problem(exc.problem)
            self._plain(502, f"index {index!r} failed; privpip names the problem when pip exits",
                        head)
            return
        response = reply.response
        if response.status not in _PASSED_STATUSES:
            try:
                drained = _drain(response, state.max_page_bytes)
            except (OSError, http.client.HTTPException):
                drained = False
            reply.release(reuse=drained and not state.fetcher.watchdog.disarm(alarm))
            if response.status in (404, 410) and suffix:
                self._plain(404, "no metadata file", head)  # a hint, not a failure
                return
            state.add_problem(status_problem(upstream, reply.url, response.status,
                                             response.reason))
            self._plain(404 if response.status in (404, 410) else 502,
                        f"index {index!r} answered {response.status}", head)
            return
        sink = None
        if (state.recorder is not None and not head and not suffix and response.status == 200
                and response.getheader("Content-Encoding", "identity") == "identity"):
            sink = state.recorder.sink(upstream, target.url, target.filename)  # provenance
        if not self._stream(reply, head, alarm, sink):
            self.close_connection = True
            state.add_problem(Problem(
                index, display_url(url), f"did not send {filename!r} within "
                f"{state.file_deadline:g} s (the total limit per download)",
                "check the network, or raise the download deadline"))

    def _stream(self, reply: Reply, head: bool, alarm: Alarm, sink: Sink | None = None) -> bool:
        """Pass the upstream's answer on; False when it was cut short by the deadline."""
        response = reply.response
        self.send_response(response.status)
        for key in _RETURN:
            value = response.getheader(key)
            if value is not None:
                self.send_header(key, value)
        length = response.getheader("Content-Length")
        bodiless = head or response.status == 304
        chunked = length is None and not bodiless
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        complete = False
        sent = 0
        try:
            if not bodiless:
                for block in _blocks(response):
                    if sink is not None:
                        sink.update(block)
                    sent += len(block)
                    if chunked:
                        self.wfile.write(b"%x\r\n" % len(block) + block + b"\r\n")
                    else:
                        self.wfile.write(block)
                # http.client ends a body the upstream cut short (or the watchdog shut) quietly.
                short = (alarm.fired or (length is not None and length.isdigit()
                                         and sent != int(length)))
                if short:
                    raise http.client.IncompleteRead(b"")
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                if sink is not None:
                    sink.done()
            complete = True
        except (OSError, http.client.HTTPException) as exc:
            # Either side broke off: the client sees a short body and retries or fails.
            self.close_connection = True
            self.server.state.log(f"stream of {display_url(reply.url)} broke off: "
                                  f"{_reason(exc) if not alarm.fired else 'deadline passed'}")
        finally:
            fired = self.server.state.fetcher.watchdog.disarm(alarm)
            if bodiless:
                response.close()
            reply.release(reuse=complete and not fired)
        return not fired


def _etag(body: bytes, content_type: str) -> str:
    import hashlib

    digest = hashlib.blake2b(body, digest_size=16)
    digest.update(content_type.encode("ascii", "replace"))
    return f'"{digest.hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _drain(response: http.client.HTTPResponse, limit: int) -> bool:
    """Read an error body up to ``limit``; True when it ended (the connection may be reused)."""
    left = limit
    while left > 0:
        block = response.read1(min(left, _PAGE_READ))
        if not block:
            return True
        left -= len(block)
    return response.isclosed()


def safe_target(raw: str) -> str:
    """A request target fit for the log: the path only, printable, short, scrubbed."""
    path = raw.partition("?")[0].partition("#")[0]
    if not path.startswith("/") or path.startswith("//"):
        return "(not a path)"
    shown = "".join(c if c.isprintable() and c.isascii() else "?" for c in path[:200])
    return redact(shown + ("..." if len(path) > 200 else ""))


def _blocks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    # read1, not readinto: readinto waits until the whole chunk arrived, so a slow upstream
    # made the client see no byte for longer than its timeout (pip: 15 s).
    while True:
        block = response.read1(_CHUNK)
        if not block:
            return
        yield block


class LocalServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    state: State
    idle_timeout: float
    uid: int | None  # the only uid whose connections are answered (None: cannot tell)
    _wake_r: socket.socket
    _wake_w: socket.socket
    _stopping: bool
    _stopped: threading.Event

    @classmethod
    def adopt(cls, listener: socket.socket, state: State,
              idle_timeout: float = 30.0) -> LocalServer:
        """A server answering on ``listener``, a socket already bound and listening; a
        client connection silent for ``idle_timeout`` seconds is closed."""
        server = cls(listener.getsockname(), Handler, bind_and_activate=False)
        server.socket.close()  # the one socketserver made; the listener replaces it
        server.socket = listener
        host, port = listener.getsockname()[:2]
        server.server_address = (host, port)
        server.server_name, server.server_port = host, port
        server.state = state
        server.idle_timeout = idle_timeout
        server.uid = os.getuid() if address.checks_peers() else None
        server._wake_r, server._wake_w = socket.socketpair()
        server._stopping = False
        server._stopped = threading.Event()
        return server

    def answer_until_stopped(self) -> None:
        """socketserver's serve_forever, minus its poll interval: it noticed a shutdown only
        at its next poll (up to 50 ms after the child had exited, on every run). Here stop()
        wakes the select through a socket pair, and the loop ends at once."""
        import selectors

        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping:
                    for key, _events in selector.select():
                        if key.fileobj is self.socket and not self._stopping:
                            # serve_forever's own step: accept, then a thread per request
                            self._handle_request_noblock()  # type: ignore[attr-defined]
        finally:
            self._stopped.set()

    def stop(self) -> None:
        """End answer_until_stopped (from another thread) and close the sockets."""
        self._stopping = True
        self._wake_w.send(b"\0")
        self._stopped.wait(5)
        self.server_close()
        self._wake_r.close()
        self._wake_w.close()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Only this user's connections are answered; another uid's is closed unanswered,
        before a thread is started for it (in the accept loop: about 20 microseconds)."""
        if self.uid is None:
            return True
        try:
            uid = address.peer_uid(request.getsockname(), client_address)
        except (OSError, ValueError):
            uid = None
        if uid == self.uid:
            return True
        who = f"uid {uid}" if uid is not None else "a process the kernel no longer lists"
        self.state.log(f"refused a connection from {who}: only this user's are answered")
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback to stderr; one line in the run's log is enough.
        import sys

        kind = sys.exc_info()[0]
        self.state.log(f"a request failed: {kind.__name__ if kind else 'unknown error'}")
