"""The local index's loopback server and request handler: pages and files streamed to the
client (``fetch`` asks the upstreams, ``pool`` keeps their connections).

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

import hmac
import http.client
import http.server
import os
import socket
import threading
from typing import Any
from urllib.parse import unquote

from privpip.checks.provenance import Sink
from privpip.core.secret import redact
from privpip.localindex import address, pages, routing
from privpip.localindex.fetch import (
    FORWARD,
    Reply,
    State,
    UpstreamFailed,
    blocks,
    display_url,
    drain,
    reason,
    status_problem,
)
from privpip.localindex.held import KEPT, Held, byte_range
from privpip.localindex.pool import Alarm
from privpip.localindex.routing import Problem, Upstream

_RETURN = ("Content-Type", "Content-Length", "Content-Range", "Content-Encoding", "Accept-Ranges",
           "ETag", "Last-Modified", "Cache-Control")


_PASSED_STATUSES = (200, 206, 304, 412, 416)


# A file request with only these headers has no condition: a held body may answer it.
_UNCONDITIONAL = frozenset({"Range", "Accept-Encoding"})


# Methods a client may reasonably send; they get 405 (unknown ones get http.server's 501).
_NOT_ALLOWED = ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")


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
        headers = {k: v for k in FORWARD if (v := self.headers.get(k)) is not None}
        # Only an unconditional ask is answered from a held body, or turned into a fetch.
        plain = not suffix and headers.keys() <= _UNCONDITIONAL
        held = state.held.get(file_id) if plain else None
        if held is not None and self._send_held(held, head, headers.get("Range"), file_id,
                                                upstream, target):
            return
        whole = (head and plain and "Range" not in headers
                 and (target.size is None or target.size <= state.held.per_file))
        alarm = state.fetcher.watchdog.arm(state.file_deadline)
        try:
            reply = state.fetcher.open(upstream, url, "GET" if whole or not head else "HEAD",
                                       headers, alarm)
        except UpstreamFailed as exc:
            state.fetcher.watchdog.disarm(alarm)
            state.add_problem(exc.problem)
            self._plain(502, f"index {index!r} failed; privpip names the problem when pip exits",
                        head)
            return
        response = reply.response
        if response.status not in _PASSED_STATUSES:
            try:
                drained = drain(response, state.max_page_bytes)
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
        if whole and response.status == 200:
            held = self._hold(reply, alarm)
            if held is not None:
                state.held.put(file_id, held)
                self._send_held(held, head, None, file_id, upstream, target)
                return
        sink = None
        if (not head and not suffix and response.status == 200
                and response.getheader("Content-Encoding", "identity") == "identity"):
            sink = self._sink(upstream, target)
        if not self._stream(reply, head, alarm, sink, reusable=not whole):
            self.close_connection = True
            state.add_problem(Problem(
                index, display_url(url), f"did not send {filename!r} within "
                f"{state.file_deadline:g} s (the total limit per download)",
                "check the network, or raise the download deadline"))

    def _hold(self, reply: Reply, alarm: Alarm) -> Held | None:
        """The whole body of a small file's answer, read for a HEAD (see :mod:`.held`); None
        when the answer is not one to hold, or broke off (the caller then passes its headers
        on, and the connection is not reused)."""
        state = self.server.state
        response = reply.response
        length = response.getheader("Content-Length") or ""
        if (response.getheader("Content-Encoding", "identity") != "identity"
                or not (length.isascii() and length.isdigit())
                or int(length) > state.held.per_file):
            return None
        try:
            body = response.read(int(length))
        except (OSError, http.client.HTTPException):
            body = b""
        if state.fetcher.watchdog.disarm(alarm) or len(body) != int(length):
            state.log(f"reading {display_url(reply.url)} broke off; its HEAD is passed on")
            return None
        reply.release()
        return Held(tuple((k, v) for k in KEPT
                          if (v := response.getheader(k)) is not None), body)

    def _send_held(self, held: Held, head: bool, range_header: str | None, file_id: str,
                   upstream: Upstream, target: routing.Target) -> bool:
        """Answer from a held body: a HEAD, one byte range, or the whole file (which lets the
        body go); False for a range it does not answer (the upstream then does)."""
        size = len(held.body)
        span = None
        if range_header is not None:
            span = byte_range(range_header, size)
            if span is None:
                return False
        start, end = span or (0, size)
        self.send_response(206 if span else 200)
        for key, value in held.headers:
            self.send_header(key, value)
        self.send_header("Accept-Ranges", "bytes")
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if head:
            return True
        self.wfile.write(memoryview(held.body)[start:end])
        state = self.server.state
        if span is None:
            state.held.drop(file_id)
            sink = self._sink(upstream, target)
            if sink is not None:
                sink.update(held.body)
                sink.done()
        return True

    def _sink(self, upstream: Upstream, target: routing.Target) -> Sink | None:
        """Provenance's hash of a file served whole (None when nothing is recorded)."""
        recorder = self.server.state.recorder
        return None if recorder is None else recorder.sink(upstream, target.url,
                                                           target.filename)

    def _stream(self, reply: Reply, head: bool, alarm: Alarm, sink: Sink | None = None,
                reusable: bool = True) -> bool:
        """Pass the upstream's answer on; False when it was cut short by the deadline.
        ``reusable``: False when the answer has a body ``head`` leaves unread."""
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
                for block in blocks(response):
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
                                  f"{reason(exc) if not alarm.fired else 'deadline passed'}")
        finally:
            fired = self.server.state.fetcher.watchdog.disarm(alarm)
            if bodiless:
                response.close()
            reply.release(reuse=complete and not fired and reusable)
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


def safe_target(raw: str) -> str:
    """A request target fit for the log: the path only, printable, short, scrubbed."""
    path = raw.partition("?")[0].partition("#")[0]
    if not path.startswith("/") or path.startswith("//"):
        return "(not a path)"
    shown = "".join(c if c.isprintable() and c.isascii() else "?" for c in path[:200])
    return redact(shown + ("..." if len(path) > 200 else ""))


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
