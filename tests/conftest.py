"""Shared fixtures: an isolated HOME and environment, a real authenticated pypiserver, venvs.

Every test runs with a temporary HOME and XDG directories, without the machine's pip
configuration (PIP_CONFIG_FILE=os.devnull, every PIP_* removed), and reaches only loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import packaging_fixtures

TESTS = Path(__file__).resolve().parent
PLAIN_TOKEN = "plain-Token_123.abc"
# Every character that has broken someone's pip.conf: @ : / # ? % space ' " $( ) \ and more.
HOSTILE_TOKEN = "p@ss:w/rd#frag?q=1%41 'sq' \"dq\" $(touch pwned) `id` \\back;&|<>*~!"
HOSTILE_USER = "deploy-token-7"

_STRIPPED_PREFIXES = ("PIP_", "UV_", "PRIVPIP_", "TWINE_", "PYTHON_KEYRING", "KEYRING_", "GIT_")
_STRIPPED = {"VIRTUAL_ENV", "CONDA_PREFIX", "NETRC", "PYTHONPATH", "CI_JOB_TOKEN", "GITLAB_CI",
             "GITHUB_ENV", "GITHUB_ACTIONS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"}


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and XDG tree, no pip config, no PIP_*/UV_*/PRIVPIP_* variables."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(_STRIPPED_PREFIXES) or name in _STRIPPED:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    # A real keyring backend that touches nothing outside HOME unless a test picks another.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    # Tests must not pick up the privpip.toml of whatever directory pytest runs in.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    return home


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    """redact() scrubs every secret this process has seen; in-process tests start with none."""
    from privpip import secret

    secret._SEEN.clear()


@pytest.fixture(autouse=True)
def _home_really_isolated(isolated: Path) -> None:
    assert Path(os.environ["HOME"]) == isolated, "a test escaped the isolated HOME"
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull


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
    process = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pypiserver exited: {log.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(root + "/simple/", timeout=2)  # noqa: S310 - loopback
            return process, root
        except urllib.error.HTTPError:
            return process, root  # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("pypiserver did not start within 30 s")


@pytest.fixture(scope="session")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> IndexServer:
    base = tmp_path_factory.mktemp("index")
    packages = base / "packages"
    packaging_fixtures.populate(packages)
    users = {"__token__": PLAIN_TOKEN, HOSTILE_USER: HOSTILE_TOKEN}
    process, root = start_pypiserver(packages, write_htpasswd(base / "htpasswd", users), "download,list,update",
                                     base / "server.log")
    server = IndexServer(root, packages, users, process)
    yield server
    process.terminate()
    process.wait(10)


_TEMPLATES: dict[str, Path] = {}


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


@pytest.fixture
def make_venv(tmp_path_factory: pytest.TempPathFactory):
    """Factory: a fresh virtual environment (copied from a per-interpreter template)."""

    def make(python: str = sys.executable) -> Path:
        if python not in _TEMPLATES:
            template = tmp_path_factory.getbasetemp() / f"venv-template-{len(_TEMPLATES)}"
            subprocess.run([python, "-m", "venv", str(template)], check=True,
                           capture_output=True)
            _TEMPLATES[python] = template
        target = tmp_path_factory.mktemp("venv") / "env"
        shutil.copytree(_TEMPLATES[python], target, symlinks=True)
        return target

    return make


def venv_python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def installed(venv: Path, module: str) -> str:
    """Import ``module`` in ``venv`` and return its VALUE."""
    out = subprocess.run([venv_python(venv), "-c", f"import {module}; print({module}.VALUE)"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else f"<not importable: {out.stderr[-200:]}>"


def write_config(directory: Path, text: str) -> Path:
    path = directory / "privpip.toml"
    path.write_text(text, encoding="utf-8")
    return path
