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
with open(mark + ".tmp", "w") as handle:  # whole when it appears: the tests wait for it
    handle.write(netrc + "\\n" + oct(os.stat(netrc).st_mode & 0o777) + "\\n" + " ".join(sys.argv[1:]))
os.replace(mark + ".tmp", mark)
mode = os.environ["FAKE_MODE"]
if mode.startswith("exit"):
    sys.exit(int(mode[4:]))
if mode == "sleep":
    time.sleep(60)
if mode == "selfkill":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "record":  # which signals arrive, in order; SIGTERM ends it
    got = [signal.getsignal(signal.SIGINT) == signal.SIG_IGN and "INT-ignored" or "INT-default"]
    def note(signum, frame):
        got.append(signal.Signals(signum).name)
        if signum == signal.SIGTERM:
            with open(mark + ".signals", "w") as handle:
                handle.write(" ".join(got))
            sys.exit(0)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, note)
    open(mark + ".ready", "w").close()
    while True:
        time.sleep(1)
"""

# The signals the tests send, at their default disposition in privpip whatever pytest was
# started with (a background job of a non-interactive shell ignores SIGINT, and its children
# inherit that); the tests of an ignored signal set it themselves.
SENT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dispositions(ignored=()):
    """Popen's preexec_fn: each of SENT at its default, except those in ``ignored``."""

    def preexec():
        for signum in SENT:
            signal.signal(signum, signal.SIG_IGN if signum in ignored else signal.SIG_DFL)

    return preexec


@pytest.fixture
def fake(tmp_path):
    path = tmp_path / "fake-python"
    path.write_text(FAKE)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    temp = tmp_path / "tmp"
    temp.mkdir()
    return path, temp


def start(tmp_path, fake_path, temp, mode, ignored=()):
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "FAKE_MODE": mode, "FAKE_MARK": str(tmp_path / "mark"),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456"}
    return subprocess.Popen(
        [sys.executable, "-m", "privpip", "install", "--python", str(fake_path), "x"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=dispositions(ignored))


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


@pytest.mark.parametrize("ignored", [(), (signal.SIGINT,)])
def test_a_signal_ignored_on_entry_is_neither_passed_on_nor_reset(ignored, fake, tmp_path):
    """Started with SIGINT ignored (a background job of a non-interactive shell), privpip
    does not pass a SIGINT on and its child inherits it ignored; otherwise both arrive."""
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "record", ignored)
    assert wait_for((tmp_path / "mark.ready").exists), proc.communicate(timeout=30)
    proc.send_signal(signal.SIGINT)  # handled before the SIGTERM: the lower number first
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    got = (tmp_path / "mark.signals").read_text()
    assert got == ("INT-ignored SIGTERM" if ignored else "INT-default SIGINT SIGTERM")
    assert leftovers(temp) == []


def test_nohup_sighup_leaves_the_run_alone(fake, tmp_path):
    """`nohup privpip install ...`: the terminal's hang-up neither ends privpip (before the
    child runs, the private directory's handlers) nor reaches the child."""
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "record", ignored=(signal.SIGHUP,))
    assert wait_for((tmp_path / "mark.ready").exists), proc.communicate(timeout=30)
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "mark.signals").read_text() == "INT-default SIGTERM"


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


