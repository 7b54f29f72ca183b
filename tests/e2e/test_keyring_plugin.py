"""End to end: privpip's keyring backend, as other tools reach it.

Real keyring (its CLI and Python API, its backend detection in a temporary HOME, with and
without keyrings.alt), real pip and uv with `--keyring-provider subprocess`, real twine, all
against real pypiserver indexes with authentication.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    PLAIN_TOKEN,
    TESTS,
    pp,
    start_multi_pypiserver,
    stop_server,
    venv_python,
    write_htpasswd,
)

BIN = Path(sys.executable).parent
# Poetry is not a test dependency: a `poetry` whose environment has privpip installed (what
# `poetry self add privpip` leaves), named here or found on PATH. Read before the isolating
# fixture removes PRIVPIP_* variables.
POETRY = os.environ.get("PRIVPIP_TEST_POETRY") or shutil.which("poetry")
KEYRING = str(BIN / "keyring")
PLUGIN = "privpip.keyring_backend.PrivpipKeyring"


@pytest.fixture(autouse=True)
def detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backend detection as on a user's machine: no backend named, no session bus."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)


def project(tmp_path: Path, url: str, extra: str = "", trusted: bool = True) -> Path:
    """A checkout with privpip.toml; trusted by default, as a user who exports a token for
    it has done (`privpip trust`)."""
    directory = tmp_path / "project"
    directory.mkdir(exist_ok=True)
    (directory / ".git").mkdir(exist_ok=True)
    (directory / "privpip.toml").write_text(
        f'[[index]]\nname = "corp"\nurl = "{url}"\ndefault = true\n{extra}', encoding="utf-8")
    if trusted:
        pp("trust", cwd=directory)
    return directory


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def keyring(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The keyring CLI of this environment, where privpip and keyrings.alt are installed."""
    result = run([KEYRING, *args], cwd, env, stdin)
    assert "Traceback" not in result.stderr, result.stderr
    assert PLAIN_TOKEN not in result.stderr
    return result


def in_file(service: str, user: str, cwd: Path) -> str:
    """The entry in keyrings.alt's file backend itself, asked without privpip."""
    return keyring("get", service, user, cwd=cwd, env={
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}).stdout.rstrip("\n")


# ---------------------------------------------------------------------------
# keyring itself: detection, reads, writes


def test_detected_beside_keyrings_alt(tmp_path, index_server) -> None:
    cwd = project(tmp_path, index_server.url)
    listed = keyring("--list-backends", cwd=cwd).stdout
    assert f"{PLUGIN} (priority: 9)" in listed
    assert "keyrings.alt.file.PlaintextKeyring (priority: 0.5)" in listed
    # keyring picks its chainer, which asks privpip first and the file backend next
    api = run([sys.executable, "-c", "import keyring; print(keyring.get_keyring())"], cwd)
    assert api.stdout.startswith("keyring.backends.chainer.ChainerBackend"), api.stdout

    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert (got.returncode, got.stdout) == (0, PLAIN_TOKEN + "\n")
    creds = keyring("--mode=creds", "--output=json", "get", index_server.url + "corp-dep/",
                    cwd=cwd, env=env)
    assert json.loads(creds.stdout) == {"username": "__token__", "password": PLAIN_TOKEN}
    api = run([sys.executable, "-c", "import sys, keyring; "
               "print(keyring.get_password(sys.argv[1], '__token__'))", index_server.url],
              cwd, env)
    assert api.stdout == PLAIN_TOKEN + "\n"

    # writes and deletes go to the user's own backend: keyrings.alt's file
    assert keyring("set", "other-service", "me", cwd=cwd, stdin="other-Secret_1\n").returncode == 0
    assert keyring("get", "other-service", "me", cwd=cwd).stdout == "other-Secret_1\n"
    assert in_file("other-service", "me", cwd) == "other-Secret_1"
    assert keyring("del", "other-service", "me", cwd=cwd).returncode == 0
    assert keyring("get", "other-service", "me", cwd=cwd).returncode == 1


