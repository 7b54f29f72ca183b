"""Concurrency: parallel installs in one project, and config readers racing a writer.

- Several `privpip install` at once: each gets its own private netrc holding only its own
  credential (netrc delivery) or only its own per-run local-index credential and no upstream
  token (local delivery), they overlap in time (a barrier proves it), all succeed, nothing is
  left over.
- privpip.config.edit.write_atomic (the pattern `index add` will use) against readers in threads
  and in privpip processes: every read is the whole old file or the whole new one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from privpip.config.edit import write_atomic
from privpip.config.schema import parse_text
from privpip.errors import ConfigError
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    TESTS,
    installed,
    write_config,
)

SHIM = f"""#!{sys.executable}
# Stands in for the target interpreter: records the netrc it was given, waits until every
# parallel run has got that far (so their netrc files exist at the same time), then runs pip.
import os, sys, time
marks = os.environ["SHIM_MARKS"]
me = os.environ["SHIM_ID"]
netrc = os.environ["NETRC"]
with open(netrc) as handle:
    content = handle.read()
with open(os.path.join(marks, me + ".tmp"), "w") as handle:
    handle.write(netrc + "\\n" + content)
os.rename(os.path.join(marks, me + ".tmp"), os.path.join(marks, me))
deadline = time.time() + 120
while time.time() < deadline:
    if len([m for m in os.listdir(marks) if not m.endswith(".tmp")]) >= int(os.environ["SHIM_COUNT"]):
        break
    time.sleep(0.05)
real = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python")
os.execv(real, [real] + sys.argv[1:])
"""


@pytest.mark.parametrize("delivery", ["netrc", "local"])
def test_parallel_installs_in_one_project(index_server, make_venv, tmp_path, delivery):
    write_config(tmp_path, index_server.config())
    temp = tmp_path / "tmp"
    marks = tmp_path / "marks"
    temp.mkdir()
    marks.mkdir()
    runs = [("__token__", PLAIN_TOKEN, "corp-app"), (HOSTILE_USER, HOSTILE_TOKEN, "corp-app"),
            ("__token__", PLAIN_TOKEN, "corp-dep"), (HOSTILE_USER, HOSTILE_TOKEN, "corp-dep")]
    procs = []
    venvs = []
    for n, (user, token, package) in enumerate(runs):
        venv = make_venv()
        venvs.append(venv)
        shim = venv / "bin" / "shim-python"
        shim.write_text(SHIM)
        shim.chmod(0o755)
        env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
               "PRIVPIP_INDEX_CORP_TOKEN": token, "PRIVPIP_INDEX_CORP_USERNAME": user,
               "SHIM_MARKS": str(marks), "SHIM_ID": str(n), "SHIM_COUNT": str(len(runs))}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "privpip", "--no-input", "install", "--delivery", delivery,
             "--python", str(shim), package], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err

    netrcs = {}
    logins = set()
    for n, (user, token, _package) in enumerate(runs):
        path, _, content = (marks / str(n)).read_text().partition("\n")
        netrcs[path] = n
        if delivery == "local":
            # Only the run's own credential for its local index; no upstream user or token.
            assert content.startswith("machine 127."), content  # the user's own address
            assert "\n\tlogin privpip-" in content, content
            assert content.count("machine") == 1
            assert "__token__" not in content and HOSTILE_USER not in content
            assert PLAIN_TOKEN not in content and HOSTILE_TOKEN not in content
            logins.add(content.split()[3])
            continue
        assert user in content and (token in content or f'"{token}"' in content
                                    or token.replace("\\", "\\\\").replace('"', '\\"') in content)
        other_user, other_token = (HOSTILE_USER, HOSTILE_TOKEN) if user == "__token__" else (
            "__token__", PLAIN_TOKEN)
        assert other_user not in content and other_token not in content, "credentials crossed"
    assert len(netrcs) == len(runs), "two runs shared a netrc file"
    assert delivery == "netrc" or len(logins) == len(runs), "two runs shared a local credential"
    for venv, (_u, _t, package) in zip(venvs, runs):
        module = package.replace("-", "_")
        assert installed(venv, module) == f"{package} 1.0"
    assert list(temp.iterdir()) == []


A = '[[index]]\nname = "corp"\nurl = "https://pkgs.example.com/simple/"\ndefault = true\n'
B = "".join(f'[[index]]\nname = "idx{n}"\nurl = "https://h{n}.example.com/simple/"\n'
            f'username = "{"u" * 200}"\n' for n in range(40))


def test_readers_never_see_a_torn_config(tmp_path):
    path = tmp_path / "privpip.toml"
    write_atomic(path, A)
    path.chmod(0o640)
    expected = [parse_text(A, "x").indexes, parse_text(B, "x").indexes]
    stop = threading.Event()
    bad: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                got = parse_text(path.read_text(encoding="utf-8"), "x").indexes
            except ConfigError as exc:
                bad.append(exc.message)
                continue
            reads[0] += 1
            if got not in expected:
                bad.append(f"unexpected config with {len(got)} indexes")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for n in range(300):
            write_atomic(path, B if n % 2 == 0 else A)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert bad == []
    assert reads[0] > 50
    assert [p.name for p in tmp_path.iterdir()] == ["privpip.toml"]  # no temporary file left
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # permissions kept
    assert path.read_text() == A


def test_control_a_plain_rewrite_is_seen_torn(tmp_path):
    """What the atomic write prevents, made deterministic: a reader in the middle of a write."""
    path = tmp_path / "privpip.toml"
    path.write_text(B)
    with path.open("w") as handle:  # truncates, as write_text does
        handle.write(A[: len(A) // 2])
        handle.flush()
        with pytest.raises(ConfigError):
            parse_text(path.read_text(), "x").indexes


def test_write_atomic_cleans_up_and_follows_symlinks(tmp_path, monkeypatch):
    real = tmp_path / "real.toml"
    real.write_text(A)
    link = tmp_path / "privpip.toml"
    link.symlink_to(real)
    write_atomic(link, B)
    assert link.is_symlink() and real.read_text() == B

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(link, A)
    assert real.read_text() == B
    assert sorted(p.name for p in tmp_path.iterdir()) == ["privpip.toml", "real.toml"]


def test_privpip_processes_reading_while_a_writer_writes(tmp_path):
    path = tmp_path / "privpip.toml"
    write_atomic(path, A)
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            write_atomic(path, B if n % 2 == 0 else A)
            n += 1
            time.sleep(0.001)

    thread = threading.Thread(target=writer)
    thread.start()
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    # The file's content changes all the time, so no trust record can match it: exported
    # tokens reach a project file's URLs with PRIVPIP_TRUST=1 (issue 19).
    env.update({"PRIVPIP_INDEX_CORP_TOKEN": "t0ken-a", "PRIVPIP_TRUST": "1"})
    env.update({f"PRIVPIP_INDEX_IDX{n}_TOKEN": f"t0ken-{n}" for n in range(40)})
    try:
        seen = set()
        for _ in range(8):
            result = subprocess.run(
                [sys.executable, "-m", "privpip", "--no-input", "env", "--shell", "bash"],
                cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            assert result.returncode == 0, result.stderr
            count = result.stdout.count("_PASSWORD=")
            assert count in (1, 40), result.stdout
            seen.add(count)
    finally:
        stop.set()
        thread.join()
    assert Path(path).read_text() in (A, B)
