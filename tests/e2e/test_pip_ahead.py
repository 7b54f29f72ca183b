"""pip started ahead (privpip/run/pip_ahead.py, pip_ahead_child.py): the hand-over, its checks,
its fallbacks, and a real install that went through it.

Most tests give the child a stand-in `pip` package (first on PYTHONPATH) whose command line
module records, at import and when run, what a real pip would see: its command line, its
environment, sys.path, its open descriptors. The last ones run the real pip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from privpip.run.pip_ahead import PipAhead, _runs_the_child
from tests.helpers import PLAIN_TOKEN, installed, privpip, python_for, venv_python, write_config

STAND_IN_MAIN = '''
import json, os, sys
AT_IMPORT = dict(os.environ)
open(os.environ["RECORD"] + ".imported", "w").close()  # the child is past its set-up


def descriptors():
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            pass
    return found


def main():
    with open(os.environ["RECORD"], "w") as out:
        json.dump({
            "cmdline": [a.decode() for a in
                        open("/proc/self/cmdline", "rb").read().split(b"\\0")[:-1]],
            "initial_environ": open("/proc/self/environ", "rb").read().decode("utf-8", "replace"),
            "argv": sys.argv, "env": dict(os.environ), "at_import": AT_IMPORT,
            "path": sys.path, "fds": descriptors(),
            "main_module": sys.modules["__main__"].__file__,
            "sigint": str(__import__("signal").getsignal(2)),
        }, out)
    return 3
'''
STAND_IN_DUNDER_MAIN = '''
import os, sys
if sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)
from pip._internal.cli.main import main as _main
sys.exit(_main())
'''


def stand_in_pip(root: Path) -> Path:
    """A `pip` package with pip's layout for what the child imports and runs."""
    for package in ("pip", "pip/_internal", "pip/_internal/cli"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "pip/_internal/cli/main.py").write_text(textwrap.dedent(STAND_IN_MAIN))
    (root / "pip/__main__.py").write_text(textwrap.dedent(STAND_IN_DUNDER_MAIN))
    return root


@pytest.fixture
def scene(tmp_path):
    """The stand-in pip on PYTHONPATH, a record file, and the environment privpip starts with."""
    stand_in_pip(tmp_path / "site")
    record = tmp_path / "record.json"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "PYTHONPATH": str(tmp_path / "site"), "RECORD": str(record),
           "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "PIP_INDEX_URL": "https://user-set.example/"}
    return record, env


def pip_env(env: dict[str, str]) -> dict[str, str]:
    """What privpip hands pip: its token variable gone, the delivered variables set."""
    child = {k: v for k, v in env.items() if k != "PRIVPIP_INDEX_CORP_TOKEN"}
    child.update(PIP_INDEX_URL="http://privpip:per-run@127.0.0.1:9/simple/",
                 PIP_EXTRA_INDEX_URL=" ", PIP_NO_INPUT="1", NETRC="/nonexistent/netrc",
                 PRIVPIP_CONFIG="/some/privpip.toml")
    return child


def run_ahead(env, argv_env, python=sys.executable):
    ahead = PipAhead.start(python, env)
    assert ahead is not None
    child = ahead.take([python, "-m", "pip", "install", "corp-dep"], argv_env)
    assert child is not None
    return child.wait()


def test_the_waiting_interpreter_runs_pip_as_python_m_pip_would(scene, tmp_path):
    record, env = scene
    final = pip_env(env)
    status = run_ahead(env, final)
    assert status == 3  # pip's status is the child's
    seen = json.loads(record.read_text())
    assert seen["cmdline"][1].endswith("pip_ahead_child.py")  # handed over, not a new process
    assert seen["argv"][1:] == ["install", "corp-dep"]
    assert seen["argv"][0] == seen["main_module"] == str(tmp_path / "site/pip/__main__.py")
    assert seen["env"] == final
    # pip's modules were imported before privpip's variables existed, and the token never
    # reached the interpreter: not at import, not in the kernel's copy of its environment.
    assert "PIP_INDEX_URL" not in seen["at_import"]
    assert PLAIN_TOKEN not in json.dumps(seen["at_import"]) + seen["initial_environ"]
    assert PLAIN_TOKEN not in json.dumps(seen["env"])
    privpip_dir = str(Path(__file__).resolve().parents[2] / "privpip")
    assert privpip_dir not in seen["path"]
    assert seen["path"][0] != os.getcwd()  # put first, then taken off by pip's __main__


def test_a_changed_variable_pip_may_read_on_import_makes_it_a_fresh_python_m_pip(scene, tmp_path):
    record, env = scene
    final = {**pip_env(env), "PYTHONWARNINGS": "ignore"}  # not one privpip delivers
    assert run_ahead(env, final) == 3
    seen = json.loads(record.read_text())
    assert seen["cmdline"][1:] == ["-m", "pip", "install", "corp-dep"]  # execve'd
    assert seen["env"] == final
    assert PLAIN_TOKEN not in seen["initial_environ"]


@pytest.mark.parametrize("ignored", [False, True])
def test_pip_gets_sigint_as_python_m_pip_would(ignored, scene):
    """Python's own Ctrl-C handler, or, when privpip was started with SIGINT ignored (a
    background job), SIGINT still ignored: the child does not reset it."""
    record, env = scene
    before = signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.SIG_DFL)
    try:
        assert run_ahead(env, pip_env(env)) == 3
    finally:
        signal.signal(signal.SIGINT, before)
    seen = json.loads(record.read_text())
    assert seen["sigint"] == (str(signal.SIG_IGN) if ignored else str(signal.default_int_handler))