# --- issue 10, finding 4: secrets left behind -------------------------------------------


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_before_the_child_runs_removes_the_netrc(fake, tmp_path):
    """The private netrc exists while privpip probes `git --version`: a SIGTERM then must not
    leave it behind (before the fix the handlers came only with the child)."""
    fake_path, temp = fake
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    probe = tmp_path / "git-started"
    git = bin_dir / "git"
    git.write_text(f"#!{sys.executable}\nimport time\nopen({str(probe)!r}, 'w').close()\n"
                   "time.sleep(60)\n")
    git.chmod(0o755)
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n'
                           '[[git]]\nhost = "h.example"\n')
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "FAKE_MODE": "exit0", "FAKE_MARK": str(tmp_path / "mark"),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "privpip", "install", "--python", str(fake_path),
         "git+https://h.example/group/dep.git"], cwd=tmp_path, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=dispositions())
    assert wait_for(probe.exists), proc.communicate(timeout=30)
    assert any(p.name.startswith(f"privpip-{proc.pid}-") for p in temp.iterdir())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM, err
    assert leftovers(temp) == []
    assert not (tmp_path / "mark").exists()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status  # a zombie waiting for a reaper has ended


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_sigkill_of_privpip_ends_the_child_and_the_next_run_removes_the_netrc(fake, tmp_path):
    fake_path, temp = fake
    proc = start(tmp_path, fake_path, temp, "sleep")
    assert wait_for(lambda: (tmp_path / "mark").exists())
    (child,) = _children(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert wait_for(lambda: _gone(child), 10), "the child outlived privpip"
    left = leftovers(temp)
    assert len(left) == 1 and left[0].startswith(f"privpip-{proc.pid}-")  # SIGKILL: no clean-up
    (tmp_path / "mark").unlink()
    again = start(tmp_path, fake_path, temp, "exit0")
    again.communicate(timeout=60)
    assert again.returncode == 0
    assert leftovers(temp) == []  # the stale directory of the dead pid went too


def test_remove_stale_keeps_live_foreign_and_odd_entries(tmp_path):
    from privpip.run import runner

    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    live = os.getppid()
    (tmp_path / f"privpip-{dead.pid}-abc").mkdir()
    (tmp_path / f"privpip-{dead.pid}-abc" / "netrc").write_text("machine h password x\n")
    (tmp_path / f"privpip-{live}-abc").mkdir()
    (tmp_path / "privpip-oldstyle").mkdir()
    target = tmp_path / "keep"
    target.mkdir()
    (tmp_path / f"privpip-{dead.pid}-link").symlink_to(target)
    removed = runner.remove_stale(tmp_path)
    assert [p.name for p in removed] == [f"privpip-{dead.pid}-abc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["keep", f"privpip-{live}-abc", "privpip-oldstyle", f"privpip-{dead.pid}-link"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux's")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_privpip_told_to_end_leaves_no_grandchildren(fake, tmp_path, signum):
    """Issue 19: `privpip run -- sh -c 'a & b'` sent SIGTERM (or SIGHUP): the shell dies of
    it, and what it started (a background job and the command it waited for) ends too,
    instead of running on under init. privpip still dies of the signal it got."""
    _fake_path, temp = fake
    script = ("sleep 300 & echo $! > bg.pid; sleep 301 & echo $! > fg.pid; "
              "touch started; wait")
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "privpip", "run", "--delivery", "netrc", "--", "sh", "-c",
         script], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=dispositions())
    assert wait_for((tmp_path / "started").exists), proc.communicate(timeout=30)
    pids = [int((tmp_path / name).read_text()) for name in ("bg.pid", "fg.pid")]
    try:
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -signum, err
        assert wait_for(lambda: all(_gone(pid) for pid in pids), 10), "a grandchild outlived privpip"
        assert leftovers(temp) == []
    finally:
        _kill_all(pids)


def _kill_all(pids) -> None:
    """A test's clean-up: SIGKILL to what it started, whatever has ended already."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _below(pid: int) -> set[int]:
    """Every live process below ``pid``, read from /proc's children lists (all threads)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
            for kid in kids:
                if kid not in found and not _gone(kid):
                    found.add(kid)
                    frontier.append(kid)
    return found


def _run(tmp_path: Path, temp: Path, script: str) -> subprocess.Popen[bytes]:
    """`privpip run -- sh -c SCRIPT`, its output in tmp_path/out (a pipe would stay open as
    long as anything COMMAND started runs)."""
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456"}
    with open(tmp_path / "out", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "privpip", "run", "--delivery", "netrc", "--", "sh", "-c",
             script], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, preexec_fn=dispositions())


# Each script is killed once `sleeps` sleep processes run below privpip: grandchildren that
# would outlive a killed privpip.
KILLED_WHILE = {
    # a background job the shell waits for
    "background": ("sleep 300 & wait", 1),
    # the shell's foreground command
    "foreground": ("sleep 300; :", 1),
    # a grandchild that ignores SIGTERM: SIGKILL after the grace period
    "ignores-term": ("(trap '' TERM; exec sleep 300) & wait", 1),
    # a grandchild whose own parent (a subshell) has exited already: an orphan by then
    "orphan": ("(sleep 300 &) ; sleep 301", 2),
}


