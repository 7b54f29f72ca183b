"""Where the local index listens and whom it answers: the user's own loopback address, kept
across runs (stable URLs, so caches hit), this user's connections only, idle ones closed."""

from __future__ import annotations

import base64
import http.server
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from privpip.errors import PrivpipError
from privpip.localindex import LocalIndex, Upstream, address
from tests.helpers import PLAIN_TOKEN, free_port, privpip, venv_python, write_config

DEAD = Upstream("dead", "http://127.0.0.1:9/simple/")
LOCAL_URL = re.compile(r"local index: (http://[0-9.]+:[0-9]+/simple/)")


def _auth(index: LocalIndex) -> str:
    raw = f"{index.username}:{index.password.reveal()}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_own_address_is_chosen_once_and_kept(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    first = address.own(env)
    assert address.own(env) == first
    host, port = first
    octets = [int(o) for o in host.split(".")]
    assert octets[0] == 127 and octets[1] != 0 and 0 < octets[3] < 255
    assert 20000 <= port < 32768
    kept = tmp_path / "data" / "privpip" / address.FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text() == f"{host}:{port}\n"
    # Someone else's (or a broken) value is not used: a new address is chosen and kept.
    for bad in ("10.0.0.1:25000", "127.0.0.1:80", "127.1.2.3", "garbage", "127.1.2.300:25000"):
        kept.write_text(bad)
        again = address.own(env)
        assert again != ("10.0.0.1", 25000)
        assert address.parse(kept.read_text()) == again
    # Another user (another HOME) gets another address.
    other = address.own({"HOME": str(tmp_path / "b"), "XDG_DATA_HOME": str(tmp_path / "b")})
    assert other != address.own(env)


def test_busy_address_falls_back_only_when_allowed() -> None:
    host, port = "127.31.41.59", free_port()
    with LocalIndex([DEAD], host=host, port=port) as first:
        assert (first.host, first.port) == (host, port)
        assert first.listen_note == ""
        with LocalIndex([DEAD], host=host, port=port, fall_back=True) as second:
            assert second.host == host and second.port != port
            assert "is busy (another privpip run?)" in second.listen_note
        with pytest.raises(PrivpipError, match="cannot open a local port"):
            LocalIndex([DEAD], host=host, port=port).listen()


def _curl_as_nobody(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                           "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", url],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0
                    or not (shutil.which("setpriv") and shutil.which("curl")),
                    reason="needs Linux, root, setpriv and curl to act as a second uid")
def test_another_uid_gets_no_answer(tmp_path: Path) -> None:
    """A second local user cannot use the index, not even with the credential in hand."""
    log: list[str] = []
    with LocalIndex([DEAD], host="127.27.18.28", log=log.append) as index:
        userinfo = f"{index.username}:{index.password.reveal()}"
        url = f"http://{userinfo}@{index.host}:{index.port}/simple/some-name/"
        # This user is answered (502: the upstream is dead, which is the index's answer).
        mine = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url],
                              capture_output=True, text=True, timeout=30)
        assert mine.stdout == "502"
        theirs = _curl_as_nobody(url)
        assert theirs.stdout == "000"  # no HTTP answer at all
        assert theirs.returncode in (52, 56)  # empty reply / connection reset
    assert any("refused a connection from uid 65534" in line for line in log)


def test_idle_connections_are_closed_and_do_not_starve_requests() -> None:
    with LocalIndex([DEAD], host="127.27.18.29", idle_timeout=1.0) as index:
        idle = [socket.create_connection((index.host, index.port)) for _ in range(300)]
        try:
            request = urllib.request.Request(f"http://{index.host}:{index.port}/nothing",
                                             headers={"Authorization": _auth(index)})
            start = time.monotonic()
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
            assert info.value.code == 404
            assert time.monotonic() - start < 5
            idle[0].settimeout(10)
            assert idle[0].recv(1) == b""  # closed by the index after a second of silence
        finally:
            for sock in idle:
                sock.close()


def test_runs_get_the_same_url_and_a_concurrent_run_says_why_not(index_server, make_venv,
                                                                  tmp_path):
    write_config(tmp_path, index_server.config())
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    venv = make_venv()

    def run() -> subprocess.CompletedProcess[str]:
        result = privpip("-v", "install", "--python", venv_python(venv), "--dry-run",
                         "corp-dep", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        return result

    first, second = run(), run()
    url = LOCAL_URL.search(first.stderr)
    assert url is not None
    assert LOCAL_URL.search(second.stderr).group(1) == url.group(1)  # type: ignore[union-attr]
    assert "127.0.0.1" not in url.group(1)
    host, _, port = url.group(1).split("/")[2].partition(":")
    # Another run holds the address: this one still works, on another port, and says so.
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((host, int(port)))
        holder.listen()
        third = run()
    assert f"{host}:{port} is busy (another privpip run?)" in third.stderr
    assert LOCAL_URL.search(third.stderr).group(1) != url.group(1)  # type: ignore[union-attr]


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.headers.get("Authorization") or "")
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_direct_url_at_another_loopback_port_gets_no_credential(index_server, make_venv,
                                                                  tmp_path):
    """pip's netrc is host-scoped: with the credential under 127.0.0.1, a requirement at any
    other port of 127.0.0.1 received it. The index's own address is named instead."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        write_config(tmp_path, index_server.config())
        venv = make_venv()
        wheel = f"http://127.0.0.1:{server.server_port}/evil-1.0-py3-none-any.whl"
        result = privpip("install", "--python", venv_python(venv), f"evil @ {wheel}",
                         cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode != 0
    assert _Recorder.seen, "pip never asked the recording server"
    assert _Recorder.seen == [""] * len(_Recorder.seen), "a credential reached another port"
