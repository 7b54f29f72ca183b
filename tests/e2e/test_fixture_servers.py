"""The fixture servers (tests.helpers.start_server) end with the pytest that started them,
also when it is interrupted or killed, and a Ctrl-C at its terminal reaches pytest alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import TESTS

INNER = '''
import os, sys, time
from tests.helpers import free_port, start_server

def test_holds_a_server():
    port = free_port()
    server = start_server([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                           str(port)], f"http://127.0.0.1:{port}/")
    assert os.getpgid(server.pid) == server.pid  # its own process group
    with open(os.environ["SERVER_PID"], "w") as out:
        out.write(str(server.pid))
    time.sleep(120)
'''


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _wait(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.e2e
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_the_server_ends_with_an_interrupted_or_killed_pytest(signum, tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    pid_file = tmp_path / "server.pid"
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "SERVER_PID": str(pid_file)}
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
         str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert _wait(lambda: pid_file.exists() and pid_file.read_text()), "no server started"
        server = int(pid_file.read_text())
        assert not _gone(server)
        inner.send_signal(signum)
        inner.communicate(timeout=60)
        assert _wait(lambda: _gone(server), 30), "the server outlived pytest"
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()
