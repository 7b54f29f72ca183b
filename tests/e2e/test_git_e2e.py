"""End to end: `privpip install git+http://127.0.0.1:PORT/...` against a real git smart-HTTP
server with basic auth (git http-backend), plus the pypiserver index in the same config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from privpip.context import Context
from privpip.run.delivery.git import git_environment
from tests.gitserver import GitServer, gitdep_files, make_bare_repo
from tests.helpers import PLAIN_TOKEN, TESTS, installed, privpip, venv_python, write_config

GIT_USER = "deploy-token-12"
# Characters a shell, a URL or git's credential protocol could trip over (not newline/NUL).
GIT_TOKEN = "g1t p@ss:w/rd#x?y=%41 'q' \"d\" $(touch pwned) `id` \\;&|"



@pytest.fixture(autouse=True)
def _trusted(monkeypatch):
    """These tests wrote their config themselves: trusted (tests/test_trust.py tests trust)."""
    monkeypatch.setenv("PRIVPIP_TRUST", "1")

@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("git-repos")
    make_bare_repo(root, "dep.git", gitdep_files())
    return root


@pytest.fixture
def git_server(repos: Path):
    server = GitServer(repos, GIT_USER, GIT_TOKEN).start()
    yield server
    server.stop()


def config_for(index_server, git_server: GitServer) -> str:
    return index_server.config() + (
        f'\n[[git]]\nhost = "{git_server.host}"\nusername = "{GIT_USER}"\n'
        'token-env = "DEP_GIT_TOKEN"\n'
    )


def leak_forms(token: str) -> list[str]:
    return [token, quote(token, safe=""), quote(token)]


def assert_no_token(text: str, token: str = GIT_TOKEN) -> None:
    for form in leak_forms(token):
        assert form not in text


def store_helper_in_home() -> Path:
    """The user's own git config has `credential.helper = store`: privpip must bypass it."""
    home = Path(os.environ["HOME"])
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n", encoding="utf-8")
    return home / ".git-credentials"


def test_install_git_dependency(index_server, git_server, make_venv, tmp_path):
    write_config(tmp_path, config_for(index_server, git_server))
    credentials_file = store_helper_in_home()
    venv = make_venv()
    result = privpip("--verbose", "install", "--python", venv_python(venv), "--", "-v",
                     f"git+{git_server.url('dep.git')}", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "DEP_GIT_TOKEN": GIT_TOKEN})
    assert result.returncode == 0, result.stderr[-3000:]
    assert installed(venv, "corp_gitdep") == "corp-gitdep 2.0"
    assert "git host " + git_server.host + ": credential helper registered" in result.stderr
    # pip ran git with the plain URL, and git authenticated as the configured user.
    assert (f"Running command git clone --filter=blob:none {git_server.url('dep.git')} "
            in result.stdout + result.stderr)
    assert (("GET", "/dep.git/info/refs?service=git-upload-pack", GIT_USER)
            in git_server.requests)
    assert ("GET", "/dep.git/info/refs?service=git-upload-pack", "") in git_server.requests
    for _method, path, _user in git_server.requests:
        assert_no_token(path)
    assert_no_token(result.stdout + result.stderr)
    assert not credentials_file.exists()
    assert not (tmp_path / "pwned").exists()

    freeze = subprocess.run([venv_python(venv), "-m", "pip", "freeze"], capture_output=True,
                            text=True, check=True).stdout
    assert f"corp-gitdep @ git+{git_server.url('dep.git')}@" in freeze
    assert_no_token(freeze)


def test_editable_checkout_keeps_no_token(index_server, git_server, make_venv, tmp_path):
    write_config(tmp_path, config_for(index_server, git_server))
    credentials_file = store_helper_in_home()
    src = tmp_path / "src"
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "--", "-e",
                     f"git+{git_server.url('dep.git')}#egg=corp-gitdep", "--src", str(src),
                     cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "DEP_GIT_TOKEN": GIT_TOKEN})
    assert result.returncode == 0, result.stderr[-3000:]
    assert installed(venv, "corp_gitdep") == "corp-gitdep 2.0"
    checkout = src / "corp-gitdep"
    git_config = (checkout / ".git" / "config").read_text(encoding="utf-8")
    assert f"url = {git_server.url('dep.git')}\n" in git_config
    assert_no_token(git_config)
    for path in (checkout / ".git").rglob("*"):
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert_no_token(path.read_bytes().decode("latin-1"))
    assert not credentials_file.exists()

    freeze = subprocess.run([venv_python(venv), "-m", "pip", "freeze"], capture_output=True,
                            text=True, check=True).stdout
    assert f"-e git+{git_server.url('dep.git')}@" in freeze
    assert_no_token(freeze)


