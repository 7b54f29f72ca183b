"""privpip migrate: a real git repository, a real pypiserver, a real keyring backend."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from privpip.hygiene import migrate
from tests.gitserver import git as _git
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    PLAINTEXT,
    assert_no_token,
    installed,
    keyring_get,
    privpip,
)


def git(repo: Path, *args: str) -> str:
    return _git(*args, cwd=repo)


def no_token(text: str) -> None:
    for form in (PLAIN_TOKEN, quote(PLAIN_TOKEN, safe=""), PLAIN_TOKEN[4:]):
        assert form not in text


@pytest.fixture
def project(tmp_path: Path, index_server) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    netloc = index_server.root.split("://")[1]
    with open(repo / "requirements.txt", "w", newline="") as handle:
        handle.write(f"# private index\r\n--index-url http://__token__:{PLAIN_TOKEN}@{netloc}"
                     "/simple/\r\ncorp-dep==1.0\r\n")
    (repo / ".gitlab-ci.yml").write_text(
        f"test:\n  script:\n    - pip install -i http://__token__:{PLAIN_TOKEN}@{netloc}"
        "/simple/ corp-dep  # keep\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "leaky")
    return repo


def test_migrate_then_install_with_the_keyring(project: Path, index_server, make_venv) -> None:
    before = {p: p.read_bytes() for p in project.iterdir() if p.is_file()}
    dry = privpip("migrate", cwd=project, env=PLAINTEXT, timeout=60)
    assert dry.returncode == 1 and "nothing was changed" in dry.stderr
    netloc = index_server.root.split("://")[1]
    assert f"---index-url http://__token__:****@{netloc}/simple/" in dry.stdout  # the diff
    assert "takes index options in requirement files over anyway" in dry.stdout  # why it goes
    no_token(dry.stdout + dry.stderr)
    assert {p: p.read_bytes() for p in project.iterdir() if p.is_file()} == before

    result = privpip("migrate", "--yes", cwd=project, env=PLAINTEXT, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    no_token(output)
    assert "rotate it" in result.stderr and "since commit" in result.stderr
    requirements = (project / "requirements.txt").read_bytes()
    assert requirements == b"# private index\r\ncorp-dep==1.0\r\n"
    ci = (project / ".gitlab-ci.yml").read_text()
    # An address gives no name worth keeping: a generic one, and the user is told so.
    assert "http://__token__:${PRIVPIP_INDEX_INDEX_TOKEN}@" in ci and ci.endswith("# keep\n")
    assert "PRIVPIP_INDEX_INDEX_TOKEN" in result.stdout  # the CI variable to create
    assert "index 'index' (" in result.stdout and "got a generic name" in result.stdout
    assert "choose one with --name NAME" in result.stdout
    cfg = (project / "privpip.toml").read_text()
    assert f'url = "{index_server.url}"' in cfg and "default = true" in cfg
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            no_token(path.read_text(errors="replace"))

    assert privpip("scan", cwd=project).returncode == 0
    venv = make_venv()
    install = privpip("install", "--python", str(venv), "-r", "requirements.txt",
                      cwd=project, env=PLAINTEXT)
    assert install.returncode == 0, install.stdout + install.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    no_token(install.stdout + install.stderr)

    after = {p: p.read_bytes() for p in project.iterdir() if p.is_file()}
    again = privpip("migrate", "--yes", cwd=project, env=PLAINTEXT, timeout=60)
    assert again.returncode == 0 and "nothing to migrate" in again.stdout
    assert {p: p.read_bytes() for p in project.iterdir() if p.is_file()} == after


def test_a_rejected_token_changes_nothing(project: Path) -> None:
    text = (project / "requirements.txt").read_text().replace(PLAIN_TOKEN, "wrong-token-0000")
    (project / "requirements.txt").write_text(text)
    before = (project / "requirements.txt").read_bytes()
    result = privpip("migrate", "--yes", cwd=project, env=PLAINTEXT, timeout=60)
    assert result.returncode == 1 and "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr and "wrong-token-0000" not in result.stderr
    assert (project / "requirements.txt").read_bytes() == before
    assert not (project / "privpip.toml").exists()


def _changes(tmp_path: Path) -> list[migrate.FileChange]:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a\n")
    b.write_text("old b\n")
    return [migrate.FileChange(a, "a.txt", "old a\n", "new a\n"),
            migrate.FileChange(b, "b.txt", "old b\n", "new b\n")]


def test_failure_before_the_replaces_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    changes = _changes(tmp_path)

    def crash(n: int) -> None:
        raise OSError("injected")

    with pytest.raises(OSError, match="injected"):
        migrate.write_all(changes, before_replace=crash)
    assert [c.path.read_text() for c in changes] == ["old a\n", "old b\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temp left


def test_crash_between_two_replaces_leaves_no_half_written_file(tmp_path: Path) -> None:
    changes = _changes(tmp_path)

    def crash(n: int) -> None:
        if n == 1:
            raise OSError("injected")

    with pytest.raises(OSError):
        migrate.write_all(changes, before_replace=crash)
    assert [c.path.read_text() for c in changes] == ["new a\n", "old b\n"]  # each whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    missing_dir = migrate.FileChange(tmp_path / "gone" / "c.txt", "c", None, "x")
    with pytest.raises(OSError):
        migrate.write_all([changes[1], missing_dir])
    assert changes[1].path.read_text() == "old b\n"
    assert os.listdir(tmp_path) and not list(tmp_path.glob(".*tmp"))


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "hostile"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for name, text in files.items():
        with open(repo / name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "leaky")
    return repo


def test_hostile_token_is_checked_stored_and_gone(tmp_path: Path, index_server) -> None:
    netloc = index_server.root.split("://")[1]
    repo = _repo(tmp_path, {"requirements.txt": (
        f"--extra-index-url http://{HOSTILE_USER}:{quote(HOSTILE_TOKEN, safe='')}@{netloc}"
        "/simple/\ncorp-dep==1.0\n")})
    result = privpip("migrate", "--yes", cwd=repo, env=PLAINTEXT, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert_no_token(output, HOSTILE_USER, HOSTILE_TOKEN)
    assert "accepted the token" in result.stderr and "rotate it" in result.stderr
    # said once, as login says it (not "accepted the token (ok (HTTP 200 ...): ... accepted")
    accepted = [line for line in result.stderr.splitlines() if "accepted the token" in line]
    assert len(accepted) == 1 and re.fullmatch(
        r"privpip: .* accepted the token \(HTTP 200, \d+\.\d\d s\)", accepted[0]), accepted
    assert (repo / "requirements.txt").read_text() == "corp-dep==1.0\n"
    for path in (repo / "requirements.txt", repo / "privpip.toml"):
        assert_no_token(path.read_text(), HOSTILE_USER, HOSTILE_TOKEN)
    assert f'username = "{HOSTILE_USER}"' in (repo / "privpip.toml").read_text()
    stored = keyring_get(index_server.url, HOSTILE_USER, PLAINTEXT)
    assert stored.returncode == 0 and stored.stdout.rstrip("\n") == HOSTILE_TOKEN


def test_git_url_and_path_limit(tmp_path: Path) -> None:
    token = "glpat-Q7x9Kd2mLp4Rt8Vw3Zy6"
    repo = _repo(tmp_path, {
        "requirements.txt": f"dep @ git+https://oauth2:{token}@git.example.com/g/dep.git@v1\n",
        "other.txt": f"-i https://__token__:{PLAIN_TOKEN}@pypi.example.com/simple/\n"})
    result = privpip("migrate", "--yes", "requirements.txt", cwd=repo, env=PLAINTEXT, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert token not in output and token[5:] not in output
    assert (repo / "requirements.txt").read_text() == \
        "dep @ git+https://git.example.com/g/dep.git@v1\n"
    assert PLAIN_TOKEN in (repo / "other.txt").read_text()  # not named: left alone
    config = (repo / "privpip.toml").read_text()
    assert '[[git]]\nhost = "git.example.com"\nusername = "oauth2"\n' in config
    assert "[[index]]\nname" not in config  # other.txt was not migrated
    stored = keyring_get("git:https://git.example.com", "oauth2", PLAINTEXT)
    assert stored.stdout.rstrip("\n") == token
    assert "github.com/settings" not in result.stderr and "rotate it" in result.stderr


def test_terminal_confirmation(tmp_path: Path) -> None:
    """On a terminal (a real pty) privpip asks; "n" changes nothing, "y" applies."""
    import pty
    import subprocess
    import sys

    from tests.helpers import TESTS

    repo = _repo(tmp_path, {"requirements.txt":
                            f"-i https://__token__:{PLAIN_TOKEN}@pypi.example.com/simple/\nx\n"})
    env = {**os.environ, **PLAINTEXT, "PYTHONPATH": str(TESTS.parent)}

    def run(answer: bytes) -> str:
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "privpip", "migrate", "--no-verify"], cwd=repo, env=env,
            stdin=follower, stdout=follower, stderr=follower, close_fds=True)
        os.close(follower)
        output = b""
        answered = False
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Apply this plan? [y/N]" in output:
                os.write(leader, answer + b"\n")
                answered = True
        os.close(leader)
        assert process.wait(60) == 0
        text = output.decode(errors="replace")
        assert answered, text
        return text

    before = (repo / "requirements.txt").read_text()
    no = run(b"n")
    assert "nothing was changed" in no and PLAIN_TOKEN not in no
    assert (repo / "requirements.txt").read_text() == before
    assert not (repo / "privpip.toml").exists()
    yes = run(b"y")
    assert "rewrote requirements.txt" in yes and PLAIN_TOKEN not in yes
    assert (repo / "requirements.txt").read_text() == "x\n"


def test_user_pip_conf_goes_to_the_user_config_with_a_chosen_name(tmp_path: Path,
                                                                  index_server) -> None:
    """`privpip migrate --yes ~/.config/pip/pip.conf` from a project: the index lands in the
    user config (every directory sees it), never in the project's privpip.toml."""
    home = tmp_path / "home"
    conf = home / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    netloc = index_server.root.split("://")[1]
    conf.write_text(f"[global]\nindex-url = http://__token__:{PLAIN_TOKEN}@{netloc}/simple/\n")
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    env = {**PLAINTEXT, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("PRIVPIP_USER_CONFIG", None)
    result = privpip("migrate", "--yes", "--name", "corp", str(conf), cwd=project, env=env,
                     timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    no_token(output)
    assert not (project / "privpip.toml").exists()
    user = home / ".config" / "privpip" / "config.toml"
    assert 'name = "corp"' in user.read_text()
    assert "generic name" not in output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = privpip("index", "list", cwd=elsewhere, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "corp" in listed.stdout and index_server.url in listed.stdout
    no_token(conf.read_text())


def test_user_level_file_named_with_project_files_is_left_with_advice(tmp_path: Path,
                                                                      index_server) -> None:
    home = tmp_path / "home"
    conf = home / ".pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    netloc = index_server.root.split("://")[1]
    conf.write_text(f"[global]\nindex-url = http://__token__:{PLAIN_TOKEN}@{netloc}/simple/\n")
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    (project / "requirements.txt").write_text(
        f"-i http://__token__:{PLAIN_TOKEN}@{netloc}/simple/\ncorp-dep\n")
    env = {**PLAINTEXT, "HOME": str(home)}
    result = privpip("migrate", "--yes", str(conf), "requirements.txt", cwd=project, env=env,
                     timeout=60)
    output = result.stdout + result.stderr
    no_token(output)
    assert result.returncode == 1, output  # something was left for the user
    assert "a user-level file; migrate it on its own" in result.stdout
    assert (project / "privpip.toml").exists()
    assert PLAIN_TOKEN in conf.read_text()  # not touched: migrate it on its own


def test_a_different_stored_token_is_not_replaced_silently(project: Path) -> None:
    # Issue 19, finding 9: `migrate --yes --no-verify` overwrote the token already stored for
    # that URL and user without a word.
    netloc = (project / "requirements.txt").read_text().split("@")[1].split("/")[0]
    service = f"http://{netloc}/simple/"
    stored = subprocess.run([sys.executable, "-m", "keyring", "set", service, "__token__"],
                            input="older-Token_456.def", text=True, capture_output=True,
                            env={**os.environ, **PLAINTEXT})
    assert stored.returncode == 0, stored.stderr
    before = {p: p.read_bytes() for p in project.iterdir() if p.is_file()}
    refused = privpip("migrate", "--yes", "--no-verify", cwd=project, env=PLAINTEXT, timeout=60)
    assert refused.returncode == 1
    assert ("privpip: the keyring already holds a different token for index "
            in refused.stderr)
    assert "rerun with --force to replace the stored token(s)" in refused.stderr
    assert keyring_get(service, "__token__", PLAINTEXT).stdout.strip() == "older-Token_456.def"
    assert {p: p.read_bytes() for p in project.iterdir() if p.is_file()} == before
    forced = privpip("migrate", "--yes", "--no-verify", "--force", cwd=project, env=PLAINTEXT,
                     timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert keyring_get(service, "__token__", PLAINTEXT).stdout.strip() == PLAIN_TOKEN
