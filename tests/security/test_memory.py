"""Issue 19, finding 7: a process of the same user (a build backend, a `privpip run` child)
read the token from privpip's memory (/proc/PID/mem) and an exported one from its environment
(/proc/PID/environ). privpip now makes itself not dumpable (launch.keep_memory_private).

root may read any process, so these tests run privpip and its child as another uid
(`setpriv`), which needs root to switch to; elsewhere they are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import TESTS

NOBODY = 65534
# This venv's interpreter may live where uid 65534 cannot go (a 0700 home): the system's
# interpreter of the same version runs privpip with this venv's packages on its path.
PYTHON = f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux" or not hasattr(os, "geteuid")
                       or os.geteuid() != 0 or shutil.which("setpriv") is None
                       or not os.access(PYTHON, os.X_OK),
                       reason="needs Linux, root and setpriv to run privpip as another uid"),
]
TOKEN = "mem-canary-Zq8vW3xR7tY2"
# Read the parent's environ and a few pages of its heap: what a build backend could do.
READER = r"""
import json, os, sys
pid = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
token = os.environ.get("READER_LOOKS_FOR", "")
out = {}
try:
    out["environ"] = token in open(f"/proc/{pid}/environ", "rb").read().decode("latin-1")
except OSError as exc:
    out["environ"] = type(exc).__name__
try:
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        for line in maps:
            addresses, perms = line.split()[:2]
            if not perms.startswith("r") or ("[heap]" not in line and line.count(" ") > 25):
                continue
            start, end = (int(a, 16) for a in addresses.split("-"))
            try:
                mem.seek(start)
                found = found or token.encode() in mem.read(min(end - start, 64 << 20))
            except OSError:
                continue
    out["mem"] = found
except OSError as exc:
    out["mem"] = type(exc).__name__
print("READER " + json.dumps(out))
"""


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A directory of uid 65534 (pytest's own tmp_path is root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="privpip-mem-"))
    os.chown(path, NOBODY, NOBODY)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def as_nobody(argv: list[str], work: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "XDG_CONFIG_HOME": str(work / "c"),
           "XDG_DATA_HOME": str(work / "d"), "XDG_CACHE_HOME": str(work / "k"),
           "PIP_CONFIG_FILE": os.devnull, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), sysconfig.get_paths()["purelib"]]),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": "1",
           "READER_LOOKS_FOR": TOKEN, **extra}
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                           "--clear-groups", *argv], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def reader_result(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    lines = [line for line in result.stdout.splitlines() if line.startswith("READER ")]
    assert lines, result.stdout + result.stderr
    return dict(json.loads(lines[-1].split(" ", 1)[1]))


def test_a_child_of_the_same_user_cannot_read_privpips_memory_or_environment(nobody_dir):
    config = nobody_dir / "config.toml"
    config.write_text('[[index]]\nname = "corp"\nurl = "http://127.0.0.1:9/simple/"\n'
                      "default = true\n")
    os.chown(config, NOBODY, NOBODY)
    env = {"PRIVPIP_USER_CONFIG": str(config), "PRIVPIP_INDEX_CORP_TOKEN": TOKEN}

    # Control: a plain Python parent of the same uid holding the token in its environment
    # and memory is readable by its child, so the reader really reads.
    plain = as_nobody([PYTHON, "-c",
                       "import os, subprocess, sys; t = os.environ['PRIVPIP_INDEX_CORP_TOKEN']"
                       " * 2; subprocess.run([sys.executable, '-c', sys.argv[1]])", READER],
                      nobody_dir, env)
    assert reader_result(plain) == {"environ": True, "mem": True}, plain.stderr

    result = as_nobody([PYTHON, "-m", "privpip", "run", "--", PYTHON, "-c",
                        READER], nobody_dir, env)
    assert result.returncode == 0, result.stderr
    assert reader_result(result) == {"environ": "PermissionError", "mem": "PermissionError"}
    assert TOKEN not in result.stdout + result.stderr
