"""The local index with real upstreams (pypiserver with htpasswd on 127.0.0.1), real pip and uv."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from privpip.core.secret import Secret
from privpip.localindex import LocalIndex, Problem, Upstream
from tests import packaging_fixtures
from tests.helpers import free_port, start_multi_pypiserver, stop_server, write_htpasswd

TESTS = Path(__file__).resolve().parents[1]
CORP_USER, CORP_TOKEN = "corp-deployer", "corp-Token_" + "a1b2c3d4e5"
OTHER_USER, OTHER_TOKEN = "other-deployer", "other-Token_" + "f6g7h8i9j0"
BIG_MB = 40


class Upstreams:
    def __init__(self, root: str, big: Path) -> None:
        self.root = root
        self.big = big

    def corp(self, token: str = CORP_TOKEN, **kw: Any) -> Upstream:
        return Upstream("corp", f"{self.root}/corp/simple/", owns=("corp-*", "a-pkg", "big-pkg"),
                        username=CORP_USER, token=Secret(token), **kw)

    def other(self) -> Upstream:
        return Upstream("other", f"{self.root}/other/simple/", username=OTHER_USER,
                        token=Secret(OTHER_TOKEN))


def _wheel(directory: Path, name: str, version: str, requires: list[str] | None = None,
           data: str = "") -> Path:
    module = name.replace("-", "_")
    files = {f"{module}/__init__.py": f"VALUE = {name + ' ' + version!r}\n"}
    if data:
        files[f"{module}/data.txt"] = data
    return packaging_fixtures.write_wheel(directory, name, version, files, requires=requires)


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    """Two pypiserver indexes on ONE host and port (/corp/, /other/), different users and tokens."""
    base = tmp_path_factory.mktemp("upstreams")
    corp, other = base / "corp", base / "other"
    corp.mkdir()
    other.mkdir()
    _wheel(corp, "corp-dep", "1.0")
    _wheel(corp, "corp-top", "1.0", requires=["corp-dep"])
    _wheel(corp, "a-pkg", "1.0")
    big = _wheel(corp, "big-pkg", "1.0", data=secrets.token_hex(BIG_MB * 512 * 1024))
    _wheel(other, "b-pkg", "1.0")
    _wheel(other, "corp-dep", "99.0")  # the squatter
    for n in range(20):
        _wheel(other, f"many-{n}", "1.0")
    _wheel(other, "many-all", "1.0", requires=[f"many-{n}" for n in range(20)])
    specs = [f"corp={corp}:{write_htpasswd(base / 'corp.htpasswd', {CORP_USER: CORP_TOKEN})}",
             f"other={other}:{write_htpasswd(base / 'other.htpasswd', {OTHER_USER: OTHER_TOKEN})}"]
    process, root = start_multi_pypiserver(specs)
    try:
        yield Upstreams(root, big)
    finally:
        stop_server(process)


class Run:
    """A LocalIndex plus what a child needs: a private netrc (NETRC), nothing on the argv."""

    def __init__(self, index: LocalIndex, tmp: Path, log: list[str]) -> None:
        self.index = index
        self.log = log
        netrc = tmp / "netrc"
        netrc.touch(mode=0o600)
        netrc.write_text(f"machine {index.host}\nlogin {index.username}\n"
                         f"password {index.password.reveal()}\n")
        self.env = {**os.environ, "NETRC": str(netrc), "PIP_NO_INPUT": "1", "UV_NO_CACHE": "1",
                    "UV_NO_CONFIG": "1"}

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pip", *args, "--index-url", self.index.url],
                              env=self.env, capture_output=True, text=True, timeout=300)

    def uv(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "uv", "pip", *args, "--python", sys.executable,
                               "--index-url", self.index.url], env=self.env, capture_output=True,
                              text=True, timeout=300)

    def get(self, path: str, auth: bool = True, **headers: str) -> tuple[int, bytes, dict[str, str]]:
        if auth:
            raw = f"{self.index.username}:{self.index.password.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.index.port}{path}",
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[LocalIndex] = []

    def start(*ups: Upstream, timeout: float = 30.0, strategy: str = "first-index") -> Run:
        log: list[str] = []
        index = LocalIndex(ups, timeout=timeout, log=log.append, strategy=strategy).start()
        started.append(index)
        return Run(index, tmp_path, log)

    yield start
    for index in started:
        index.close()


def _no_token_in(run: Run, *texts: str) -> None:
    for text in (*texts, "\n".join(run.log), repr(run.index.problems())):
        for token in (CORP_TOKEN, OTHER_TOKEN, run.index.password.reveal()):
            assert token not in text


def _installed(target: Path) -> dict[str, str]:
    return {m.group(1): m.group(2) for p in target.glob("*.dist-info")
            if (m := re.match(r"(.+)-([^-]+)\.dist-info$", p.name))}


def test_two_indexes_on_one_host_with_different_tokens_pip_and_uv(run, upstreams, tmp_path) -> None:
    r = run(upstreams.corp(), upstreams.other())
    pip = r.pip("install", "--target", str(tmp_path / "pip"), "a-pkg", "b-pkg")
    assert pip.returncode == 0, pip.stderr
    assert _installed(tmp_path / "pip") == {"a_pkg": "1.0", "b_pkg": "1.0"}
    uv = r.uv("install", "--target", str(tmp_path / "uv"), "a-pkg", "b-pkg")
    assert uv.returncode == 0, uv.stderr
    assert _installed(tmp_path / "uv") == {"a_pkg": "1.0", "b_pkg": "1.0"}
    assert r.index.problems() == []
    _no_token_in(r, pip.stdout, pip.stderr, uv.stdout, uv.stderr)


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_squatted_owned_name_comes_from_its_owner(run, upstreams, tmp_path, tool) -> None:
    # The squatter's index comes FIRST in config order, and has the higher version.
    r = run(upstreams.other(), upstreams.corp())
    install = r.pip if tool == "pip" else r.uv
    direct = install("install", "--target", str(tmp_path / "direct"), "corp-dep")
    assert direct.returncode == 0, direct.stderr
    assert _installed(tmp_path / "direct") == {"corp_dep": "1.0"}
    transitive = install("install", "--target", str(tmp_path / "transitive"), "corp-top")
    assert transitive.returncode == 0, transitive.stderr
    assert _installed(tmp_path / "transitive") == {"corp_top": "1.0", "corp_dep": "1.0"}


@pytest.mark.parametrize(("strategy", "files"), [
    # private first: the first index in order that has the name, nothing from a later one
    ("first-index", ["corp_dep-1.0-py3-none-any.whl"]),
    # the opt-in: pip's --extra-index-url merge, where the squatter is visible
    ("unsafe-best-match", ["corp_dep-1.0-py3-none-any.whl", "corp_dep-99.0-py3-none-any.whl"]),
])
def test_unowned_names_without_ownership(run, upstreams, strategy, files) -> None:
    r = run(Upstream("corp", upstreams.corp().url, username=CORP_USER, token=Secret(CORP_TOKEN)),
            upstreams.other(), strategy=strategy)
    status, body, _ = r.get("/simple/corp-dep/")
    assert status == 200
    assert re.findall(r">([^<]+)</a>", body.decode()) == files


def test_require_hashes(run, upstreams, tmp_path) -> None:
    r = run(upstreams.corp(), upstreams.other())
    wheels = {"a-pkg": "a_pkg-1.0-py3-none-any.whl", "b-pkg": "b_pkg-1.0-py3-none-any.whl"}
    lines = []
    for name, filename in wheels.items():
        folder = "corp" if name == "a-pkg" else "other"
        packages = Path(upstreams.big).parent.parent / folder
        digest = hashlib.sha256((packages / filename).read_bytes()).hexdigest()
        lines.append(f"{name}==1.0 --hash=sha256:{digest}")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    result = r.pip("install", "--require-hashes", "--no-deps", "--target", str(tmp_path / "t"),
                   "-r", str(requirements))
    assert result.returncode == 0, result.stderr
    assert _installed(tmp_path / "t") == {"a_pkg": "1.0", "b_pkg": "1.0"}


def test_big_wheel_arrives_byte_identical(run, upstreams, tmp_path) -> None:
    r = run(upstreams.corp(), upstreams.other())
    result = r.pip("download", "--no-deps", "-d", str(tmp_path / "d"), "big-pkg")
    assert result.returncode == 0, result.stderr
    got = tmp_path / "d" / upstreams.big.name
    assert got.stat().st_size == upstreams.big.stat().st_size > BIG_MB * 1024 * 1024
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(
        upstreams.big.read_bytes()).digest()


def test_range_and_conditional_requests_pass_through(run, upstreams) -> None:
    r = run(upstreams.corp())
    _, body, _ = r.get("/simple/a-pkg/")
    found = re.search(r'href="([^"#]+)', body.decode())
    assert found is not None
    path = found.group(1)
    status, full, headers = r.get(path)
    assert status == 200 and full[:2] == b"PK"
    status, part, _ = r.get(path, Range="bytes=0-9")
    assert (status, part) == (206, full[:10])
    status, _, _ = r.get(path, **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304


@pytest.mark.parametrize(("token", "what"), [
    (None, "answered 401 Unauthorized"),  # no credential at all
    ("expired-" + "Token_zz99", "answered 403 Forbidden"),  # pypiserver's answer to a wrong one
])
def test_upstream_refusal_is_a_named_problem(run, upstreams, tmp_path, token, what) -> None:
    corp = upstreams.corp()
    corp = Upstream(corp.name, corp.url, corp.owns, CORP_USER, Secret(token) if token else None)
    r = run(corp, upstreams.other())
    result = r.pip("install", "--target", str(tmp_path / "t"), "a-pkg")
    assert result.returncode != 0
    url = f"{upstreams.root}/corp/simple/a-pkg/"
    assert r.index.problems() == [Problem("corp", url, what, "privpip login corp")]
    _no_token_in(r, result.stdout, result.stderr)
    assert "expired-Token_zz99" not in "\n".join(r.log)


def test_unowned_name_fails_closed_when_one_upstream_fails(run, upstreams) -> None:
    r = run(upstreams.corp(token="expired-" + "Token_zz99"), upstreams.other())
    status, body, _ = r.get("/simple/b-pkg/")
    assert status == 502
    assert b"index 'corp' failed, so privpip withheld this page" in body
    failure, withheld = r.index.problems()
    assert (failure.index, failure.what) == ("corp", "answered 403 Forbidden")
    # b-pkg lives on 'other', which answered: the second problem says why it failed anyway.
    assert withheld.index == "corp"
    assert withheld.describe().startswith(
        "index 'corp' could not be asked for 'b-pkg', so its page was withheld although "
        "'other' has it")
    assert withheld.hint.endswith("--skip-index corp")


def test_unreachable_and_silent_upstreams_are_named_problems(run) -> None:
    dead = Upstream("dead", f"http://127.0.0.1:{free_port()}/simple/")
    with socket.socket() as silent_socket:
        silent_socket.bind(("127.0.0.1", 0))
        silent_socket.listen(8)  # accepts (the kernel does), never answers
        silent = Upstream("slow", f"http://127.0.0.1:{silent_socket.getsockname()[1]}/simple/",
                          owns=("slow-*",))
        r = run(dead, silent, timeout=1.0)
        assert r.get("/simple/requests/")[0] == 502
        started = time.monotonic()
        assert r.get("/simple/slow-pkg/")[0] == 502
        assert time.monotonic() - started < 10
    problems = {p.index: p for p in r.index.problems()}
    assert problems["dead"].what.startswith("cannot be reached (")
    assert problems["dead"].hint == "check the index URL and the network"
    assert problems["slow"].what == "did not answer within 1 s"


def test_not_found_and_root_listing(run, upstreams) -> None:
    r = run(upstreams.corp(), upstreams.other())
    assert r.get("/simple/no-such-project/")[0] == 404
    assert r.get("/simple/")[0] == 404
    assert r.get("/files/corp/0123/x.whl")[0] == 404
    assert r.get("/simple/a-pkg")[0] == 200  # redirected to the slash form by urllib
    assert r.index.problems() == []


def test_uv_concurrent_downloads(run, upstreams, tmp_path) -> None:
    r = run(upstreams.corp(), upstreams.other())
    result = r.uv("install", "--target", str(tmp_path / "t"), "many-all")
    assert result.returncode == 0, result.stderr
    assert len(_installed(tmp_path / "t")) == 21


def test_requests_without_the_run_credential_get_401(run, upstreams) -> None:
    r = run(upstreams.corp())
    status, body, headers = r.get("/simple/a-pkg/", auth=False)
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="privpip"'
    wrong = base64.b64encode(f"{r.index.username}:nope".encode()).decode()
    assert r.get("/simple/a-pkg/", auth=False, Authorization=f"Basic {wrong}")[0] == 401
    assert r.index.url == f"http://127.0.0.1:{r.index.port}/simple/"
    assert "@" not in r.index.url


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A loopback upstream: a page with one file whose download redirects to ``location``."""

    seen: list[tuple[str, str | None]]
    location = ""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/simple/"):
            body = b'<a href="/dl/red-1.0.tar.gz#sha256=00">red-1.0.tar.gz</a>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        elif self.path.startswith("/dl/"):
            self.send_response(302)
            self.send_header("Location", self.location)
            body = b""
        else:
            body = b"the file"
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(handler: type) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("same_origin", [False, True])
def test_redirect_to_another_origin_gets_no_credential(run, same_origin) -> None:
    upstream_seen: list[tuple[str, str | None]] = []
    storage_seen: list[tuple[str, str | None]] = []
    storage = _serve(type("Storage", (_Recorder,), {"seen": storage_seen}))
    origin = _serve(type("Origin", (_Recorder,), {"seen": upstream_seen}))
    try:
        storage_port, origin_port = storage.server_address[1], origin.server_address[1]
        origin.RequestHandlerClass.location = (  # type: ignore[attr-defined]
            f"http://127.0.0.1:{origin_port}/blob/red" if same_origin
            else f"http://localhost:{storage_port}/blob/red?X-Signature=s3cr3t-sig")
        token = "redirect-" + "Token_77"
        r = run(Upstream("red", f"http://127.0.0.1:{origin_port}/simple/", username="u",
                         token=Secret(token)))
        _, body, _ = r.get("/simple/red/")
        found = re.search(r'href="([^"#]+)', body.decode())
        assert found is not None
        path = found.group(1)
        status, data, _ = r.get(path)
        assert (status, data) == (200, b"the file")
        expected = "Basic " + base64.b64encode(f"u:{token}".encode()).decode()
        assert [auth for _, auth in upstream_seen] == [expected] * len(upstream_seen)
        if same_origin:
            assert storage_seen == [] and upstream_seen[-1][0] == "/blob/red"
        else:
            assert storage_seen == [("/blob/red?X-Signature=s3cr3t-sig", None)]
            assert "s3cr3t-sig" not in "\n".join(r.log)
    finally:
        storage.shutdown()
        origin.shutdown()


