"""Exit status, signals and clean-up, with a stand-in interpreter that behaves like pip would."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import TESTS, write_config

FAKE = f"""#!{sys.executable}
import os, signal, sys, time
mark = os.environ["FAKE_MARK"]
netrc = os.environ.get("NETRC", "")
with open(mark, "w") as handle:
    handle.write(netrc + "\\n" + oct(os.stat(netrc).st_mode & 0o777) + "\\n" + " ".join(sys.argv[1:]))
mode = os.environ["FAKE_MODE"]
if mode.startswith("exit"):
    sys.exit(int(mode[4:]))
if mode == "sleep":
    time.sleep(60)
if mode == "selfkill":
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def fake(tmp_path):
    path = tmp_path / "fake-python"
    path.write_text(FAKE)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    temp = tmp_path / "tmp"
    temp.mkdir()
    return path, temp


def start(tmp_path, fake_path, temp, mode):
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "FAKE_MODE": mode, "FAKE_MARK": str(tmp_path / "mark"),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456"}
    return subprocess.Popen(
        [sys.executable, "-m", "privpip", "install", "--python", str(fake_path), "x"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)


def leftovers(temp: Path) -> list[str]:
    return [p.name for p in temp.iterdir()]


@pytest.mark.parametrize("code", [0, 1, 2, 23])
def test_exit_status_passes_through_and_temp_is_gone(code, fake, tmp_path):
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, f"exit{code}")
    proc.communicate(timeout=60)
    assert proc.returncode == code
    netrc, mode, argv = (tmp_path / "mark").read_text().splitlines()
    assert Path(netrc).parent.parent == temp and mode == "0o600"
    assert argv == "-m pip install x"
    assert leftovers(temp) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_reaches_the_child_and_privpip_dies_the_same_way(signum, fake, tmp_path):
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "sleep")
    deadline = time.monotonic() + 30
    while not (tmp_path / "mark").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "mark").exists(), proc.stderr.read() if proc.poll() is not None else ""
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signum, err
    assert leftovers(temp) == []


def test_child_killed_by_sigkill(fake, tmp_path):
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "selfkill")
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(temp) == []


def test_netrc_dir_is_private(fake, tmp_path):
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "sleep")
    deadline = time.monotonic() + 30
    while not (tmp_path / "mark").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    netrc = Path((tmp_path / "mark").read_text().splitlines()[0])
    assert stat.S_IMODE(netrc.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(netrc.stat().st_mode) == 0o600
    proc.terminate()
    proc.communicate(timeout=30)
    assert not netrc.exists()
