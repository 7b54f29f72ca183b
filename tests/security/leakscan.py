"""The leak scanner: a canary token, every form it can take, and the channels searched for it.

A *scenario* is one privpip run: a name, privpip's argv, environment additions, a setup
callable, the expected exit status and the channels that may (or must) hold the token.
Adding a command to the suite is a few lines in tests/security/test_canary.py.

Channels (the summary line counts them): ``stdout`` and ``stderr`` of privpip and of every
process it starts (they inherit both), ``argv`` of every execve under ``strace -f``,
``files`` written under the scenario's HOME / XDG dirs / working directory / TMPDIR /
XDG_RUNTIME_DIR / pip cache, and ``pip-artifacts`` (``pip freeze``, ``pip config list``,
``pip install --report`` files and every file pip wrote into the target environment, such
as ``direct_url.json`` and ``RECORD``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

TESTS = Path(__file__).resolve().parent.parent
CHECKOUT = TESTS.parent
CHANNELS = ("stdout", "stderr", "argv", "files", "pip-artifacts")

# ---------------------------------------------------------------------------
# the canary

RUN_ID = secrets.token_hex(8)
# Every character that has broken a URL, a netrc, a shell or a log: @ : / # ? % ' " $( ) `
# backslash, and a space. The unique run id is searched for on its own too, so that a
# *partial* leak (a token cut at '/' or '#', say) is still found.
CANARY_ASCII = f"cnry{RUN_ID}@:/#?%41'sq'\"dq\"$(touch pwned)`touch pwned2`\\ end"
# pypiserver and requests cannot carry non-ASCII in basic auth (Latin-1 at best), and privpip
# refuses such a token before running pip; the non-ASCII canary is used where that refusal is
# the path under test and for `privpip env`, which prints it.
CANARY_UNICODE = CANARY_ASCII + " caf\u00e9\u20ac\U0001d11e"
CANARY_USER = "canary-user"


def secret_forms(user: str, token: str) -> dict[str, bytes]:
    """Every spelling of ``token`` worth searching for, by name."""
    forms = {
        "raw": token,
        "percent-encoded": quote(token, safe=""),
        "percent-encoded-path": quote(token),
        "json": json.dumps(token)[1:-1],
        "json-ascii": json.dumps(token, ensure_ascii=True)[1:-1],
        "python-repr": repr(token)[1:-1],
        "shell-quoted": shlex.quote(token),
        "netrc-quoted": token.replace("\\", "\\\\").replace('"', '\\"'),
    }
    out = {name: value.encode("utf-8", "surrogateescape") for name, value in forms.items()}
    out["base64-user:token"] = base64.b64encode(f"{user}:{token}".encode())
    out["base64-token"] = base64.b64encode(token.encode())
    out["base64url-token"] = base64.urlsafe_b64encode(token.encode())
    if RUN_ID in token:
        out["unique-core"] = RUN_ID.encode()
    # Distinct forms only, longest first, so that a report names the most specific one.
    unique: dict[bytes, str] = {}
    for name, value in out.items():
        unique.setdefault(value, name)
    return {name: value for value, name in sorted(unique.items(), key=lambda kv: -len(kv[0]))}


_WHITESPACE = re.compile(rb"\s+")


def find_forms(blob: bytes, forms: Mapping[str, bytes]) -> list[str]:
    """The names of the forms in ``blob``; base64 is also looked for across line breaks (MIME)."""
    squeezed = None
    hits = []
    for name, value in forms.items():
        if value in blob:
            hits.append(name)
        elif name.startswith("base64"):
            if squeezed is None:
                squeezed = _WHITESPACE.sub(b"", blob)
            if value in squeezed:
                hits.append(name)
    return hits


# ---------------------------------------------------------------------------
# argv under strace

_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


def strace_prefix(trace: Path) -> list[str]:
    """Trace every execve of a command and its descendants, argv as hex, environment unprinted."""
    return ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=execve", "-s", "65535", "-xx",
            "-o", str(trace)]


def execve_argvs(trace: Path) -> list[list[bytes]]:
    """Every argv of every execve in an `strace -f -xx` log (the environment is not printed)."""
    argvs = []
    for line in trace.read_text().splitlines():
        if "execve(" not in line or "[" not in line:
            continue
        inner = line[line.index("[") + 1 : line.index("]", line.index("["))]
        argvs.append([bytes.fromhex(s.replace("\\x", "")) for s in _STRING.findall(inner)])
    return argvs


# ---------------------------------------------------------------------------
# scenarios


@dataclass
class Ctx:
    """Everything a scenario's setup and checks can use. ``root`` is scanned after the run."""

    root: Path
    venv: Path
    token: str
    user: str
    index_url: str  # the canary pypiserver's simple index (users: CANARY_USER / canary tokens)
    base_env: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)  # setup may add variables here
    ready: threading.Event | None = None  # set it when the scenario's signal may be sent
    planted: set[Path] = field(default_factory=set)  # files setup wrote on purpose
    secret_stores: set[Path] = field(default_factory=set)  # keyring / opt-in credential files
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # pytest's request.getfixturevalue: a setup asks for a session fixture only when it needs it
    fixture: Callable[[str], Any] = lambda name: None

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cwd(self) -> Path:
        return self.root / "project"

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def fields(self) -> dict[str, str]:
        return {"token": self.token, "user": self.user, "python": self.python,
                "cwd": str(self.cwd), "index_url": self.index_url, "root": str(self.root)}

    def write_config(self, url: str | None = None, username: str | None = None,
                     extra: str = "", name: str = "corp", top: str = "",
                     default: bool = True) -> Path:
        """privpip.toml with one index; ``top`` goes before it (top-level keys), ``extra``
        after it (more keys of that index, or more tables)."""
        username = self.user if username is None else username
        text = (f'{top}[[index]]\nname = "{name}"\nurl = "{url or self.index_url}"\n'
                f'default = {"true" if default else "false"}\nusername = "{username}"\n{extra}')
        path = self.cwd / "privpip.toml"
        path.write_text(text, encoding="utf-8")
        # The user's own file, trusted as `privpip init` trusts it: exported tokens reach its
        # URLs (issue 19). The record (path and SHA-256) lands in the scanned HOME.
        from privpip.config import trust
        from privpip.config.schema import token_commands

        env = {**self.base_env, **self.env}
        trust.trust(path, env, token_commands(path, env))
        return path


