"""The per-run loopback index: one simple API for pip and uv that routes each name to its owner.

    with LocalIndex([Upstream("corp", url, owns=("corp-*",), token=token), ...]) as index:
        # give the child index.url, and index.username / index.password through a 0600 netrc
        ...
    for problem in index.problems():
        print(problem.describe())

Upstream tokens stay in this process; the child sees only ``index.url`` (no credential) and the
per-run credential, random for each LocalIndex. The rules live in :mod:`.routing`, the page
model in :mod:`.pages`, the HTTP plumbing in :mod:`.server` (imported when the index starts).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from privpip.core.identity import DEFAULT_USERNAME
from privpip.core.secret import Secret
from privpip.errors import PrivpipError, UnsafeCredential
from privpip.localindex.model import STRATEGIES, Problem, Upstream

if TYPE_CHECKING:
    import socket
    import ssl
    import threading

    from privpip.checks.provenance import Recorder
    from privpip.core.pipconfig import Setting
    from privpip.localindex.fetch import State
    from privpip.localindex.server import LocalServer

__all__ = ["LocalIndex", "Problem", "Upstream", "ssl_context"]
MAX_PAGE_BYTES = 64 << 20


def ssl_context(env: Mapping[str, str] | None = None,
                pip_settings: Sequence[Setting] | None = None) -> ssl.SSLContext | None:
    """The TLS context pip would use for upstreams: its ``cert``, then REQUESTS_CA_BUNDLE,
    CURL_CA_BUNDLE, SSL_CERT_FILE / SSL_CERT_DIR; plus its ``client-cert``. None for the
    system store without a client certificate (LocalIndex makes that context itself). See
    :mod:`privpip.localindex.tls`."""
    from privpip.localindex import tls

    return tls.ssl_context(env, pip_settings)


def _check_credential(upstream: Upstream) -> None:
    if upstream.token is None:
        return
    user = upstream.username or DEFAULT_USERNAME
    if not (user.isascii() and upstream.token.reveal().isascii()) or ":" in user:
        raise UnsafeCredential(
            f"the credential of index {upstream.name!r} cannot be sent as HTTP Basic auth "
            "(non-ASCII characters, or a ':' in the username)",
            hint=f"privpip login {upstream.name}")


def _listening_socket(host: str, port: int) -> socket.socket:
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "posix":  # as http.server does: a fixed port can be reused at once
            # (Linux still refuses a second listener on the same address and port.)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)  # uv opens many connections at once
    except BaseException:
        listener.close()
        raise
    return listener


def _cannot_listen(exc: OSError) -> PrivpipError:
    return PrivpipError(f"cannot open a local port for the per-run index ({exc})",
                        hint="use the netrc delivery instead (--delivery netrc)")


class LocalIndex:
    """A simple-API server on loopback for one run; a context manager (started on enter)."""

    def __init__(self, upstreams: Sequence[Upstream], timeout: float = 30.0,
                 log: Callable[[str], None] | None = None, *,
                 ssl_context: ssl.SSLContext | None = None, cafile: str | None = None,
                 deadline: float = 120.0, file_deadline: float = 3600.0,
                 max_page_bytes: int = MAX_PAGE_BYTES, host: str = "127.0.0.1", port: int = 0,
                 fall_back: bool = False, idle_timeout: float = 30.0,
                 connect_ahead: Sequence[str] = (), recorder: Recorder | None = None,
                 strategy: str = "first-index") -> None:
        """``timeout``: the longest wait for any one read from an upstream; ``deadline``: the
        longest a whole page request may take (connect, redirects, body), ``file_deadline``
        the same for one file download; ``max_page_bytes``: the largest project page (after
        gzip). TLS: ``ssl_context`` (see :func:`ssl_context`), or ``cafile`` (a CA bundle to
        trust instead of the default store), or the default context. ``host`` and ``port``:
        where to listen (a loopback address; port 0 for a free one); with ``fall_back``, a
        busy port becomes a free one and an address the system lacks 127.0.0.1 (see
        ``listen_note``). ``idle_timeout``: how long a client's connection may stay silent
        (before or between requests) until it is closed. ``connect_ahead``: the upstreams (by
        name) to open a connection to as soon as the server is built (see ``serve``).
        ``recorder``: collects each file streamed in full with its SHA-256 (provenance).
        ``strategy``: ``first-index`` or ``unsafe-best-match`` (see :mod:`.routing`)."""
        from base64 import urlsafe_b64encode

        names = [u.name for u in upstreams]
        if len(set(names)) != len(names):
            raise ValueError(f"index names must be unique: {names}")
        for upstream in upstreams:
            _check_credential(upstream)
        if min(timeout, deadline, file_deadline, idle_timeout) <= 0 or max_page_bytes <= 0:
            raise ValueError("timeouts, deadlines and the page size limit must be positive")
        if ssl_context is not None and cafile is not None:
            raise ValueError("give ssl_context or cafile, not both")
        self.upstreams = tuple(upstreams)
        self.timeout = timeout
        self.deadline = deadline
        self.file_deadline = file_deadline
        self.max_page_bytes = max_page_bytes
        self._ssl_context = ssl_context
        self._cafile = cafile
        self.requested_host = host
        self.requested_port = port
        self.fall_back = fall_back
        self.idle_timeout = idle_timeout
        self.listen_note = ""  # why the index listens elsewhere than asked ("" when it does not)
        self.connect_ahead = tuple(connect_ahead)
        self.recorder = recorder
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown index strategy {strategy!r}")
        self.strategy = strategy
        # What secrets.token_hex / token_urlsafe return (os.urandom), without importing the
        # secrets module (hmac, hashlib and OpenSSL: about 7 ms of install's start-up).
        self.username = "privpip-" + os.urandom(4).hex()
        self.password = Secret(urlsafe_b64encode(os.urandom(24)).rstrip(b"=").decode("ascii"))
        self._log = log
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ready: threading.Event | None = None  # set once the server is built (or failed)
        self._failure: BaseException | None = None
        self._server: LocalServer | None = None
        self._state: State | None = None

    def start(self) -> LocalIndex:
        """Listen, then answer: ``listen()`` and ``serve()``."""
        return self.listen().serve()

    def listen(self) -> LocalIndex:
        """Open the listening socket. From here on the port and URL are known, and a
        client's connections wait in the socket's backlog until ``serve()``."""
        import errno

        if self._listener is not None:
            return self
        if self._ssl_context is None and self._cafile is not None:
            from privpip.localindex.tls import make_context

            self._ssl_context = make_context(("the CA file given", self._cafile))
        host, port = self.requested_host, self.requested_port
        try:
            self._listener = _listening_socket(host, port)
        except OSError as exc:
            if not self.fall_back or exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                raise _cannot_listen(exc) from None
            if exc.errno == errno.EADDRINUSE:
                self.listen_note = (f"{host}:{port} is busy (another privpip run?): this run "
                                    "listens on another port, so pip's and uv's caches miss")
            else:
                host = "127.0.0.1"
                self.listen_note = (f"{self.requested_host} is not a local address here: this "
                                    "run listens on a free port of 127.0.0.1 (caches miss)")
            try:
                self._listener = _listening_socket(host, 0)
            except OSError as again:
                raise _cannot_listen(again) from None
        return self

    def serve(self) -> LocalIndex:
        """Answer requests, from a background thread that first builds the server.

        Building it means importing http.server, http.client and ssl and making the TLS
        context for https upstreams: about as long as the rest of privpip's start-up. Then
        it opens one connection to each ``connect_ahead`` upstream (nothing sent), so that
        the TCP and TLS handshakes are done before the first request. A caller that calls
        this just after starting pip (privpip does) has that work done beside pip's own
        start-up (180 ms of imports), on another core, instead of before it; pip's first
        requests wait in the backlog if they come sooner. uv starts too fast for that, so
        privpip calls this before starting uv.
        """
        import threading

        if self._thread is not None:
            return self
        self.listen()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="privpip-localindex",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from privpip.core.signals import leave_signals_to_main_thread

        leave_signals_to_main_thread()  # the handler threads started here inherit the mask
        try:
            from privpip.localindex.fetch import State
            from privpip.localindex.server import LocalServer

            context = self._ssl_context
            if context is None and any(u.url.startswith("https:") for u in self.upstreams):
                import ssl

                context = ssl.create_default_context()
            state = State(self.upstreams, self.username, self.password, self.timeout,
                          self._log, context=context, deadline=self.deadline,
                          file_deadline=self.file_deadline, max_page_bytes=self.max_page_bytes,
                          recorder=self.recorder, strategy=self.strategy)
            assert self._listener is not None
            server = LocalServer.adopt(self._listener, state, self.idle_timeout)
        except BaseException as exc:  # noqa: BLE001 - reported by close(), never swallowed
            self._failure = exc
            if self._listener is not None:
                self._listener.close()  # the child's requests are refused, not left waiting
            return
        else:
            self._state, self._server = state, server
            state.warm_up(self.connect_ahead)  # handshakes while the child is still starting
        finally:
            assert self._ready is not None
            self._ready.set()
        server.answer_until_stopped()  # a stop() that came first ends it at once

    def wait_ready(self) -> None:
        """Return once serve()'s server is built (or failed); at once before serve()."""
        if self._ready is not None:
            self._ready.wait()

    def close(self) -> None:
        """Stop answering and close the connections; a server that could not be built is a
        PrivpipError here (the child's requests were refused)."""
        thread, self._thread = self._thread, None
        if thread is not None and self._ready is not None:
            self._ready.wait()
            server, state = self._server, self._state
            if server is not None and state is not None:
                server.stop()
                thread.join(5)
                state.close()
        elif self._listener is not None:
            self._listener.close()
        self._listener = None
        failure, self._failure = self._failure, None
        if failure is not None:
            raise PrivpipError(f"the per-run index on 127.0.0.1 could not start: "
                               f"{type(failure).__name__}: {failure}",
                               hint="use the netrc delivery instead (--delivery netrc), and "
                               "report this") from None

    def __enter__(self) -> LocalIndex:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def host(self) -> str:
        if self._listener is None:
            raise RuntimeError("the local index is not listening")
        return str(self._listener.getsockname()[0])

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the local index is not listening")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        """The simple API root for pip/uv, without any credential."""
        return f"http://{self.host}:{self.port}/simple/"

    def problems(self) -> list[Problem]:
        """What upstreams did wrong so far (kept after close), in the order first seen."""
        if self._state is None:
            return []
        with self._state.lock:
            return list(self._state.problems)
