"""`status --check` shows when a token expires where the registry tells (issue 24): GitLab's
personal_access_tokens/self, GitHub's github-authentication-token-expiration header. A server
on 127.0.0.1 plays both registries; it answers as they document."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from privpip.checks import check
from tests.helpers import pp, table, write_config

TODAY = datetime.now(timezone.utc).date()
SOON, LATER = TODAY + timedelta(days=3), TODAY + timedelta(days=60)
# token -> expires_at as GitLab's API gives it (None: a token that never expires)
GITLAB = {"soon-Token_gl123": SOON.isoformat(), "later-Token_gl456": LATER.isoformat(),
          "never-Token_gl789": None}
GITHUB = {"gh-Token_soon5": TODAY + timedelta(days=5)}
DEPLOY = ("gitlab+deploy-token-1", "deploy-Token_dp1")  # the API refuses deploy tokens


class Registry(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def basic(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        return user, token

    def send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append({"path": self.path, **dict(self.headers)})
        cred = self.basic()
        if self.path == "/api/v4/personal_access_tokens/self":
            token = self.headers.get("PRIVATE-TOKEN", "")
            if token not in GITLAB or "Authorization" in self.headers:
                return self.send(401, b'{"message":"401 Unauthorized"}')
            body = {"id": 1, "name": "ci", "active": True, "expires_at": GITLAB[token]}
            return self.send(200, json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
        if self.path.startswith("/api/v4/projects/"):
            if cred is None or cred[1] not in (*GITLAB, DEPLOY[1]):
                return self.send(401, b"")
            return self.send(200, b"<html><body></body></html>")
        if self.path == "/gh/simple/":
            if cred is None or cred[1] not in GITHUB:
                return self.send(401, b"")
            when = f"{GITHUB[cred[1]].isoformat()} 10:00:00 UTC"
            return self.send(200, b"<html></html>",
                             {"GitHub-Authentication-Token-Expiration": when})
        self.send(404, b"")


@pytest.fixture
def registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Registry.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def gitlab(name: str, root: str, project: int, extra: str = "") -> str:
    return (f'[[index]]\nname = "{name}"\n'
            f'url = "{root}/api/v4/projects/{project}/packages/pypi/simple/"\n{extra}')


def test_status_check_shows_expiry_and_warns_within_a_week(registry, tmp_path):
    write_config(tmp_path, gitlab("soon", registry, 1) + gitlab("later", registry, 2)
                 + gitlab("never", registry, 3)
                 + gitlab("deploy", registry, 4, f'username = "{DEPLOY[0]}"\n')
                 + f'[[index]]\nname = "gh"\nurl = "{registry}/gh/simple/"\n')
    env = {"PRIVPIP_INDEX_SOON_TOKEN": "soon-Token_gl123",
           "PRIVPIP_INDEX_LATER_TOKEN": "later-Token_gl456",
           "PRIVPIP_INDEX_NEVER_TOKEN": "never-Token_gl789",
           "PRIVPIP_INDEX_DEPLOY_TOKEN": DEPLOY[1], "PRIVPIP_INDEX_GH_TOKEN": "gh-Token_soon5"}
    result = pp("status", "--check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout  # a warning, not a failure
    rows = table(result.stdout)
    assert rows[0][-1] == "EXPIRES"
    assert {row[0]: (row[5], row[-1]) for row in rows[1:]} == {
        "soon": ("ok", SOON.isoformat()), "later": ("ok", LATER.isoformat()),
        "never": ("ok", "-"), "deploy": ("ok", "-"),
        "gh": ("ok", (TODAY + timedelta(days=5)).isoformat())}
    assert result.stdout.splitlines()[-2:] == [
        f"soon: the token expires on {SOON.isoformat()} (in 3 days, as the index says); put a "
        "new token in PRIVPIP_INDEX_SOON_TOKEN before then",
        f"gh: the token expires on {(TODAY + timedelta(days=5)).isoformat()} (in 5 days, as the "
        "index says); put a new token in PRIVPIP_INDEX_GH_TOKEN before then"]
    # GitLab's API got the token in PRIVATE-TOKEN only, never as basic auth.
    asked = [seen for seen in Registry.seen if seen["path"].endswith("/self")]
    assert len(asked) == 4 and not any("Authorization" in seen for seen in asked)

    data = json.loads(pp("status", "--check", "--json", cwd=tmp_path, env=env).stdout)
    assert {i["name"]: i["check"]["expires"] for i in data["indexes"]} == {
        "soon": SOON.isoformat(), "later": LATER.isoformat(), "never": None, "deploy": None,
        "gh": (TODAY + timedelta(days=5)).isoformat()}

    # Without --check nothing is asked, and no column appears.
    plain = pp("status", cwd=tmp_path, env=env)
    assert "EXPIRES" not in plain.stdout and "expires" not in plain.stdout


def test_expiry_header_and_note_on_recorded_values():
    assert check.expiry_header("2026-12-08 10:00:00 UTC") == date(2026, 12, 8)
    assert check.expiry_header("2026-12-08 23:30:00 -0700") == date(2026, 12, 9)
    assert check.expiry_header("next tuesday") is None
    assert check.expiry_header(None) is None
    result = check.CheckResult("corp", "u", check.OK, 200, 0.1, "ok", date(2026, 12, 8))
    assert check.expiry_note(result, date(2026, 11, 30)) is None  # 8 days left
    assert check.expiry_note(result, date(2026, 12, 1)) == \
        "the token expires on 2026-12-08 (in 7 days, as the index says)"
    assert check.expiry_note(result, date(2026, 12, 7)) == \
        "the token expires on 2026-12-08 (in 1 day, as the index says)"
    assert check.expiry_note(result, date(2026, 12, 8)) == \
        "the token expires on 2026-12-08 (today, as the index says)"