def test_log_lines_never_carry_tokens(run, upstreams) -> None:
    r = run(upstreams.corp(), upstreams.other())
    r.get("/simple/a-pkg/")
    r.get("/simple/b-pkg/")
    assert any("/simple/a-pkg/" in line for line in r.log)
    _no_token_in(r)


class _Pep708Page(http.server.BaseHTTPRequestHandler):
    """A loopback upstream whose page for every name declares ``tracks``, as a mirror would."""

    tracks = ""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        meta = f'<meta name="pypi:tracks" content="{self.tracks}">' if self.tracks else ""
        body = (f"<html><head>{meta}</head><body>"
                f'<a href="/f/dup-{self.server.server_address[1]}.tar.gz#sha256=00">x</a>'  # type: ignore[index]
                "</body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_pep708_metadata_that_does_not_allow_merging_refuses_the_name(run) -> None:
    """With the merge opted into (unsafe-best-match); first-index never merges."""
    plain = _serve(_Pep708Page)
    mirror = _serve(type("Mirror", (_Pep708Page,), {"tracks": "https://elsewhere.example/simple/dup/"}))
    try:
        r = run(Upstream("mirror", f"http://127.0.0.1:{mirror.server_address[1]}/simple/"),
                Upstream("plain", f"http://127.0.0.1:{plain.server_address[1]}/simple/"),
                strategy="unsafe-best-match")
        assert r.get("/simple/dup/")[0] == 409
        (problem,) = r.index.problems()
        assert problem.index == "mirror, plain" and "PEP 708" in problem.what
        assert problem.hint == ("declare 'dup' in the packages of the index it belongs to "
                                "(packages = [...] in its [[index]] table)")
        first = run(Upstream("mirror", f"http://127.0.0.1:{mirror.server_address[1]}/simple/"),
                    Upstream("plain", f"http://127.0.0.1:{plain.server_address[1]}/simple/"))
        status, body, _ = first.get("/simple/dup/")
        assert status == 200 and body.count(b"<a ") == 1  # the first index's page only
        # Owned, the same name is simply the owner's.
        owned = run(Upstream("mirror", f"http://127.0.0.1:{mirror.server_address[1]}/simple/"),
                    Upstream("plain", f"http://127.0.0.1:{plain.server_address[1]}/simple/",
                             owns=("dup",)))
        status, body, _ = owned.get("/simple/dup/")
        assert status == 200 and body.count(b"<a ") == 1
    finally:
        plain.shutdown()
        mirror.shutdown()