def default_setup(ctx: Ctx) -> None:
    ctx.write_config()


@dataclass(frozen=True)
class Scenario:
    name: str
    argv: tuple[str, ...]  # privpip's argv; "{python}", "{cwd}", "{token}"... are filled in
    env: Mapping[str, str] = field(default_factory=dict)  # same placeholders
    setup: Callable[[Ctx], None] = default_setup
    expect: int | tuple[int, ...] = 0
    allowed: frozenset[str] = frozenset()  # channels that may hold the token
    required: frozenset[str] = frozenset()  # channels that must hold it (the scan can fail)
    canary: str = "ascii"  # or "unicode"
    stdin: str | None = None
    signal: int | None = None  # sent to privpip once ctx.ready is set
    check: Callable[[Ctx, RunResult], None] | None = None  # further assertions
    pip_artifacts: bool = True  # False when privpip stops before pip runs
    timeout: float = 240
    # What runs with argv: privpip, or another program that reaches privpip (keyring, pip)
    program: tuple[str, ...] = ("-m", "privpip")


@dataclass
class RunResult:
    scenario: str
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float
    argvs: list[list[bytes]]
    leaks: list[str]
    found_in: set[str]


# Filled in by run(); the terminal summary in conftest.py reports it.
RESULTS: list[RunResult] = []


def make_root(base: Path) -> Path:
    root = base / "s"
    for sub in ("home/.config", "home/.local/share", "home/.cache", "home/.local/state",
                "project", "tmp", "run", "pip-cache"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "run").chmod(0o700)
    return root


def scenario_env(root: Path) -> dict[str, str]:
    """The environment of one run: everything inside ``root`` (scanned), pip cache enabled."""
    env = {k: v for k, v in os.environ.items() if k != "PIP_NO_CACHE_DIR"}
    home = root / "home"
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        "TMPDIR": str(root / "tmp"),
        "PIP_CACHE_DIR": str(root / "pip-cache"),
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "20",
        "PYTHONPATH": os.pathsep.join([str(CHECKOUT), str(TESTS / "backends")]),
    })
    return env


def _privpip_pid(tracer: int, deadline: float) -> int:
    """privpip's pid: the child of strace running ``-m privpip`` (strace also forks probes)."""
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{tracer}/task/{tracer}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[1:3] == [b"-m", b"privpip"]:  # not a probe: those are copies of strace
                return int(child)
        time.sleep(0.05)
    raise AssertionError("privpip never started under strace")


