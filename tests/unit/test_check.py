"""privpip.checks.check: the credential goes in a header, and only to the index's own origin."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator

import pytest

from privpip.checks import check
from privpip.config import Index
from privpip.core.secret import Secret
from privpip.credentials import Credential
from tests.helpers import PLAIN_TOKEN


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records each request's path and Authorization header; redirects as told."""

    seen: list[tuple[int, str, str | None]]
    redirects: dict[str, str]

    def do_GET(self) -> None:  # noqa: N802
        port = int(self.server.server_address[1])  # type: ignore[index]
        self.seen.append((port, self.path, self.headers.get("Authorization")))
        target = self.redirects.get(self.path)
        if target:
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html></html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[tuple[list, dict, list[str]]]:
    seen: list = []
    redirects: dict[str, str] = {}
    handler = type("H", (Recorder,), {"seen": seen, "redirects": redirects})
    running = []
    roots = []
    for _ in range(2):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
        roots.append(f"http://127.0.0.1:{server.server_address[1]}")
    yield seen, redirects, roots
    for server in running:
        server.shutdown()


def expected_header(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


def test_same_origin_redirect_keeps_the_credential(servers):
    seen, redirects, (root, _other) = servers
    redirects["/simple"] = root + "/simple/"
    cred = Credential("__token__", Secret(PLAIN_TOKEN), "test")
    result = check.check(Index("corp", root + "/simple"), cred, timeout=5)
    assert result.ok and result.status == 200
    auth = expected_header("__token__", PLAIN_TOKEN)
    assert [(path, header) for _port, path, header in seen] == [("/simple", auth),
                                                                 ("/simple/", auth)]


def test_cross_origin_redirect_drops_the_credential(servers):
    seen, redirects, (root, other) = servers
    redirects["/simple/"] = other + "/elsewhere/"
    cred = Credential("__token__", Secret(PLAIN_TOKEN), "test")
    result = check.check(Index("corp", root + "/simple/"), cred, timeout=5)
    assert result.ok
    assert seen[0][2] == expected_header("__token__", PLAIN_TOKEN)
    assert seen[1][1:] == ("/elsewhere/", None)  # the other host never saw the token


def test_anonymous_check_sends_no_header(servers):
    seen, _redirects, (root, _other) = servers
    result = check.check(Index("pub", root + "/simple/", auth=False), None, timeout=5)
    assert result.ok and result.detail == "the index answered without a credential"
    assert seen[0][2] is None


def test_check_all_keeps_the_order(servers):
    _seen, _redirects, (root, other) = servers
    pairs = [(Index(f"i{n}", (root, other)[n % 2] + "/simple/"), None) for n in range(5)]
    results = check.check_all(pairs, timeout=5)
    assert [r.index for r in results] == [f"i{n}" for n in range(5)]
    assert check.check_all([], timeout=5) == []


def test_command_modules_import_nothing_heavy():
    """Start-up speed: rich, keyring, tomli_w and urllib.request load only when used."""
    import subprocess
    import sys

    from tests.helpers import TESTS

    code = ("import sys, privpip.cli, privpip.cli.login, privpip.cli.status, privpip.cli.init, "
            "privpip.checks.check, privpip.config.edit; print(sorted(m for m in ('rich', 'keyring', "
            "'tomli_w', 'urllib.request', 'concurrent.futures') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=TESTS.parent, check=True)
    assert out.stdout.strip() == "[]"


def test_audit_listing_drops_the_credential_on_a_cross_origin_redirect(servers):
    """`privpip audit` lists an index through the same request helper as `check`."""
    from privpip.checks import confusion

    seen, redirects, (root, other) = servers
    redirects["/simple/"] = other + "/elsewhere/"
    cred = Credential("__token__", Secret(PLAIN_TOKEN), "test")
    assert confusion.list_index(root + "/simple/", cred, timeout=5) == []
    assert seen[0][2] == expected_header("__token__", PLAIN_TOKEN)
    assert seen[1][1:] == ("/elsewhere/", None)
