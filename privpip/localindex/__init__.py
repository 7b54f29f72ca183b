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

import secrets
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING

from privpip.errors import PrivpipError, UnsafeCredential
from privpip.localindex.routing import Problem, Upstream
from privpip.secret import Secret

if TYPE_CHECKING:
    from privpip.localindex.server import LocalServer, State

__all__ = ["LocalIndex", "Problem", "Upstream"]


def _check_credential(upstream: Upstream) -> None:
    if upstream.token is None:
        return
    user = upstream.username or "__token__"
    if not (user.isascii() and upstream.token.reveal().isascii()) or ":" in user:
        raise UnsafeCredential(
            f"the credential of index {upstream.name!r} cannot be sent as HTTP Basic auth "
            "(non-ASCII characters, or a ':' in the username)",
            hint=f"privpip login {upstream.name}")


class LocalIndex:
    """A simple-API server on 127.0.0.1 for one run; a context manager (started on enter)."""

    def __init__(self, upstreams: Sequence[Upstream], timeout: float = 30.0,
                 log: Callable[[str], None] | None = None, port: int = 0) -> None:
        names = [u.name for u in upstreams]
        if len(set(names)) != len(names):
            raise ValueError(f"index names must be unique: {names}")
        for upstream in upstreams:
            _check_credential(upstream)
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.upstreams = tuple(upstreams)
        self.timeout = timeout
        self.requested_port = port  # 0: a free port (privpip serve --port chooses one)
        self.username = "privpip-" + secrets.token_hex(4)
        self.password = Secret(secrets.token_urlsafe(24))
        self._log = log or (lambda _line: None)
        self._stack: ExitStack | None = None
        self._server: LocalServer | None = None
        self._state: State | None = None

    def start(self) -> LocalIndex:
        from privpip.localindex.server import State, serving

        if self._stack is not None:
            return self
        state = State(self.upstreams, self.username, self.password, self.timeout, self._log)
        stack = ExitStack()
        try:
            self._server = stack.enter_context(serving(state, self.requested_port))
        except OSError as exc:
            stack.close()
            raise PrivpipError(f"cannot open a local port for the per-run index ({exc})",
                               hint="use the netrc delivery instead (--delivery netrc)"
                               ) from None
        self._state, self._stack = state, stack
        return self

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> LocalIndex:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the local index is not started")
        return int(self._server.server_address[1])

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
