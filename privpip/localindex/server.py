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
goes through the redactor with its query string dropped (signed storage URLs carry secrets).
"""

from __future__ import annotations

import base64
import hmac
import http.client
import http.server
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from privpip.localindex import pages, routing
from privpip.localindex.routing import Problem, Upstream
from privpip.secret import Secret, redact

Origin = tuple[str, str, int]
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10
_CHUNK = 256 * 1024
# Headers a client's file request may carry upstream, and the ones its answer may bring back.
_FORWARD = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "Accept-Encoding")
_RETURN = ("Content-Type", "Content-Length", "Content-Range", "Content-Encoding", "Accept-Ranges",
           "ETag", "Last-Modified", "Cache-Control")
_PASSED_STATUSES = (200, 206, 304, 412, 416)


class UpstreamFailed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


def origin_of(url: str) -> Origin:
    """The origin of ``url``: scheme, host (lower case, no trailing dot), port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    return scheme, (parts.hostname or "").rstrip(".").lower(), port


def display_url(url: str) -> str:
    """``url`` fit for a message: no userinfo, no query, no fragment, secrets scrubbed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def basic_auth(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode("latin-1")
    return "Basic " + base64.b64encode(raw).decode("ascii")


class ConnectionPool:
    """Idle keep-alive connections per origin, so a run opens few connections per upstream."""

    def __init__(self, timeout: float, per_origin: int = 8) -> None:
        self.timeout = timeout
        self.per_origin = per_origin
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl: Any = None

    def get(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl is None:
                import ssl

                self._ssl = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=self._ssl), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def put(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.per_origin:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


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

    def __init__(self, timeout: float, log: Callable[[str], None]) -> None:
        self.timeout = timeout
        self.pool = ConnectionPool(timeout)
        self.log = log

    def _send(self, origin: Origin, method: str, target: str,
              headers: dict[str, str]) -> tuple[http.client.HTTPConnection, Any]:
        for attempt in (0, 1):
            conn, reused = self.pool.get(origin)
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
             headers: dict[str, str] | None = None) -> Reply:
        home = origin_of(upstream.url)
        may_authenticate = True
        for _ in range(_MAX_REDIRECTS + 1):
            origin = origin_of(url)
            if origin[0] not in ("http", "https"):
                raise self._failed(upstream, url, "redirected to a URL that is not http(s)",
                                   "check the index URL")
            sent = {"User-Agent": "privpip-localindex", **(headers or {})}
            may_authenticate = may_authenticate and origin == home
            if may_authenticate and upstream.token is not None:
                sent["Authorization"] = basic_auth(upstream.username or "__token__",
                                                   upstream.token.reveal())
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                conn, response = self._send(origin, method, target, sent)
            except TimeoutError:
                raise self._failed(upstream, url, f"did not answer within {self.timeout:g} s",
                                   "check the URL and the network, or raise the timeout"
                                   ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise self._failed(upstream, url, f"cannot be reached ({_reason(exc)})",
                                   "check the index URL and the network") from None
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

    @staticmethod
    def _failed(upstream: Upstream, url: str, what: str, hint: str) -> UpstreamFailed:
        return UpstreamFailed(Problem(upstream.name, display_url(url), what, hint))

    def close(self) -> None:
        self.pool.close()


def _reason(exc: BaseException) -> str:
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
                 timeout: float, log: Callable[[str], None]) -> None:
        self.upstreams = tuple(upstreams)
        self.by_name = {u.name: u for u in self.upstreams}
        self.expected_auth = basic_auth(username, password.reveal()).encode("ascii")
        self.log = log
        self.fetcher = Fetcher(timeout, log)
        self.targets: dict[str, routing.Target] = {}
        self.problems: list[Problem] = []
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=max(2, min(16, 2 * len(self.upstreams))),
                                           thread_name_prefix="privpip-upstream")

    def add_problem(self, problem: Problem) -> None:
        with self.lock:
            if problem not in self.problems:
                self.problems.append(problem)
        self.log(f"problem: {problem.describe()}")

    def fetch_page(self, upstream: Upstream, name: str) -> pages.Page | None:
        """``name``'s page on ``upstream``, rewritten to local paths; None when not there."""
        url = upstream.project_url(name)
        reply = self.fetcher.open(upstream, url, headers={
            "Accept": pages.UPSTREAM_ACCEPT, "Accept-Encoding": "gzip"})
        try:
            response = reply.response
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            reply.release(reuse=False)
            raise UpstreamFailed(Problem(upstream.name, display_url(url),
                                         f"broke off while sending a page ({_reason(exc)})",
                                         "try again; check the network")) from None
        reply.release()
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise UpstreamFailed(status_problem(upstream, reply.url, response.status,
                                                response.reason))
        if (response.getheader("Content-Encoding") or "").lower() == "gzip":
            import gzip

            body = gzip.decompress(body)
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

    def project(self, name: str) -> tuple[int, pages.Page | None, str]:
        """The local status, page and a short message for ``/simple/<name>/``."""
        asked = routing.upstreams_for(name, self.upstreams)
        futures = [(u, self.executor.submit(self.fetch_page, u, name)) for u in asked]
        results: list[tuple[Upstream, pages.Page | None]] = []
        failed = False
        for upstream, future in futures:
            try:
                results.append((upstream, future.result()))
            except UpstreamFailed as exc:
                self.add_problem(exc.problem)
                failed = True
        if failed:
            # Fail closed: a page merged without an unreachable index could pick a squatter.
            return 502, None, "an upstream index failed; privpip reports which"
        combined = routing.combine(name, results)
        if combined is None:
            return 404, None, "not found on any index"
        if isinstance(combined, routing.Refusal):
            self.add_problem(Problem(", ".join(combined.indexes), "", combined.reason,
                                     f"add {name!r} to the packages of the index that owns it"))
            return 409, None, combined.reason
        return 200, combined, ""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def version_string(self) -> str:
        return "privpip-localindex"

    def log_message(self, format: str, *args: Any) -> None:
        self.server.state.log(redact(format % args))

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

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
        path = urlsplit(self.path).path
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
        status, page, message = self.server.state.project(name)
        if page is None:
            self._plain(status, message, head)
            return
        body, content_type = pages.render(page, routing.normalize(name),
                                          self.headers.get("Accept"))
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Vary", "Accept")
        self.end_headers()
        if not head:
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
        try:
            reply = state.fetcher.open(upstream, url, "HEAD" if head else "GET", headers)
        except UpstreamFailed as exc:
            state.add_problem(exc.problem)
            self._plain(502, f"index {index!r} failed", head)
            return
        response = reply.response
        if response.status not in _PASSED_STATUSES:
            response.read()
            reply.release()
            if response.status in (404, 410) and suffix:
                self._plain(404, "no metadata file", head)  # a hint, not a failure
                return
            state.add_problem(status_problem(upstream, reply.url, response.status,
                                             response.reason))
            self._plain(404 if response.status in (404, 410) else 502,
                        f"index {index!r} answered {response.status}", head)
            return
        self._stream(reply, head)

    def _stream(self, reply: Reply, head: bool) -> None:
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
        try:
            if not bodiless:
                for block in _blocks(response):
                    if chunked:
                        self.wfile.write(b"%x\r\n" % len(block) + block + b"\r\n")
                    else:
                        self.wfile.write(block)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            complete = True
        except (OSError, http.client.HTTPException) as exc:
            # Either side broke off: the client sees a short body and retries or fails.
            self.close_connection = True
            self.server.state.log(f"stream of {display_url(reply.url)} broke off: "
                                  f"{_reason(exc)}")
        finally:
            if bodiless:
                response.close()
            reply.release(reuse=complete)


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
    request_queue_size = 128  # uv opens many connections at once
    state: State


@contextmanager
def serving(state: State, port: int = 0) -> Iterator[LocalServer]:
    """A server on 127.0.0.1 at ``port`` (0: a free one), answering in a background thread."""
    server = LocalServer(("127.0.0.1", port), Handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="privpip-localindex", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        state.executor.shutdown(wait=False, cancel_futures=True)
        state.fetcher.close()
