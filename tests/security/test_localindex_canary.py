"""The canary through the local index: every channel it has, searched for every form of the token.

The privpip commands are wired to the local index elsewhere; until then these scenarios drive
:class:`LocalIndex` directly, with real pip where pip is part of the path, and apply the same
scan as the canary suite (leakscan.secret_forms plus tests.helpers.token_forms) to:

- ``log``: every line of the index's ``log`` callback (request log, upstream requests, problems);
- ``responses``: status line, headers and body of every answer the index gave (401, 404, 405,
  409, 502 pages included);
- ``problems``: ``Problem.describe()`` of every problem;
- ``pip``: pip's stdout/stderr (``-v``), and what an sdist's build backend printed of its
  environment, plus the netrc pip was given;
- ``capture``: every request line and header a foreign-origin server (object storage behind a
  redirect) received.

The per-run credential is searched for as well, except where it must be (the netrc).
"""

from __future__ import annotations

import base64
import http.client
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from privpip.core.secret import Secret
from privpip.localindex import LocalIndex, Upstream, ssl_context
from tests.helpers import token_forms
from tests.security import leakscan

TOKEN = leakscan.CANARY_ASCII
USER = leakscan.CANARY_USER


def forms(user: str, token: str) -> dict[str, bytes]:
    found = dict(leakscan.secret_forms(user, token))
    for n, form in enumerate(token_forms(user, token)):
        found.setdefault(f"helpers-form-{n}", form.encode())
    return found


