"""Shared fixtures: an isolated HOME and environment, a real authenticated pypiserver, venvs.

Every test runs with a temporary HOME and XDG directories, without the machine's pip
configuration (PIP_CONFIG_FILE=os.devnull, every PIP_* removed), and reaches only loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    TESTS,
    IndexServer,
    start_pypiserver,
    stop_server,
    write_htpasswd,
)

# Fixtures that start servers or build environments: a test using one is end-to-end.
_E2E_FIXTURES = {"index_server", "make_venv", "git_server", "stub_index"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests under tests/e2e/, and tests using a server or venv fixture, as `e2e`."""
    e2e = TESTS / "e2e"
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if e2e in Path(str(item.fspath)).parents or fixtures & _E2E_FIXTURES:
            item.add_marker(pytest.mark.e2e)

_STRIPPED_PREFIXES = ("PIP_", "UV_", "PRIVPIP_", "TWINE_", "PYTHON_KEYRING", "KEYRING_", "GIT_")
_STRIPPED = {"CI", "VIRTUAL_ENV", "CONDA_PREFIX", "NETRC", "PYTHONPATH", "CI_JOB_TOKEN", "GITLAB_CI",
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
    from privpip.core import secret

    secret._SEEN.clear()


@pytest.fixture(autouse=True)
def _fresh_trust_state() -> None:
    """The project files an in-process test's loads parsed (trust decides on those bytes)."""
    from privpip.config import trust

    trust._PARSED.clear()


@pytest.fixture(autouse=True)
def _home_really_isolated(isolated: Path) -> None:
    assert Path(os.environ["HOME"]) == isolated, "a test escaped the isolated HOME"
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull


@pytest.fixture(scope="session")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    base = tmp_path_factory.mktemp("index")
    packages = base / "packages"
    packaging_fixtures.populate(packages)
    users = {"__token__": PLAIN_TOKEN, HOSTILE_USER: HOSTILE_TOKEN}
    process, root = start_pypiserver(packages, write_htpasswd(base / "htpasswd", users), "download,list,update",
                                     base / "server.log")
    server = IndexServer(root, packages, users, process)
    yield server
    stop_server(process)


_TEMPLATES: dict[str, Path] = {}


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


