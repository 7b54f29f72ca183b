"""init / index add / index remove: the written file loads back as asked, comments intact."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from privpip import config
from privpip.config import Index
from privpip.config.schema import read_file
from tests.helpers import PLAIN_TOKEN, PLAINTEXT, installed, pp, table, venv_python

GITLAB_PROJECT = "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple"
GITLAB_GROUP = "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple"

PYPROJECT = """\
# The project's own comment, which must survive.
[project]
name = "demo"   # trailing comment
version = "1.0"

[tool.ruff]
line-length = 100
"""


def load(directory: Path) -> list[Index]:
    """What privpip.config reads, without the origin label."""
    # Trusted: these files hold what the test itself added (tests/test_trust.py tests trust).
    env = {"PRIVPIP_USER_CONFIG": str(directory / "no-user-config.toml"), "PRIVPIP_TRUST": "1"}
    cfg = config.load(directory, env)
    return [i._replace(origin="", directory="") for i in cfg.indexes]


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def only_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("pyproject", [False, True], ids=["privpip.toml", "pyproject.toml"])
def test_init_then_add_twice_round_trip(tmp_path, pyproject):
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    init = pp("init", *(["--pyproject"] if pyproject else []), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    path = tmp_path / ("pyproject.toml" if pyproject else "privpip.toml")
    started = path.read_text()
    assert len(comment_lines(started)) > 15  # every key is explained
    if pyproject:
        assert started.startswith(PYPROJECT)
    assert load(tmp_path) == []

    first = pp("index", "add", "corp", "http://127.0.0.1:8080/simple/", "--default", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"added index corp (default) to {path.name}" in first.stdout
    second = pp("index", "add", "gl", GITLAB_PROJECT, "--username", "gitlab+deploy-token-7",
                "--token-env", "CI_JOB_TOKEN", cwd=tmp_path)
    assert second.returncode == 0, second.stderr

    assert load(tmp_path) == [
        Index("corp", "http://127.0.0.1:8080/simple/", default=True),
        Index("gl", GITLAB_PROJECT, username="gitlab+deploy-token-7",
              token_env=("CI_JOB_TOKEN",), provider="gitlab"),
    ]
    final = path.read_text()
    assert final.startswith(started)  # nothing before was rewritten: comments, layout
    assert comment_lines(final) == comment_lines(started)
    assert only_files(tmp_path) == [path.name]  # no temporary file left behind
    header = "[[tool.privpip.index]]" if pyproject else "[[index]]"
    assert final.splitlines().count(header) == 2


def test_index_add_packages_writes_the_key_and_init_explains_it(tmp_path):
    assert pp("init", cwd=tmp_path).returncode == 0
    started = (tmp_path / "privpip.toml").read_text()
    assert "# packages = [\"corp-*\"]" in started
    assert "--packages 'corp-*'" in started
    added = pp("index", "add", "corp", "http://127.0.0.1:8080/simple/", "--packages", "Corp_*",
               "--packages", "internal-lib", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert load(tmp_path) == [Index("corp", "http://127.0.0.1:8080/simple/",
                                    packages=("corp-*", "internal-lib"))]
    assert '"Corp_*",' in (tmp_path / "privpip.toml").read_text()  # as typed
    bad = pp("index", "add", "x", "http://127.0.0.1:8081/simple/", "--packages", "a b",
             cwd=tmp_path)
    assert bad.returncode == 2
    assert "--packages: 'a b' is not a package name or glob" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_init_trusts_the_file_it_writes_and_index_add_keeps_it(tmp_path):
    # Issue 19: an exported token reaches a project file's URL only once the file is trusted;
    # the file you wrote with `privpip init` is yours, so the first hour needs no `trust`.
    import os

    from privpip.config import trust

    assert pp("init", cwd=tmp_path).returncode == 0
    path = tmp_path / "privpip.toml"
    assert trust.file_is_trusted(path, os.environ)
    assert pp("index", "add", "corp", "https://h.example/simple/", cwd=tmp_path).returncode == 0
    assert trust.file_is_trusted(path, os.environ)
    path.write_text(path.read_text() + "# edited by someone\n")
    assert not trust.file_is_trusted(path, os.environ)


def test_init_refuses_to_overwrite(tmp_path):
    assert pp("init", cwd=tmp_path).returncode == 0
    path = tmp_path / "privpip.toml"
    path.write_text(path.read_text() + "# mine\n")
    before = path.read_bytes()
    again = pp("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "privpip.toml already exists; it was not overwritten" in again.stderr
    assert path.read_bytes() == before


def test_init_pyproject_refusals(tmp_path):
    result = pp("init", "--pyproject", cwd=tmp_path)
    assert result.returncode == 2
    assert "there is no pyproject.toml" in result.stderr
    assert only_files(tmp_path) == []

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert pp("init", "--pyproject", cwd=tmp_path).returncode == 0
    before = (tmp_path / "pyproject.toml").read_bytes()
    again = pp("init", "--pyproject", cwd=tmp_path)
    assert again.returncode == 2
    assert "already has a [tool.privpip] table" in again.stderr
    # privpip.toml would hide the table: refused too.
    hide = pp("init", cwd=tmp_path)
    assert hide.returncode == 2
    assert "would hide it" in hide.stderr
    assert (tmp_path / "pyproject.toml").read_bytes() == before
    assert only_files(tmp_path) == ["pyproject.toml"]


def test_init_pyproject_invalid_toml_is_left_alone(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname = 1\n")
    result = pp("init", "--pyproject", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == "[project\nname = 1\n"


def test_index_add_needs_a_config_file(tmp_path):
    result = pp("index", "add", "corp", "https://pypi.example.com/simple/", cwd=tmp_path)
    assert result.returncode == 2
    assert "privpip init" in result.stderr
    assert only_files(tmp_path) == []


def test_index_add_refusals_leave_the_file_unchanged(tmp_path):
    assert pp("init", cwd=tmp_path).returncode == 0
    assert pp("index", "add", "corp", "https://pypi.example.com/simple/", "--default",
              cwd=tmp_path).returncode == 0
    path = tmp_path / "privpip.toml"
    before = path.read_bytes()
    cases = [
        (["corp", "https://other.example.com/simple/"], "already has an index named 'corp'"),
        (["two", "https://other.example.com/simple/", "--default"],
         "index 'corp' is already the default"),
        (["bad name", "https://other.example.com/simple/"], "not a valid index name"),
        (["plain", "http://pypi.example.com/simple/"], "clear text"),
        (["creds", f"https://user:{PLAIN_TOKEN}@pypi.example.com/simple/"],
         "argument URL has a credential in it"),
        (["env", "https://pypi.example.com/simple/", "--token-env", "NOT-A-VAR"],
         "not a valid environment variable name"),
    ]
    for args, message in cases:
        result = pp("index", "add", *args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert message in result.stderr, result.stderr
        # Bad arguments are refused before the file is read, and say so by naming the argument.
        assert "not changed" in result.stderr or "privpip: error: argument " in result.stderr \
            or "privpip: error: --" in result.stderr
        assert path.read_bytes() == before, args
    assert only_files(tmp_path) == ["privpip.toml"]


def test_index_add_refuses_when_text_cannot_be_appended(tmp_path):
    path = tmp_path / "privpip.toml"
    path.write_text('index = [{ name = "a", url = "https://pypi.example.com/simple/" }]\n')
    result = pp("index", "add", "b", "https://other.example.com/simple/", cwd=tmp_path)
    assert result.returncode == 2
    assert "was not changed" in result.stderr
    assert path.read_text().startswith("index = [")
    assert load(tmp_path) == [Index("a", "https://pypi.example.com/simple/")]


@pytest.mark.parametrize("url,kind", [(GITLAB_PROJECT, "project"), (GITLAB_GROUP, "group")])
def test_gitlab_urls_get_a_token_hint(tmp_path, url, kind):
    assert pp("init", cwd=tmp_path).returncode == 0
    result = pp("index", "add", "gl", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"this looks like a GitLab {kind} package registry" in result.stderr
    assert "deploy token" in result.stderr
    # One GitLab CI story everywhere: the job token needs no --token-env and no username.
    assert "the job token (CI_JOB_TOKEN, user gitlab-ci-token) is used with nothing to " \
        "configure" in result.stderr
    assert "--token-env" not in result.stderr
    plain = pp("index", "add", "other", "https://pypi.example.com/simple/", cwd=tmp_path)
    assert "GitLab" not in plain.stderr


def test_index_remove_keeps_everything_else(tmp_path):
    assert pp("init", cwd=tmp_path).returncode == 0
    for name in ("a", "b", "c"):
        assert pp("index", "add", name, f"https://{name}.example.com/simple/",
                  cwd=tmp_path).returncode == 0
    path = tmp_path / "privpip.toml"
    text = path.read_text()
    marker = '[[index]]\nname = "c"'
    path.write_text(text.replace(marker, "# c is the mirror of the vendor index\n" + marker))
    os.chmod(path, 0o640)
    started = path.read_text()

    result = pp("index", "remove", "b", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed index b" in result.stdout
    after = path.read_text()
    assert [i.name for i in load(tmp_path)] == ["a", "c"]
    assert comment_lines(after) == comment_lines(started)
    assert 'name = "b"' not in after and "b.example.com" not in after
    assert "\n\n\n" not in after
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the replacement kept the mode
    assert only_files(tmp_path) == ["privpip.toml"]

    assert pp("index", "remove", "c", cwd=tmp_path).returncode == 0
    assert pp("index", "remove", "a", cwd=tmp_path).returncode == 0
    assert load(tmp_path) == []
    assert comment_lines(path.read_text()) == comment_lines(started)

    missing = pp("index", "remove", "a", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no index named 'a'" in missing.stderr


def test_index_remove_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert pp("init", "--pyproject", cwd=tmp_path).returncode == 0
    assert pp("index", "add", "a", "https://a.example.com/simple/", cwd=tmp_path).returncode == 0
    assert pp("index", "add", "b", "https://b.example.com/simple/", cwd=tmp_path).returncode == 0
    result = pp("index", "remove", "a", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load(tmp_path) == [Index("b", "https://b.example.com/simple/")]
    assert (tmp_path / "pyproject.toml").read_text().startswith(PYPROJECT)


def test_crlf_file_stays_crlf(tmp_path):
    path = tmp_path / "privpip.toml"
    path.write_bytes(b"# windows file\r\n")
    assert pp("index", "add", "a", "https://a.example.com/simple/", cwd=tmp_path).returncode == 0
    data = path.read_bytes()
    assert data.startswith(b"# windows file\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert load(tmp_path) == [Index("a", "https://a.example.com/simple/")]


def test_index_add_edits_the_config_option_file(tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text("# shared\n")
    result = pp("--config", str(other), "index", "add", "a", "https://a.example.com/simple/",
                cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_file(other).indexes[0].name == "a"
    assert not (tmp_path / "privpip.toml").exists()


@pytest.mark.slow
def test_newcomer_flow_init_add_login_install_status(index_server, make_venv, tmp_path):
    """From nothing to an authenticated install, and a green preflight."""
    steps = [
        pp("init", cwd=tmp_path),
        pp("index", "add", "corp", index_server.url, "--default", cwd=tmp_path),
        pp("login", "corp", cwd=tmp_path, env=PLAINTEXT, input=PLAIN_TOKEN + "\n"),
    ]
    for step in steps:
        assert step.returncode == 0, step.stderr
    venv = make_venv()
    install = pp("--no-input", "install", "--python", venv_python(venv), "corp-dep",
                 cwd=tmp_path, env=PLAINTEXT, timeout=300)
    assert install.returncode == 0, install.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    check = pp("status", "--check", cwd=tmp_path, env=PLAINTEXT)
    assert check.returncode == 0, check.stdout
    assert table(check.stdout)[1][4:7] == ["keyring", "ok", "200"]