class Channels:
    """What one scenario collected, by channel; ``scan`` fails naming channel and form."""

    def __init__(self) -> None:
        self.blobs: dict[str, list[bytes]] = {}

    def add(self, channel: str, blob: bytes | str) -> None:
        self.blobs.setdefault(channel, []).append(
            blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob)

    def scan(self, index: LocalIndex, required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.add("log", "\n".join(LOGS.get(id(index), [])))
        self.add("problems", "\n".join(p.describe() for p in index.problems()))
        secrets = {"upstream token": forms(USER, TOKEN),
                   "per-run credential": forms(index.username, index.password.reveal())}
        leaks = []
        for channel, blobs in self.blobs.items():
            for blob in blobs:
                for what, wanted in secrets.items():
                    hits = leakscan.find_forms(blob, wanted)
                    if hits:
                        leaks.append(f"{what} in {channel}: {', '.join(hits)}")
        assert leaks == []
        assert required <= set(self.blobs), required - set(self.blobs)


LOGS: dict[int, list[str]] = {}


@pytest.fixture
def start() -> Iterator:
    started: list[LocalIndex] = []

    def start(*upstreams: Upstream, **kwargs: object) -> LocalIndex:
        log: list[str] = []
        index = LocalIndex(upstreams, log=log.append, **kwargs).start()  # type: ignore[arg-type]
        LOGS[id(index)] = log
        started.append(index)
        return index

    yield start
    for index in started:
        index.close()
        LOGS.pop(id(index), None)


def ask(index: LocalIndex, channels: Channels, path: str, method: str = "GET",
        auth: bool = True, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", index.port, timeout=60)
    sent = dict(headers or {})
    if auth:
        raw = f"{index.username}:{index.password.reveal()}".encode()
        sent["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    try:
        conn.request(method, path, headers=sent)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    head = f"HTTP {response.status} {response.reason}\n" + "".join(
        f"{k}: {v}\n" for k, v in response.getheaders())
    channels.add("responses", head.encode() + b"\n" + body)
    return response.status, body


def canary_upstream(root: str, token: str = TOKEN, **kw: object) -> Upstream:
    return Upstream("corp", f"{root}/simple/" if not root.endswith("/") else root,
                    username=USER, token=Secret(token), **kw)  # type: ignore[arg-type]


def run_pip(index: LocalIndex, channels: Channels, tmp: Path, *args: str
            ) -> subprocess.CompletedProcess[bytes]:
    netrc = tmp / "netrc"
    netrc.touch(mode=0o600)
    netrc.write_text(f"machine {index.host}\nlogin {index.username}\n"
                     f"password {index.password.reveal()}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "NETRC"))}
    env.update(NETRC=str(netrc), PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1",
               PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_RETRIES="0")
    result = subprocess.run([sys.executable, "-m", "pip", "-v", *args, "--index-url", index.url],
                            env=env, capture_output=True, timeout=300)
    channels.add("pip", result.stdout + result.stderr)
    # The netrc holds the per-run credential (its purpose), never an upstream token.
    assert leakscan.find_forms(netrc.read_bytes(), forms(USER, TOKEN)) == []
    return result


# ---------------------------------------------------------------------------
# scenarios


def test_install_through_the_index(start, canary_index, tmp_path):
    channels = Channels()
    index = start(canary_upstream(canary_index.root, owns=("corp-*",)))
    result = run_pip(index, channels, tmp_path, "install", "--target", str(tmp_path / "t"),
                     "corp-dep")
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "t" / "corp_dep").is_dir()
    for path in ("/simple/corp-dep/", "/simple/corp-dep", "/simple/", "/nothing"):
        ask(index, channels, path)
    channels.scan(index, {"pip", "responses", "log"})


def test_build_backend_environment_holds_no_token(start, canary_index, tmp_path):
    """An sdist's build backend prints its whole environment (and fails): no token in it."""
    channels = Channels()
    index = start(canary_upstream(canary_index.root, owns=("corp-*",)))
    result = run_pip(index, channels, tmp_path, "install", "--target", str(tmp_path / "t"),
                     "corp-envdump")
    assert result.returncode != 0
    assert b"envdump: NETRC=" in result.stdout + result.stderr  # the backend really ran
    channels.scan(index, {"pip"})


@pytest.mark.parametrize("code", [401, 403, 500])
def test_upstream_refusals_and_error_pages(start, tmp_path, code):
    from tests.security.stubs import StubIndex

    stub = StubIndex("status", code)
    try:
        channels = Channels()
        index = start(canary_upstream(stub.url, owns=("corp-*",)),
                      Upstream("public", f"{stub.url.rstrip('/')}/public/simple/"))
        result = run_pip(index, channels, tmp_path, "install", "--target", str(tmp_path / "t"),
                         "corp-dep")
        assert result.returncode != 0
        assert ask(index, channels, "/simple/corp-dep/")[0] == 502
        assert ask(index, channels, "/simple/unowned/")[0] == 502  # withheld: both named
        assert ask(index, channels, "/simple/corp-dep/", auth=False)[0] == 401
        assert ask(index, channels, "/simple/corp-dep/", method="POST")[0] == 405
        assert ask(index, channels, "/files/corp/00/x.whl")[0] == 404
        assert any(a.startswith("Basic ") for a in stub.auth_seen)  # the canary did go out
        assert any(str(code) in p.what for p in index.problems())
        channels.scan(index, {"pip", "responses", "problems"})
    finally:
        stub.stop()


class _Storage(http.server.BaseHTTPRequestHandler):
    """Records everything it receives: request line and every header."""

    received: list[bytes]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.received.append(self.requestline.encode() + b"\n" + bytes(self.headers))
        body = b"stored file"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Origin(http.server.BaseHTTPRequestHandler):
    """An index whose download redirects to storage; its PEP 708 page declares ``tracks``."""

    location = ""
    tracks = ""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/simple/"):
            meta = f'<meta name="pypi:tracks" content="{self.tracks}">' if self.tracks else ""
            port = self.server.server_address[1]  # type: ignore[index]
            body = (f"<html><head>{meta}</head><body><a href='/dl/pkg-{port}.tar.gz#sha256=00'>"
                    "x</a></body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        else:
            body = b""
            self.send_response(302)
            self.send_header("Location", self.location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(handler: type) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_redirect_to_another_origin_and_pep708_refusal(start):
    received: list[bytes] = []
    storage = _serve(type("S", (_Storage,), {"received": received}))
    port = storage.server_address[1]
    signed = "X-Amz-Signature=sig-" + "9f8e7d6c5b4a"  # not the canary: storage may see it
    origin = _serve(type("O", (_Origin,), {
        "location": f"http://localhost:{port}/bucket/pkg.tar.gz?{signed}"}))
    mirror = _serve(type("M", (_Origin,), {"tracks": "https://elsewhere.example/simple/pkg/"}))
    try:
        channels = Channels()
        index = start(canary_upstream(f"http://127.0.0.1:{origin.server_address[1]}/simple/"),
                      Upstream("mirror", f"http://127.0.0.1:{mirror.server_address[1]}/simple/",
                               username=USER, token=Secret(TOKEN)), strategy="unsafe-best-match")
        assert ask(index, channels, "/simple/pkg/")[0] == 409  # PEP 708 refuses the merge
        solo = start(canary_upstream(f"http://127.0.0.1:{origin.server_address[1]}/simple/"))
        status, body = ask(solo, channels, "/simple/pkg/")
        assert status == 200
        path = body.decode().split("href=\"")[1].split("#")[0]
        assert ask(solo, channels, path) == (200, b"stored file")
        assert len(received) == 1 and b"Authorization" not in received[0]
        for blob in received:
            channels.add("capture", blob)
        channels.scan(index, {"responses", "problems", "capture"})
        channels.scan(solo)
        assert not any(signed in line for line in LOGS[id(solo)])
    finally:
        for server in (storage, origin, mirror):
            server.shutdown()


def test_tls_and_deadline_problems(start, tmp_path):
    """A certificate the index cannot verify, and an upstream that never answers."""
    import socket
    import ssl

    from tests.e2e.test_localindex_limits import _make_ca, serve

    _, cert, key = _make_ca(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server, _ = serve(context=context)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        try:
            channels = Channels()
            index = start(
                canary_upstream(f"https://127.0.0.1:{server.server_address[1]}/simple/"),
                Upstream("slow", f"http://127.0.0.1:{silent.getsockname()[1]}/simple/",
                         owns=("slow-*",), username=USER, token=Secret(TOKEN)),
                timeout=5, deadline=1.0, ssl_context=ssl_context({"PIP_CONFIG_FILE": os.devnull}))
            assert ask(index, channels, "/simple/pkg/")[0] == 502
            assert ask(index, channels, "/simple/slow-pkg/")[0] == 502
            text = "\n".join(p.describe() for p in index.problems())
            assert "TLS certificate" in text and "total limit" in text
            channels.scan(index, {"responses", "problems"})
        finally:
            server.shutdown()