def _sleeps_below(pid: int) -> int:
    found = 0
    for below in _below(pid):
        try:
            found += Path(f"/proc/{below}/cmdline").read_bytes().startswith(b"sleep\0")
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux's")
@pytest.mark.parametrize("case", sorted(KILLED_WHILE))
def test_sigkill_of_privpip_run_leaves_no_grandchildren(fake, tmp_path, case):
    """Issue 19: `privpip run -- sh -c '...'` and privpip killed by SIGKILL (nothing runs in
    privpip then): what COMMAND started ends too, within a few seconds, instead of running
    on under init. Fails on the code without the watcher (COMMAND died of PR_SET_PDEATHSIG,
    its children did not)."""
    _fake_path, temp = fake
    script, sleeps = KILLED_WHILE[case]
    proc = _run(tmp_path, temp, script)
    pids: set[int] = set()
    try:
        assert wait_for(lambda: _sleeps_below(proc.pid) == sleeps), (tmp_path / "out").read_text()
        pids = _below(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
        assert wait_for(lambda: all(_gone(pid) for pid in pids), 10), (
            "outlived privpip: " + ", ".join(
                f"{pid} {Path(f'/proc/{pid}/cmdline').read_bytes()!r}"
                for pid in pids if not _gone(pid)))
    finally:
        _kill_all(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the watcher is Linux's")
def test_a_killed_watcher_takes_command_with_it(fake, tmp_path):
    """The watcher killed alone (SIGKILL): COMMAND dies with it (PR_SET_PDEATHSIG), as it
    died with privpip before; privpip reports a COMMAND killed by SIGKILL and cleans up."""
    _fake_path, temp = fake
    proc = _run(tmp_path, temp, "sleep 300")
    assert wait_for(lambda: _sleeps_below(proc.pid) == 1), (tmp_path / "out").read_text()
    pids = _below(proc.pid)
    try:
        (watcher,) = _children(proc.pid)
        (command,) = _children(watcher)  # on the code before the watcher: none
        os.kill(watcher, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert wait_for(lambda: _gone(command), 10)
        assert leftovers(temp) == []
    finally:
        _kill_all([*pids, proc.pid])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux's")
def test_after_a_normal_end_background_jobs_are_left_alone(fake, tmp_path):
    """As before the watcher: COMMAND exits 0 and its background job keeps running (it has
    no credential any more: the netrc is gone)."""
    _fake_path, temp = fake
    proc = _run(tmp_path, temp, "sleep 300 & echo $! > bg.pid")
    proc.wait(timeout=30)
    pid = int((tmp_path / "bg.pid").read_text())
    try:
        assert proc.returncode == 0, (tmp_path / "out").read_text()
        time.sleep(0.5)
        assert not _gone(pid)
        assert leftovers(temp) == []
    finally:
        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the watcher is Linux's")
def test_run_passes_on_what_privpip_is_sent_and_keeps_ignored_signals(fake, tmp_path):
    """Through the watcher: a SIGINT privpip passes on (not from a terminal) reaches COMMAND
    once, then SIGTERM; started with SIGHUP ignored (nohup), COMMAND has it ignored and
    privpip passes none on; exit status 0 as COMMAND's."""
    fake_path, temp = fake
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456",
           "FAKE_MODE": "record", "FAKE_MARK": str(tmp_path / "mark")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "privpip", "run", "--delivery", "netrc", "--", str(fake_path)],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=dispositions(ignored=(signal.SIGHUP,)))
    assert wait_for((tmp_path / "mark.ready").exists), proc.communicate(timeout=30)
    assert len(_below(proc.pid)) == 2  # the watcher and COMMAND
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGINT)  # handled before the SIGTERM: the lower number first
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "mark.signals").read_text() == "INT-default SIGINT SIGTERM"
    assert leftovers(temp) == []


def _in_terminal(tmp_path: Path, temp: Path, script: str) -> tuple[int, int]:
    """`privpip run -- sh -c SCRIPT` as the foreground job of a new terminal (pty.fork:
    its own session, the pty its controlling terminal): (pid, the terminal's fd)."""
    import pty

    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "TMPDIR": str(temp),
           "PRIVPIP_INDEX_CORP_TOKEN": "tok-123456"}
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child execs at once
        os.chdir(tmp_path)
        dispositions()()  # as a login shell leaves them (the suite may run with SIGINT ignored)
        os.execve(sys.executable, [sys.executable, "-m", "privpip", "run", "--delivery",
                                   "netrc", "--", "sh", "-c", script], env)
    return pid, fd


def _read_until(fd: int, text: bytes, timeout: float = 30.0) -> bytes:
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux pty")
def test_child_reads_the_terminal_and_ctrl_c_ends_the_run(fake, tmp_path):
    """With privpip as the children's subreaper, COMMAND is still in the terminal's
    foreground group: it reads what is typed, and a Ctrl-C ends it and privpip alike."""
    _fake_path, temp = fake
    pid, fd = _in_terminal(tmp_path, temp, "read x; echo got:$x; sleep 300")
    try:
        time.sleep(0.5)  # privpip starts sh, which waits on the terminal
        os.write(fd, b"typed\n")
        seen = _read_until(fd, b"got:typed")
        assert b"got:typed" in seen, seen
        time.sleep(0.5)  # sh now waits for sleep
        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it to its foreground group
        done, status, deadline = 0, 0, time.monotonic() + 30
        while done != pid and time.monotonic() < deadline:
            seen += _read_until(fd, b"never", timeout=0.2)
            done, status = os.waitpid(pid, os.WNOHANG)
        assert done == pid, seen
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT
        assert leftovers(temp) == []
    finally:
        os.close(fd)
        _kill_all([pid])