def test_without_credential_git_is_refused(index_server, git_server, make_venv, tmp_path):
    """The control: the same install with no git token fails at the server's 401.

    With no git token, the index on the same host name (127.0.0.1) lends its credential,
    which this git server does not accept.
    """
    write_config(tmp_path, config_for(index_server, git_server))
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv),
                     f"git+{git_server.url('dep.git')}", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode != 0
    assert f"fatal: Authentication failed for '{git_server.url('dep.git')}/'" in result.stderr
    assert installed(venv, "corp_gitdep").startswith("<not importable")
    assert_no_token(result.stderr, PLAIN_TOKEN)


def test_without_any_credential_the_helper_says_why(git_server, make_venv, tmp_path):
    write_config(tmp_path, '[[index]]\nname = "pub"\nurl = "https://pypi.example.com/simple/"\n'
                 f'auth = false\n\n[[git]]\nhost = "{git_server.host}"\n')
    result = privpip("pip", "--", "download", "--no-deps", "--no-build-isolation", "-d",
                     str(tmp_path / "d"), f"git+{git_server.url('dep.git')}", cwd=tmp_path)
    assert result.returncode != 0
    # pip indents its children's output by two spaces.
    assert (f"  privpip git-credential: no credential for git host {git_server.host}; tried:\n"
            f"    - env:PRIVPIP_GIT_127_0_0_1_{git_server.port}_TOKEN: not set\n"
            in result.stderr)
    assert {user for _m, _p, user in git_server.requests} == {""}


def test_unconfigured_host_gets_no_credential(index_server, git_server, make_venv, tmp_path):
    """A [[git]] entry for another port of the same address gives this server nothing."""
    other = f"127.0.0.1:{git_server.port + 1 if git_server.port < 65535 else git_server.port - 1}"
    write_config(tmp_path, index_server.config() + f'\n[[git]]\nhost = "{other}"\n'
                 'token-env = "DEP_GIT_TOKEN"\n')
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv),
                     f"git+{git_server.url('dep.git')}", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "DEP_GIT_TOKEN": GIT_TOKEN})
    assert result.returncode != 0
    assert {user for _m, _p, user in git_server.requests} == {""}


def test_index_credential_reused_for_git_clone(index_server, repos, tmp_path):
    """No git token at all: the index on the same host (127.0.0.1) lends its credential."""
    server = GitServer(repos, "oauth2", PLAIN_TOKEN).start()
    try:
        write_config(tmp_path, index_server.config() + f'\n[[git]]\nhost = "{server.host}"\n')
        env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "GIT_TERMINAL_PROMPT": "0",
               "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
        env.update(git_environment(Context(env=env, cwd=tmp_path), env))
        result = subprocess.run(["git", "clone", "-q", server.url("dep.git"),
                                 str(tmp_path / "clone")], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "clone" / "corp_gitdep" / "__init__.py").is_file()
        assert ("GET", "/dep.git/info/refs?service=git-upload-pack", "oauth2") in server.requests
    finally:
        server.stop()


def test_old_git_is_reported(index_server, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho 'git version 2.30.9'\n", encoding="utf-8")
    (fake / "git").chmod(0o755)
    write_config(tmp_path, index_server.config() + '\n[[git]]\nhost = "gitlab.example.com"\n')
    result = privpip("install", "git+https://gitlab.example.com/group/dep.git", cwd=tmp_path,
                     env={"PATH": f"{fake}:{os.environ['PATH']}",
                          "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 1
    assert result.stderr.startswith(
        "privpip: error: git 2.30 is too old: privpip passes git its credential helper through "
        "GIT_CONFIG_COUNT, which needs git 2.31 or newer")


def test_config_with_only_git_hosts(git_server, make_venv, tmp_path):
    write_config(tmp_path, f'[[git]]\nhost = "{git_server.host}"\nusername = "{GIT_USER}"\n')
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv),
                     f"git+{git_server.url('dep.git')}", cwd=tmp_path,
                     env={f"PRIVPIP_GIT_127_0_0_1_{git_server.port}_TOKEN": GIT_TOKEN})
    assert result.returncode == 0, result.stderr[-3000:]
    assert installed(venv, "corp_gitdep") == "corp-gitdep 2.0"
    assert_no_token(result.stdout + result.stderr)
