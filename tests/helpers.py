"""Helpers shared by the tests: running privpip, a real pypiserver, venvs, config files, tokens.

Fixtures live in conftest.py; everything a test imports lives here.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

TESTS = Path(__file__).resolve().parent
PLAIN_TOKEN = "plain-Token_123.abc"
# Every character that has broken someone's pip.conf: @ : / # ? % space ' " $( ) \ and more.
HOSTILE_TOKEN = "p@ss:w/rd#frag?q=1%41 'sq' \"dq\" $(touch pwned) `id` \\back;&|<>*~!"
HOSTILE_USER = "deploy-token-7"


def launch_probe(before: str = "", after: str = "") -> str:
    """Source for `python -c SOURCE ARGS` that runs privpip's console entry point on ARGS,
    with ``before`` run first and ``after`` once it returned. main() ends with os._exit,
    which the probe makes a SystemExit so that ``after`` still runs and can report."""
    return (f"import os, sys\nsys.argv = ['privpip', *sys.argv[1:]]\n{before}\n"
            "def exit_here(code):\n    raise SystemExit(code)\nos._exit = exit_here\n"
            "from privpip.launch import main\ntry:\n    main()\nexcept SystemExit:\n"
            f"    pass\n{after}\n")


def privpip(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float = 300, wrapper: list[str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """Run the real privpip in a child process, the way a user does (from this checkout)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(TESTS.parent)
    full_env.update(env or {})
    return subprocess.run(
        [*(wrapper or []), sys.executable, "-m", "privpip", *args], cwd=cwd, env=full_env, input=input,
        capture_output=True, text=True, timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class IndexServer:
    """A running pypiserver with htpasswd authentication on 127.0.0.1."""

    root: str
    packages: Path
    users: dict[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{self.root}/simple/"

    def config(self, name: str = "corp", default: bool = True, extra: str = "") -> str:
        return (f'[[index]]\nname = "{name}"\nurl = "{self.url}"\n'
                f"default = {'true' if default else 'false'}\n{extra}")


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """An htpasswd file for pypiserver's -P: one line per user, passwords hashed by passlib."""
    from passlib.apache import HtpasswdFile

    htpasswd = HtpasswdFile(str(path), new=True)
    for user, password in users.items():
        htpasswd.set_password(user, password)
    htpasswd.save()
    return path


_SERVERS: list[subprocess.Popen[bytes]] = []


def _die_with_pytest() -> None:
    """preexec_fn: SIGTERM when pytest dies, also by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def start_server(argv: list[str], ready: str, output: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A fixture server, returned once ``ready`` (a URL) answers, any HTTP status included.

    It runs in its own process group, so a Ctrl-C at pytest's terminal reaches pytest alone,
    whose fixture teardown then stops it (stop_server); and it is stopped when pytest ends
    however it ends: at exit, or by the kernel when pytest itself is killed."""
    out = output.open("wb") if output is not None else subprocess.DEVNULL
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True, preexec_fn=_die_with_pytest)
    if output is not None:
        out.close()  # type: ignore[union-attr]
    _SERVERS.append(process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stop_server(process)
            log = output.read_text(errors="replace") if output is not None else ""
            raise RuntimeError(f"{argv[1:3]} exited with {process.returncode}: {log}")
        try:
            urllib.request.urlopen(ready, timeout=2)  # noqa: S310 - loopback
            return process
        except urllib.error.HTTPError:
            return process  # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"{ready} did not answer within 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """End a server of start_server and everything it started (its process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            process.wait()
    if process in _SERVERS:
        _SERVERS.remove(process)


@atexit.register
def _stop_all_servers() -> None:
    for process in list(_SERVERS):
        stop_server(process)


def start_pypiserver(packages: Path, htpasswd: Path | None, authenticate: str,
                     log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port)]
    if htpasswd is not None:
        cmd += ["-P", str(htpasswd), "-a", authenticate]
    else:
        cmd += ["-P", ".", "-a", "."]
    cmd += ["--disable-fallback", str(packages)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    root = f"http://127.0.0.1:{port}"
    return start_server(cmd, root + "/simple/", output=log, env=env), root


def start_multi_pypiserver(specs: list[str], options: tuple[str, ...] = ()
                           ) -> tuple[subprocess.Popen[bytes], str]:
    """tests/multi_pypiserver.py on a free port with ``specs`` (NAME=PACKAGES:HTPASSWD) and
    its ``options`` (--401)."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    name = specs[0].partition("=")[0]
    process = start_server([sys.executable, str(TESTS / "multi_pypiserver.py"), *options,
                            str(port), *specs], f"{root}/{name}/simple/")
    return process, root


def python_for(version: str) -> str | None:
    """An interpreter for ``version`` (e.g. "3.8"): pyenv's, or one on PATH."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = ""
    if root:
        candidates = sorted(Path(root, "versions").glob(f"{version}.*/bin/python{version}"))
        if candidates:
            return str(candidates[-1])
    return shutil.which(f"python{version}")


def newest_python() -> tuple[str, str] | None:
    for minor in range(20, 10, -1):
        found = python_for(f"3.{minor}")
        if found:
            return f"3.{minor}", found
    return None


def venv_python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def installed(venv: Path, module: str) -> str:
    """Import ``module`` in ``venv`` and return its VALUE."""
    out = subprocess.run([venv_python(venv), "-c", f"import {module}; print({module}.VALUE)"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else f"<not importable: {out.stderr[-200:]}>"


def write_config(directory: Path, text: str, trusted: bool = True) -> Path:
    """``directory``/privpip.toml with ``text``; ``trusted``: recorded with `privpip trust` in
    the test's own data directory, as a user's own file is (`privpip init` trusts the file it
    writes), so that a token the test exports reaches its URL (issue 19)."""
    path = directory / "privpip.toml"
    path.write_text(text, encoding="utf-8")
    if trusted:
        from privpip.config import trust
        from privpip.config.schema import token_commands

        trust.trust(path, os.environ, token_commands(path, os.environ))
    return path


# login / status helpers, shared by their tests and the init/index tests

WRONG_TOKEN = "wrong-Token_999.xyz"
PLAINTEXT = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
FAIL = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
BLOCKING = {
    "PYTHON_KEYRING_BACKEND": "blocking.BlockingKeyring",
    "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS / "backends")]),
    "PRIVPIP_KEYRING_TIMEOUT": "0.5",
}


def secret_forms() -> list[str]:
    """Every token the tests use, raw, percent-encoded and as base64 of user:token."""
    forms = []
    for token in (PLAIN_TOKEN, HOSTILE_TOKEN, WRONG_TOKEN):
        forms += [token, quote(token, safe="")]
        for user in ("__token__", HOSTILE_USER):
            forms.append(base64.b64encode(f"{user}:{token}".encode()).decode())
    return forms


def pp(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    """privpip(...), and its output must hold no form of any token."""
    kwargs.setdefault("timeout", 60)
    result = privpip(*args, **kwargs)
    output = result.stdout + result.stderr
    for form in secret_forms():
        assert form not in output, f"a token leaked into the output of privpip {args}"
    assert "Traceback" not in output, output
    return result


def keyring_get(service: str, user: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m keyring get SERVICE USER`: the lookup pip's keyring provider and twine make."""
    return subprocess.run([sys.executable, "-m", "keyring", "get", service, user],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=30)


def table(stdout: str) -> list[list[str]]:
    lines = [line.split() for line in stdout.splitlines()]
    return [line for line in lines if line and not line[0].endswith(":")]


# token leak checks and a bare interpreter, shared by the run and upload tests


def token_forms(user: str, token: str) -> list[str]:
    """Every form in which a token could leak into a file or an argv."""
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    return [token, quote(token, safe=""), quote(token), basic]


def assert_no_token(text: str, user: str, token: str) -> None:
    for form in token_forms(user, token):
        assert form not in text, f"token form {form[:6]}… leaked"


def bare_python(tmp_path: Path, make_venv) -> tuple[str, dict[str, str]]:
    """A Python that can run privpip (click, packaging, platformdirs only) but has neither
    uv nor twine: a fresh venv plus a directory of links to just those packages."""
    import click
    import packaging
    import platformdirs

    venv = make_venv()
    libs = tmp_path / "libs"
    libs.mkdir()
    for module in (click, packaging, platformdirs):
        source = Path(str(module.__file__)).parent
        (libs / source.name).symlink_to(source)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return venv_python(venv), {"PYTHONPATH": f"{TESTS.parent}{os.pathsep}{libs}",
                               "PATH": str(empty)}


def resolve(index, env, store, prompt, no_prompt_reason="stdin is not a terminal",
            run_command=None):
    """One lookup: ``credentials.Resolver(...).index(index)``."""
    from privpip.credentials import Resolver

    return Resolver(env, store, prompt, no_prompt_reason, run_command).index(index)