def test_detected_without_keyrings_alt(tmp_path, index_server, make_venv) -> None:
    """Only privpip beside keyring on a headless machine: keyring picks privpip's backend
    itself; reads work, and a write fails with a message instead of vanishing."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    libs = tmp_path / "libs"
    libs.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(("keyrings", "_", "__")) or entry.suffix == ".pth":
            continue
        (libs / entry.name).symlink_to(entry)
    python = venv_python(make_venv())
    env = {"PYTHONPATH": f"{libs}{os.pathsep}{TESTS.parent}"}
    cwd = project(tmp_path, index_server.url)

    def kr(*args: str, stdin: str | None = None,
           extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run([python, "-m", "keyring", *args], cwd, {**env, **(extra or {})}, stdin)

    listed = kr("--list-backends").stdout
    assert "keyrings.alt" not in listed
    assert f"{PLUGIN} (priority: 9)" in listed
    api = run([python, "-c", "import keyring; print(keyring.get_keyring())"], cwd, env)
    assert api.stdout.startswith(PLUGIN), api.stdout
    got = kr("get", index_server.url, "__token__",
             extra={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert (got.returncode, got.stdout) == (0, PLAIN_TOKEN + "\n")
    assert kr("get", "https://pypi.org/simple/", "__token__").returncode == 1
    written = kr("set", "other-service", "me", stdin="other-Secret_1\n")
    assert written.returncode != 0
    assert "privpip's keyring backend only reads" in written.stderr
    # `privpip login` keeps the token in privpip's own file there; the backend reads it
    login = run([python, "-m", "privpip", "login", "corp"], cwd, env, PLAIN_TOKEN + "\n")
    assert login.returncode == 0, login.stderr
    got = kr("get", index_server.url + "corp-dep/", "__token__")
    assert (got.returncode, got.stdout) == (0, PLAIN_TOKEN + "\n")


def test_token_from_privpip_login(tmp_path, index_server) -> None:
    """`privpip login` stores the token in the detected backend (keyrings.alt's file); a URL
    under the index, which only privpip knows to belong to it, gets it through the plugin."""
    cwd = project(tmp_path, index_server.url)
    pp("login", "corp", input=PLAIN_TOKEN + "\n", cwd=cwd)
    assert in_file(index_server.url, "__token__", cwd) == PLAIN_TOKEN  # where login put it
    page = index_server.url + "corp-dep/"
    assert keyring("get", page, "__token__", cwd=cwd).stdout == PLAIN_TOKEN + "\n"
    # privpip's backend named explicitly: its own keyring source still finds the entry
    named = keyring("get", page, "__token__", cwd=cwd, env={"PYTHON_KEYRING_BACKEND": PLUGIN})
    assert named.stdout == PLAIN_TOKEN + "\n"
    # somewhere else, privpip knows no index: only the file backend's own entries answer
    assert keyring("get", page, "__token__", cwd=tmp_path).returncode == 1


def test_untrusted_file_gets_nothing(tmp_path, index_server) -> None:
    marker = tmp_path / "ran"
    cwd = project(tmp_path, index_server.url,
                  f'token-env = ["MY_TOKEN"]\ntoken-command = ["touch", "{marker}"]\n',
                  trusted=False)
    env = {"MY_TOKEN": PLAIN_TOKEN}
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert (got.returncode, got.stdout) == (1, "")
    assert not marker.exists()
    assert "not trusted" in got.stderr  # the reason, for the index asked about
    pp("trust", cwd=cwd)
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert got.stdout == PLAIN_TOKEN + "\n"


def test_exported_token_needs_a_trusted_file(tmp_path, index_server) -> None:
    """An exported token goes only to a URL the user chose: not to one that only an untrusted
    project file names, through the plugin as through privpip itself."""
    cwd = project(tmp_path, index_server.url, trusted=False)
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert (got.returncode, got.stdout) == (1, "")
    assert "privpip trust" in got.stderr
    pp("trust", cwd=cwd)
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert got.stdout == PLAIN_TOKEN + "\n"


def test_unknown_url_answers_nothing_and_quietly(tmp_path, index_server) -> None:
    marker = tmp_path / "ran"
    cwd = project(tmp_path, index_server.url,
                  f'token-env = ["MY_TOKEN"]\ntoken-command = ["touch", "{marker}"]\n')
    for service in ("https://pypi.org/simple/", "pypi.org", "http://127.0.0.1:1/simple/"):
        got = keyring("get", service, "__token__", cwd=cwd, env={"MY_TOKEN": PLAIN_TOKEN})
        assert (got.returncode, got.stdout, got.stderr) == (1, "", "")
    assert not marker.exists()


def test_a_hanging_keyring_does_not_hang_the_tool(tmp_path, index_server, isolated) -> None:
    """privpip's own keyring step is bounded by PRIVPIP_KEYRING_TIMEOUT: with the backend
    privpip remembered hanging (a locked keyring), the lookup gives up and answers nothing."""
    cwd = project(tmp_path, index_server.url)
    state = isolated / ".local/state/privpip/keyring-backend"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("backend=blocking.BlockingKeyring\ndetected=blocking.BlockingKeyring\n")
    env = {"PYTHON_KEYRING_BACKEND": PLUGIN, "PRIVPIP_KEYRING_TIMEOUT": "0.5",
           "PYTHONPATH": str(TESTS / "backends")}
    started = time.monotonic()
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env=env)
    assert time.monotonic() - started < 10
    assert got.returncode == 1
    assert "did not answer within 0.5 s" in got.stderr


def test_no_recursion_through_a_token_command(tmp_path, index_server) -> None:
    """A trusted token command that itself asks keyring for the same index: it runs once, and
    its keyring does not come back to privpip."""
    count = tmp_path / "count"
    script = tmp_path / "token.sh"
    script.write_text(f'echo run >> "{count}"\nexec "{KEYRING}" get "{index_server.url}" __token__\n')
    cwd = project(tmp_path, index_server.url, f'token-command = ["sh", "{script}"]\n')
    started = time.monotonic()
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env={"PRIVPIP_TRUST": "1"})
    assert got.returncode == 1
    assert time.monotonic() - started < 30
    assert count.read_text() == "run\n"
    # the same command reading an entry of the user's own backend works
    keyring("set", "vault:corp", "__token__", cwd=cwd, stdin=PLAIN_TOKEN + "\n")
    script.write_text(f'exec "{KEYRING}" get vault:corp __token__\n')
    got = keyring("get", index_server.url, "__token__", cwd=cwd, env={"PRIVPIP_TRUST": "1"})
    assert got.stdout == PLAIN_TOKEN + "\n"


# ---------------------------------------------------------------------------
# tools: pip, uv, twine


@pytest.fixture(scope="module")
def index_401(tmp_path_factory):
    """pypiserver answering 401 (not 403) to a username with an empty password, as GitLab,
    Artifactory and Nexus do: pip sends `USER:` for http://USER@host/ and asks keyring only
    after a 401."""
    base = tmp_path_factory.mktemp("index401")
    packages = base / "packages"
    packaging_fixtures.populate(packages)
    htpasswd = write_htpasswd(base / "htpasswd", {"__token__": PLAIN_TOKEN})
    process, root = start_multi_pypiserver([f"corp={packages}:{htpasswd}"], ("--401",))
    yield f"{root}/corp/simple/"
    stop_server(process)


def _token_source(kind: str, cwd: Path) -> dict[str, str]:
    if kind == "env":
        return {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    pp("login", "corp", input=PLAIN_TOKEN + "\n", cwd=cwd)
    return {}


def _tool_env(extra: dict[str, str]) -> dict[str, str]:
    # keyring from another environment than the installer's (pip skips a `keyring` in its
    # own scripts directory for the subprocess provider): this one, with privpip beside it.
    return {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PIP_NO_INPUT": "1", **extra}


@pytest.mark.parametrize("source", ["env", "login"])
def test_pip_keyring_provider_subprocess(tmp_path, index_401, make_venv, source) -> None:
    with_user = index_401.replace("http://", "http://__token__@")
    cwd = project(tmp_path, index_401)
    env = _tool_env(_token_source(source, cwd))
    python = venv_python(make_venv())
    result = run([python, "-m", "pip", "install", "--keyring-provider", "subprocess",
                  "--index-url", with_user, "corp-dep"], cwd, env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert PLAIN_TOKEN not in result.stdout + result.stderr
    check = run([python, "-c", "import corp_dep; print(corp_dep.VALUE)"], cwd)
    assert check.stdout == "corp-dep 1.0\n"


def test_pip_keyring_provider_subprocess_without_username(tmp_path, index_server) -> None:
    """pip 25+ asks `keyring --mode=creds get URL` when the URL names no user; privpip answers
    with the index's username. (This environment's pip; its keyring reached through a link
    outside its scripts directory, which pip's subprocess provider skips.)"""
    cwd = project(tmp_path, index_server.url)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "keyring").symlink_to(KEYRING)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "PIP_NO_INPUT": "1",
           "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    target = tmp_path / "target"
    result = run([sys.executable, "-m", "pip", "install", "--target", str(target),
                  "--keyring-provider", "subprocess", "--index-url", index_server.url,
                  "corp-dep"], cwd, env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "corp_dep" / "__init__.py").exists()