def run(scenario: Scenario, ctx: Ctx) -> RunResult:
    """Run one scenario under strace, then search every channel for every form of the token."""
    values = ctx.fields()
    argv = [a.format_map(values) for a in scenario.argv]
    env = {**ctx.base_env, **ctx.env, **{k: v.format_map(values) for k, v in scenario.env.items()}}
    outdir = ctx.root.parent / "out"  # outside the scanned tree
    outdir.mkdir(exist_ok=True)
    trace = outdir / "trace.txt"
    start = time.time()
    with (outdir / "stdout").open("wb") as out, (outdir / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [*strace_prefix(trace), sys.executable, *scenario.program, *argv],
            cwd=ctx.cwd, env=env, stdout=out, stderr=err,
            stdin=subprocess.PIPE if scenario.stdin is not None else subprocess.DEVNULL,
        )
        if scenario.stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(scenario.stdin.format_map(values).encode())
            proc.stdin.close()
        if scenario.signal is not None:
            assert ctx.ready is not None, "a signal scenario's setup must create ctx.ready"
            deadline = time.monotonic() + 120
            pid = _privpip_pid(proc.pid, deadline)
            if not ctx.ready.wait(max(0.0, deadline - time.monotonic())):
                proc.kill()
                raise AssertionError(f"{scenario.name}: the moment to send the signal never came")
            os.kill(pid, scenario.signal)
        try:
            returncode = proc.wait(scenario.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    elapsed = time.time() - start
    stdout = (outdir / "stdout").read_bytes()
    stderr = (outdir / "stderr").read_bytes()
    argvs = execve_argvs(trace)

    forms = secret_forms(ctx.user, ctx.token)
    found: dict[str, list[str]] = {}

    def note(channel: str, where: str, blob: bytes) -> None:
        hits = find_forms(blob, forms)
        if hits:
            found.setdefault(channel, []).append(f"{where} ({', '.join(hits)})")

    note("stdout", "stdout", stdout)
    note("stderr", "stderr", stderr)
    for n, args in enumerate(argvs):
        note("argv", f"execve #{n}: {args[:1]}", b"\0".join(args))
    for path in _files(ctx.root):
        if path in ctx.secret_stores or path in ctx.planted:
            continue
        note("files", str(path.relative_to(ctx.root)), path.read_bytes())
    if scenario.pip_artifacts:
        for where, blob in _pip_artifacts(ctx, env, start):
            note("pip-artifacts", where, blob)

    leaks = [f"{channel}: {where}" for channel, wheres in found.items()
             if channel not in scenario.allowed for where in wheres]
    result = RunResult(scenario.name, returncode, stdout, stderr, elapsed, argvs, leaks,
                       set(found))
    RESULTS.append(result)
    return result


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _pip_artifacts(ctx: Ctx, env: Mapping[str, str], since: float) -> list[tuple[str, bytes]]:
    """What pip keeps after the run: freeze, config, and every file it wrote into the venv."""
    out = []
    python = ctx.python
    plain = {k: v for k, v in env.items() if k not in ("NETRC",)}
    freeze = subprocess.run([python, "-m", "pip", "freeze", "--all"], env=plain,
                            capture_output=True, timeout=60)
    out.append(("pip freeze", freeze.stdout + freeze.stderr))
    # Without PIP_CONFIG_FILE, pip reads the user's pip.conf under HOME: nothing may be there.
    unconfigured = {k: v for k, v in plain.items() if k != "PIP_CONFIG_FILE"}
    config = subprocess.run([python, "-m", "pip", "config", "list"], env=unconfigured,
                            capture_output=True, timeout=60)
    out.append(("pip config list", config.stdout + config.stderr))
    for path in sorted(ctx.venv.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= since - 1:
            out.append((f"venv/{path.relative_to(ctx.venv)}", path.read_bytes()))
    return out


def leftovers(ctx: Ctx) -> list[str]:
    """privpip's private directories still on disk (there must be none)."""
    return [str(p) for d in ("tmp", "run") for p in (ctx.root / d).glob("privpip-*")]


def skip_reason() -> str | None:
    if shutil.which("strace") is None:
        return "strace is not installed"
    return None


def signal_name(status: int) -> str:
    return signal.Signals(-status).name if status < 0 else str(status)