def test_descriptors_are_those_subprocess_would_leave(scene):
    """Only stdio: not the pipe the command came on, not a descriptor privpip inherited."""
    record, env = scene
    stray = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(stray, True)
    try:
        assert run_ahead(env, pip_env(env)) == 3
    finally:
        os.close(stray)
    fds = json.loads(record.read_text())["fds"]
    beyond_stdio = {target for fd, target in fds.items() if int(fd) > 2}
    # the record file it writes, and the directory it lists: nothing else
    assert {t for t in beyond_stdio if t != str(record) and not t.startswith("/proc/")} == set()


def test_not_handed_over_it_is_killed_before_doing_anything(scene, tmp_path):
    record, env = scene
    ahead = PipAhead.start(sys.executable, env)
    assert ahead is not None
    assert ahead.take(["/other/python", "-m", "pip", "install", "x"], pip_env(env)) is None
    assert ahead.take([sys.executable, "-m", "twine", "upload"], pip_env(env)) is None
    ahead.discard()
    assert ahead.child.returncode == -signal.SIGKILL
    assert not record.exists()
    ahead.discard()  # twice: nothing happens


def test_end_of_file_without_a_command_exits_quietly(scene, tmp_path):
    """privpip gone before the hand-over (here: it exits without one): no pip, no output."""
    record, env = scene
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
              "from privpip.run.pip_ahead import PipAhead\n"
              f"ahead = PipAhead.start(sys.executable, {env!r})\n"
              "print(ahead.child.pid, flush=True)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=60)
    pid = int(result.stdout)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.05)
    assert not _running(pid)
    assert result.stderr == ""
    assert not record.exists()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_before_the_hand_over_ends_it_without_a_traceback(scene, tmp_path, capfd):
    record, env = scene
    ahead = PipAhead.start(sys.executable, env)
    assert ahead is not None
    imported = Path(str(record) + ".imported")
    deadline = time.monotonic() + 60
    while not imported.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert imported.exists()  # its handlers are set: it waits for its command
    os.kill(ahead.child.pid, signal.SIGINT)
    assert ahead.child.wait() == -signal.SIGINT
    assert capfd.readouterr().err == ""
    ahead.discard()


def test_only_interpreters_known_to_run_the_child_are_started(tmp_path):
    assert _runs_the_child(sys.executable)
    fake = tmp_path / "wrapper"
    fake.write_text("#!/bin/sh\necho should not run\n")
    fake.chmod(0o755)
    assert not _runs_the_child(str(fake))
    assert PipAhead.start(str(fake), {}) is None
    venv = tmp_path / "env"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").write_text("")
    for version, runs in (("3.7.9", False), ("3.8.10", True), ("3.13.0", True)):
        (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")
        assert _runs_the_child(str(venv / "bin/python")) is runs, version
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert not _runs_the_child(str(venv / "bin/python"))


@pytest.mark.parametrize("version", ["3.8", "3.13"])
def test_the_child_runs_on_the_oldest_and_newest_targets(version, scene, make_venv):
    base = python_for(version)
    if base is None:
        pytest.skip(f"no Python {version} here")
    record, env = scene
    status = run_ahead(env, pip_env(env), python=venv_python(make_venv(base)))
    assert status == 3
    seen = json.loads(record.read_text())
    assert seen["cmdline"][1].endswith("pip_ahead_child.py")
    assert seen["argv"][1:] == ["install", "corp-dep"]


RECORD_STARTS = """
import json, os
with open(os.environ["STARTS"], "a") as out:
    out.write(json.dumps([a.decode() for a in
                          open("/proc/self/cmdline", "rb").read().split(b"\\0")[:-1]]) + "\\n")
"""


@pytest.mark.parametrize(("delivery", "chosen_by"), [  # uv: no pip to start ahead
    ("local", "--python"), ("netrc", "--python"), ("local", "VIRTUAL_ENV")])
def test_a_real_install_runs_in_the_interpreter_started_ahead(delivery, chosen_by, index_server,
                                                              make_venv, tmp_path):
    """Every Python process of the run records its command line (sitecustomize): pip ran in
    the child, and no second interpreter was started for it. This holds the speed of
    `privpip install`: a change that makes the hand-over fall back (a new option the guess
    reads wrongly, an argv or environment that differs) fails here instead of only slowing
    every install down."""
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(RECORD_STARTS)
    starts = tmp_path / "starts.jsonl"
    repo = Path(__file__).resolve().parents[2]
    by_python = chosen_by == "--python"
    target = ["--python", venv_python(venv)] if by_python else []
    result = privpip("install", "--delivery", delivery, *target, "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN,
                          "VIRTUAL_ENV": "" if by_python else str(venv),
                          "PYTHONPATH": f"{hooks}{os.pathsep}{repo}", "STARTS": str(starts)})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    lines = [json.loads(line) for line in starts.read_text().splitlines()]
    pips = [line for line in lines if line[0] == venv_python(venv)]
    assert len(pips) == 1 and pips[0][1].endswith("pip_ahead_child.py"), lines
    assert PLAIN_TOKEN not in result.stdout + result.stderr
