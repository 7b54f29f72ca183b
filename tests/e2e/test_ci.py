"""CI: the GitLab CI job token, `env --shell gitlab` and `env --shell github` ($GITHUB_ENV)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from privpip.run import shells
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    TESTS,
    IndexServer,
    installed,
    privpip,
    start_pypiserver,
    venv_python,
    write_config,
    write_htpasswd,
)

JOB_TOKEN = "job-token-for-tests-0123"


@pytest.fixture(scope="module")
def gitlab_like(index_server, tmp_path_factory):
    """The same packages, served to the user gitlab-ci-token with the job token."""
    base = tmp_path_factory.mktemp("gitlab")
    htpasswd = write_htpasswd(base / "htpasswd", {"gitlab-ci-token": JOB_TOKEN})
    process, root = start_pypiserver(index_server.packages, htpasswd, "download,list",
                                     base / "server.log")
    yield IndexServer(root, index_server.packages, {"gitlab-ci-token": JOB_TOKEN}, process)
    process.terminate()
    process.wait(10)


def in_gitlab_ci(host: str = "127.0.0.1") -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_JOB_TOKEN": JOB_TOKEN, "CI_SERVER_HOST": host}


def test_gitlab_ci_job_token_installs(gitlab_like, make_venv, tmp_path):
    write_config(tmp_path, gitlab_like.config())
    venv = make_venv()
    result = privpip("-v", "install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env=in_gitlab_ci())
    assert result.returncode == 0, result.stderr
    assert "index corp: token from env:CI_JOB_TOKEN (user gitlab-ci-token)" in result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert JOB_TOKEN not in result.stdout + result.stderr


def test_job_token_not_sent_to_another_host(gitlab_like, tmp_path):
    write_config(tmp_path, gitlab_like.config())
    result = privpip("env", cwd=tmp_path, env=in_gitlab_ci("gitlab.example.com"))
    assert result.returncode == 77
    assert "no credential for index 'corp'" in result.stderr
    assert JOB_TOKEN not in result.stdout + result.stderr


def test_shell_gitlab_exports_for_before_script(index_server, tmp_path):
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    script = ('eval "$(PYTHONPATH="$CHECKOUT" "$PY" -m privpip env --shell gitlab)" && '
              'printf "%s\\n%s" "$UV_INDEX_CORP_PASSWORD" "$PIP_INDEX_URL"')
    result = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env={**_base_env(), "PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN,
             "CHECKOUT": str(TESTS.parent), "PY": sys.executable},
    )
    assert result.returncode == 0, result.stderr
    password, url = result.stdout.split("\n")
    assert password == HOSTILE_TOKEN
    assert url == index_server.url.replace(
        "http://", f"http://{quote(HOSTILE_USER, safe='')}:{quote(HOSTILE_TOKEN, safe='')}@")
    assert not (tmp_path / "pwned").exists()


def _base_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def read_github_env(text: str) -> dict[str, str]:
    """$GITHUB_ENV as the runner reads it: NAME=VALUE or NAME<<DELIMITER ... DELIMITER."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(block)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def test_shell_github_appends_to_github_env_and_masks_on_stderr(index_server, tmp_path):
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    github_env = tmp_path / "github_env"
    github_env.write_text("EARLIER=1\n")
    script = 'PYTHONPATH="$CHECKOUT" "$PY" -m privpip env --shell github >> "$GITHUB_ENV"'
    result = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env={**_base_env(), "PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN,
             "GITHUB_ENV": str(github_env), "CHECKOUT": str(TESTS.parent),
             "PY": sys.executable},
    )
    assert result.returncode == 0, result.stderr
    variables = read_github_env(github_env.read_text())
    assert variables.pop("EARLIER") == "1"
    assert variables["UV_INDEX_CORP_PASSWORD"] == HOSTILE_TOKEN
    assert variables["UV_INDEX_CORP_USERNAME"] == HOSTILE_USER
    assert variables["PIP_INDEX_URL"] == index_server.url.replace(
        "http://", f"http://{quote(HOSTILE_USER, safe='')}:{quote(HOSTILE_TOKEN, safe='')}@")
    assert "::" not in github_env.read_text().replace("http://", "")
    escaped = HOSTILE_TOKEN.replace("%", "%25")
    masks = result.stderr.splitlines()
    assert f"::add-mask::{escaped}" in masks
    assert f"::add-mask::{quote(HOSTILE_TOKEN, safe='').replace('%', '%25')}" in masks
    assert result.stdout == ""


def test_github_delimiters_are_random_and_not_in_the_value():
    first = shells.export("github", {"A": "x"})
    second = shells.export("github", {"A": "x"})
    assert first != second
    name, rest = first.split("<<", 1)
    delimiter = rest.split("\n", 1)[0]
    assert name == "A" and delimiter.startswith("ghadelimiter_") and len(delimiter) > 30
    assert first == f"A<<{delimiter}\nx\n{delimiter}\n"
    # a multi-line value survives; a value trying to end the block early cannot
    assert read_github_env(shells.export("github", {"A": "l1\nl2\nEOF\nB=evil"})) == \
        {"A": "l1\nl2\nEOF\nB=evil"}


def test_github_masks_escape_like_actions_core():
    assert shells.github_masks(["a%b", "c\nd", "a%b", ""]) == \
        "::add-mask::a%25b\n::add-mask::c%0Ad\n"


def test_shell_github_unset_is_refused(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("env", "--shell", "github", "--unset", cwd=tmp_path)
    assert result.returncode == 2
    assert "--unset has no meaning for $GITHUB_ENV" in result.stderr


def test_shell_github_env_plain_token(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("env", "--shell", "github", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"::add-mask::{PLAIN_TOKEN}\n"
    assert read_github_env(result.stdout)["UV_INDEX_CORP_PASSWORD"] == PLAIN_TOKEN


def test_three_line_gitlab_config_in_ci_fills_url_and_uses_job_token(tmp_path):
    """`provider = "gitlab"` alone: CI_API_V4_URL and CI_PROJECT_ID fill the URL (no network)."""
    write_config(tmp_path, '[[index]]\nname = "corp"\nprovider = "gitlab"\n')
    env = {**in_gitlab_ci("gitlab.example.com"), "CI_PROJECT_ID": "42",
           "CI_API_V4_URL": "https://gitlab.example.com/api/v4"}
    result = privpip("env", "--shell", "gitlab", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert ("export PIP_EXTRA_INDEX_URL=https://gitlab-ci-token:job-token-for-tests-0123"
            "@gitlab.example.com/api/v4/projects/42/packages/pypi/simple\n") in result.stdout
    outside = privpip("env", cwd=tmp_path, env={**env, "GITLAB_CI": ""})
    assert outside.returncode == 2
    assert "index[0] ('corp').host: is missing" in outside.stderr