def test_pip_keyring_provider_import(tmp_path, index_server) -> None:
    """keyring imported in pip's own process (this environment has keyring and privpip)."""
    cwd = project(tmp_path, index_server.url)
    target = tmp_path / "target"
    result = run([sys.executable, "-m", "pip", "install", "--target", str(target),
                  "--keyring-provider", "import", "--index-url", index_server.url, "corp-dep"],
                 cwd, {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "PIP_NO_INPUT": "1"},
                 timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "corp_dep" / "__init__.py").exists()


def test_pip_conf_form(tmp_path, index_401, make_venv) -> None:
    """docs/tools.md's pip.conf: index-url with the username, keyring-provider = subprocess."""
    cwd = project(tmp_path, index_401)
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = " + index_401.replace("http://", "http://__token__@")
                    + "\nkeyring-provider = subprocess\n")
    env = _tool_env({"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "PIP_CONFIG_FILE": str(conf)})
    python = venv_python(make_venv())
    result = run([python, "-m", "pip", "install", "corp-dep"], cwd, env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ide_interpreter_pip_conf(tmp_path, index_401, make_venv, monkeypatch) -> None:
    """docs/tools.md's IDE set-up: `pip config --site set` writes the environment's own
    pip.conf, which a plain `python -m pip install` of that interpreter reads (an IDE's)."""
    monkeypatch.delenv("PIP_CONFIG_FILE")  # pip reads its configuration files, as in an IDE
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-global-config"))
    cwd = project(tmp_path, index_401)
    python = venv_python(make_venv())
    with_user = index_401.replace("http://", "http://__token__@")
    for key, value in (("global.index-url", with_user), ("global.keyring-provider", "subprocess")):
        assert run([python, "-m", "pip", "config", "--site", "set", key, value], cwd).returncode == 0
    env = _tool_env({"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    result = run([python, "-m", "pip", "install", "corp-dep"], cwd, env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert PLAIN_TOKEN not in Path(python).parent.parent.joinpath("pip.conf").read_text()


def test_pip_without_privpip_config_fails(tmp_path, index_401, make_venv) -> None:
    """The control: the same install from a directory without privpip's config is refused."""
    env = _tool_env({"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    python = venv_python(make_venv())
    result = run([python, "-m", "pip", "install", "--keyring-provider", "subprocess",
                  "--index-url", index_401.replace("http://", "http://__token__@"),
                  "corp-dep"], tmp_path, env, timeout=180)
    assert result.returncode != 0


@pytest.mark.parametrize("source", ["env", "login"])
def test_uv_keyring_provider_subprocess(tmp_path, index_server, make_venv, source) -> None:
    cwd = project(tmp_path, index_server.url)
    env = _tool_env({**_token_source(source, cwd), "UV_NO_CACHE": "1"})
    venv = make_venv()
    result = run([str(BIN / "uv"), "pip", "install", "--python", venv_python(venv),
                  "--keyring-provider", "subprocess", "--index-url",
                  index_server.url.replace("http://", "http://__token__@"), "corp-dep"],
                 cwd, env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert PLAIN_TOKEN not in result.stdout + result.stderr
    check = run([venv_python(venv), "-c", "import corp_dep; print(corp_dep.VALUE)"], cwd)
    assert check.stdout == "corp-dep 1.0\n"


def test_uv_project_index(tmp_path, index_server) -> None:
    """docs/tools.md's [[tool.uv.index]] with keyring-provider = "subprocess": uv lock and
    uv sync; uv.lock holds neither the token nor the username."""
    cwd = project(tmp_path, index_server.url)
    (cwd / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
        'dependencies = ["corp-dep"]\n\n[tool.uv]\nkeyring-provider = "subprocess"\n\n'
        '[[tool.uv.index]]\nname = "corp"\n'
        f'url = "{index_server.url.replace("http://", "http://__token__@")}"\n'
        'default = true\nauthenticate = "always"\n')
    env = _tool_env({"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "UV_NO_CACHE": "1",
                     "UV_PYTHON": sys.executable})
    for command in ("lock", "sync"):
        result = run([str(BIN / "uv"), command], cwd, env, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
    lock = (cwd / "uv.lock").read_text()
    assert "corp-dep" in lock
    assert PLAIN_TOKEN not in lock and "__token__" not in lock
    check = run([str(cwd / ".venv/bin/python"), "-c", "import corp_dep; print(corp_dep.VALUE)"],
                cwd)
    assert check.stdout == "corp-dep 1.0\n"


def test_twine_upload_through_keyring(tmp_path, index_server) -> None:
    """twine asks keyring for the repository URL (the server root, pypiserver's upload URL,
    on the index's origin) and the username."""
    cwd = project(tmp_path, index_server.url)
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = packaging_fixtures.write_wheel(dist, "kr-upload-demo", "1.0",
                                           {"kr_upload_demo.py": "VALUE = 1\n"})
    result = run([sys.executable, "-m", "twine", "upload", "--non-interactive",
                  "--repository-url", index_server.root + "/", "-u", "__token__", str(wheel)],
                 cwd, {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (index_server.packages / wheel.name).exists()
    assert PLAIN_TOKEN not in result.stdout + result.stderr


@pytest.mark.skipif(POETRY is None, reason="no Poetry (set PRIVPIP_TEST_POETRY to one whose "
                    "environment has privpip)")
def test_poetry_source(tmp_path, index_server) -> None:
    """docs/tools.md's Poetry set-up: a [[tool.poetry.source]] with no credential; Poetry asks
    keyring for the URLs it fetches. Without privpip's config the same lock fails."""
    assert POETRY is not None
    cwd = project(tmp_path, index_server.url)
    (cwd / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["corp-dep"]\n\n[[tool.poetry.source]]\nname = "corp"\n'
        f'url = "{index_server.url}"\npriority = "primary"\n')
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    for args in (["lock"], ["install", "--no-root"]):
        result = run([POETRY, "-n", *args], cwd, env, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert PLAIN_TOKEN not in result.stdout + result.stderr
    lock = (cwd / "poetry.lock").read_text()
    assert "corp-dep" in lock and PLAIN_TOKEN not in lock
    (cwd / "privpip.toml").unlink()
    (cwd / "poetry.lock").unlink()
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "pypoetry" / "cache", ignore_errors=True)
    result = run([POETRY, "-n", "lock"], cwd, env, timeout=300)
    assert result.returncode != 0
