"""`privpip git-credential`: git's helper protocol, hostile requests, and real `git credential`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privpip.context import Context
from privpip.core import pipargs
from privpip.errors import UsageError
from privpip.run.delivery import git as git_delivery
from privpip.run.delivery import git_helper
from tests.helpers import TESTS, privpip, write_config

HOST = "gitlab.example.com"
TOKEN = "git-Token_42.xyz"
CONFIG = (
    '[[index]]\nname = "corp"\nurl = "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple/"\n'
    f'[[git]]\nhost = "{HOST}"\n'
    '[[git]]\nhost = "127.0.0.1:8929"\nusername = "deploy-9"\ntoken-env = "DEPLOY_TOKEN"\n'
)
ANSWER = f"username=oauth2\npassword={TOKEN}\n"



@pytest.fixture(autouse=True)
def _trusted(monkeypatch):
    """These tests wrote their config themselves: trusted (tests/test_trust.py tests trust)."""
    monkeypatch.setenv("PRIVPIP_TRUST", "1")

@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_config(tmp_path, CONFIG)
    return tmp_path


def helper_env(project: Path, **extra: str) -> dict[str, str]:
    return {"PRIVPIP_CONFIG": str(project / "privpip.toml"),
            "PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN": TOKEN, **extra}


def ask(project: Path, request: str | bytes, operation: str = "get",
        **extra: str) -> tuple[str, str]:
    """Run the helper in-process (fast); returns (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    data = request.encode() if isinstance(request, str) else request
    env = {**os.environ, **helper_env(project, **extra)}
    assert git_helper.answer(operation, data, env, out, err) == 0
    return out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------
# the protocol, through the real command


def test_get_answers_configured_host(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = privpip("git-credential", "get", input=f"protocol=https\nhost={HOST}\n\n",
                     cwd=elsewhere, env=helper_env(project))
    assert (result.returncode, result.stdout, result.stderr) == (0, ANSWER, "")


@pytest.mark.parametrize("operation", ["store", "erase", "frobnicate"])
def test_other_operations_do_nothing(project, operation):
    request = f"protocol=https\nhost={HOST}\nusername=oauth2\npassword={TOKEN}\n\n"
    result = privpip("git-credential", operation, input=request, env=helper_env(project))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hidden_from_help():
    result = privpip("--help")
    assert result.returncode == 0
    assert "git-credential" not in result.stdout


def test_never_searches_the_current_directory(tmp_path):
    """A checkout git runs the helper in could plant a privpip.toml naming its own host."""
    write_config(tmp_path, '[[git]]\nhost = "evil.example.com"\ntoken-env = "HOME"\n')
    result = privpip("git-credential", "get", input="protocol=https\nhost=evil.example.com\n\n",
                     cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


def test_missing_credential_explains_on_stderr(project):
    env = helper_env(project)
    del env["PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN"]
    result = privpip("git-credential", "get", input=f"protocol=https\nhost={HOST}\n\n", env=env)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.startswith(
        "privpip git-credential: no credential for git host gitlab.example.com; tried:\n"
        "  - env:PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN: not set\n"
        "  - keyring: no entry for git:https://gitlab.example.com and user 'oauth2'\n"
        "  - index 'corp': env:PRIVPIP_INDEX_CORP_TOKEN: not set;")


# ---------------------------------------------------------------------------
# where the token comes from


def test_token_env_and_username(project):
    out, _ = ask(project, "protocol=http\nhost=127.0.0.1:8929\n\n", DEPLOY_TOKEN="dt-123")
    assert out == "username=deploy-9\npassword=dt-123\n"


def test_username_override_variable(project):
    out, _ = ask(project, f"protocol=https\nhost={HOST}\n\n",
                 PRIVPIP_GIT_GITLAB_EXAMPLE_COM_USERNAME="gitlab-ci-token")
    assert out == f"username=gitlab-ci-token\npassword={TOKEN}\n"


def test_reuses_index_credential_on_same_host(project):
    out, _ = ask(project, f"protocol=https\nhost={HOST}\n\n",
                 PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN="", PRIVPIP_INDEX_CORP_TOKEN="index-tok")
    # The index's "__token__" is PyPI's convention; git gets the host's default username.
    assert out == "username=oauth2\npassword=index-tok\n"


def test_reuses_index_username_when_it_is_real(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://gitlab.example.com/simple/"\n'
                 'username = "gitlab+deploy-token-5"\n[[git]]\nhost = "gitlab.example.com"\n')
    out, _ = ask(tmp_path, f"protocol=https\nhost={HOST}\n\n",
                 PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN="", PRIVPIP_INDEX_CORP_TOKEN="gldt-x")
    assert out == "username=gitlab+deploy-token-5\npassword=gldt-x\n"


def test_keyring_service_git_https_host(project, isolated):
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-c", "import keyring; keyring.set_password("
                    "'git:https://gitlab.example.com', 'oauth2', 'from-keyring')"],
                   env={**os.environ, **env}, check=True)
    result = privpip("git-credential", "get", input=f"protocol=https\nhost={HOST}\n\n",
                     env={**helper_env(project, **env), "PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN": ""})
    assert result.stdout == "username=oauth2\npassword=from-keyring\n", result.stderr


# ---------------------------------------------------------------------------
# only the configured host, and nothing doubtful


@pytest.mark.parametrize("request_text", [
    f"protocol=https\r\nhost={HOST}\r\n\r\n",  # CRLF line ends, as git itself accepts
    f"protocol=https\nhost={HOST}\n",  # no blank line: end of input ends the request
    f"protocol=https\nhost={HOST}:443\npath=group/dep.git\n\n",
    "protocol=https\nhost=GitLab.Example.COM\n\n",
    f"protocol=https\nhost={HOST}\nusername=oauth2\ncapability[]=authtype\nwwwauth[]=Basic\n\n",
    f"protocol=https\nhost={HOST}\n\nhost=evil.example.com\n",  # after the blank line: ignored
])
def test_answered(project, request_text):
    assert ask(project, request_text)[0] == ANSWER


@pytest.mark.parametrize("request_text", [
    "protocol=https\nhost=evil.example.com\n\n",
    f"protocol=https\nhost={HOST}.evil.example.com\n\n",
    f"protocol=https\nhost=evil.example.com/{HOST}\n\n",
    f"protocol=https\nhost=evil.example.com@{HOST}\n\n",
    f"protocol=https\nhost={HOST}@evil.example.com\n\n",
    f"protocol=https\nhost={HOST}:444\n\n",
    f"protocol=https\nhost={HOST}:\n\n",
    f"protocol=http\nhost={HOST}\n\n",  # clear text to a non-loopback host
    f"protocol=ssh\nhost={HOST}\n\n",
    f"protocol=HTTPS\nhost={HOST}\n\n",
    "protocol=http\nhost=127.0.0.1:8930\n\n",
    "protocol=http\nhost=127.0.0.1\n\n",
    f"host={HOST}\n\n",  # no protocol
    "protocol=https\n\n",  # no host
    f"url=https://{HOST}/group/dep.git\n\n",
    f"protocol=https\nhost=\n\nhost={HOST}\n",
    "protocol=https\nhost=evil.example.com\n\nprotocol=https\nhost=gitlab.example.com\n",
    # CVE-2024-52006: a helper reading CR as a line end would see host=gitlab.example.com.
    f"protocol=https\nhost=evil.example.com\rhost={HOST}\n\n",
    f"protocol=https\rhost={HOST}\n\n",
    f"protocol=https\nhost={HOST}\r\rpath=x\n\n",
    # CVE-2020-5260 shapes: a newline or NUL smuggled into a value.
    f"protocol=https\nhost=evil.example.com\0\nhost={HOST}\n\n",
    f"protocol=https\nhost={HOST}\0evil\n\n",
    f"protocol=https\nhost=evil.example.com\nhost={HOST}\n\n",  # repeated key
    f"protocol=https\nhost={HOST}\nhost=evil.example.com\n\n",
    f"protocol=https\nhost={HOST}\ngarbage-line\n\n",
    f"protocol=https\nhost={HOST}\nusername=someone-else\n\n",
    b"protocol=https\nhost=gitlab.example.com\xff\n\n",
    b"protocol=https\nhost=gitlab.example.com\n" + b"x=" + b"y" * 70000 + b"\n\n",
    b"",
    b"\n\n\n",
])
def test_refused(project, request_text):
    out, _ = ask(project, request_text)
    assert out == ""


def test_refusals_go_through_the_real_command_without_traceback(project):
    result = privpip("git-credential", "get",
                     input=f"protocol=https\nhost=evil.example.com\rhost={HOST}\n\n",
                     env=helper_env(project))
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == ("privpip git-credential: ignoring the request: request contains a "
                             "carriage return inside a line\n")


_pieces = st.sampled_from([
    "protocol=https", "protocol=http", "host=gitlab.example.com", "host=evil.example.com",
    "host=gitlab.example.com:443", "host=127.0.0.1:8929", "host=GITLAB.example.com",
    "username=oauth2", "path=a/b", "=", "host=", "\r", "\n", "\0", "\r\n", "x", "@", ":",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=12), st.text(max_size=8))
def test_fuzz_never_answers_for_another_host(tmp_path_factory, pieces, noise):
    project = tmp_path_factory.mktemp("fuzz")
    write_config(project, CONFIG)
    request = "".join(pieces) + noise
    out, _ = ask(project, request, DEPLOY_TOKEN="dt-123")
    if not out:
        return
    block = request.split("\n\n")[0]
    # However a reader splits lines (LF, CR, CRLF), every host line names a configured host.
    import re

    hosts = [line[5:] for line in re.split(r"\r\n|\r|\n", block) if line.startswith("host=")]
    assert hosts
    assert {h.lower() for h in hosts} <= {HOST, HOST + ":443", "127.0.0.1:8929"}
    assert "\0" not in block


# ---------------------------------------------------------------------------
# the environment privpip gives its child, with real git


def context(project: Path, **env: str) -> Context:
    return Context(env={**os.environ, **env}, cwd=project)


def test_git_environment_appends_to_existing_entries(project):
    existing = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.askPass",
                "GIT_CONFIG_VALUE_0": ""}
    add = git_delivery.git_environment(context(project), existing)
    # 1 existing + (reset, helper) for https://HOST, https://LOOPBACK and http://LOOPBACK
    assert add["GIT_CONFIG_COUNT"] == "7"
    assert "GIT_CONFIG_KEY_0" not in add
    assert [add[f"GIT_CONFIG_KEY_{n}"] for n in range(1, 7)] == [
        "credential.https://gitlab.example.com.helper"] * 2 + [
        "credential.https://127.0.0.1:8929.helper"] * 2 + [
        "credential.http://127.0.0.1:8929.helper"] * 2
    assert add["GIT_CONFIG_VALUE_1"] == ""
    assert add["GIT_CONFIG_VALUE_2"].startswith("!")
    assert add["GIT_CONFIG_VALUE_2"].endswith(" git-credential")
    assert add["PRIVPIP_CONFIG"] == str((project / "privpip.toml").resolve())
    assert not any(TOKEN in v for v in add.values())


def test_git_environment_bad_count(project):
    with pytest.raises(UsageError, match="GIT_CONFIG_COUNT is set to 'x'"):
        git_delivery.git_environment(context(project), {"GIT_CONFIG_COUNT": "x"})


def test_no_git_hosts_no_environment(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://example.com/simple/"\n')
    assert git_delivery.git_environment(context(tmp_path), {}) == {}


def git_env(project: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "GIT_TERMINAL_PROMPT": "0",
           "GIT_ASKPASS": "", "SSH_ASKPASS": "", **extra}
    env.update(git_delivery.git_environment(context(project), env))
    return env


def fill(env: dict[str, str], request: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "credential", "fill"], input=request, env=env,
                          capture_output=True, text=True, timeout=60)


def test_git_credential_fill_configured_host(project, isolated):
    # A global helper the user already has must neither answer nor be told to store.
    (isolated / ".gitconfig").write_text(
        "[credential]\n\thelper = \"!echo username=wrong; echo password=wrong; true\"\n")
    env = git_env(project, PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN=TOKEN)
    result = fill(env, f"protocol=https\nhost={HOST}\npath=group/dep.git\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"protocol=https\nhost={HOST}\nusername=oauth2\npassword={TOKEN}\n"


def test_git_credential_fill_loopback_http(project):
    env = git_env(project, DEPLOY_TOKEN="dt-123")
    result = fill(env, "protocol=http\nhost=127.0.0.1:8929\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("username=deploy-9\npassword=dt-123\n")


@pytest.mark.parametrize("request_text", [
    "protocol=https\nhost=evil.example.com\n\n",
    f"protocol=https\nhost={HOST}:8443\n\n",
    f"protocol=http\nhost={HOST}\n\n",
    "protocol=http\nhost=127.0.0.1:8930\n\n",
])
def test_git_credential_fill_other_hosts_get_nothing(project, request_text):
    env = git_env(project, PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN=TOKEN, DEPLOY_TOKEN="dt-123")
    result = fill(env, request_text)
    assert result.returncode != 0
    assert TOKEN not in result.stdout and "dt-123" not in result.stdout
    assert "terminal prompts disabled" in result.stderr


def test_helper_command_survives_hostile_interpreter_path(tmp_path, project):
    """The helper value is run by sh: a path with spaces and quotes must stay one word."""
    odd = tmp_path / "it's a $(dir)"
    odd.mkdir()
    link = odd / "python"
    link.symlink_to(sys.executable)
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "GIT_TERMINAL_PROMPT": "0",
           "PRIVPIP_CONFIG": str(project / "privpip.toml"),
           "PRIVPIP_GIT_GITLAB_EXAMPLE_COM_TOKEN": TOKEN,
           "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"credential.https://{HOST}.helper",
           "GIT_CONFIG_VALUE_0": git_delivery.helper_command(str(link))}
    result = fill(env, f"protocol=https\nhost={HOST}\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"password={TOKEN}\n")


# ---------------------------------------------------------------------------
# when git's version is checked


@pytest.mark.parametrize(("argv", "expected"), [
    (["install", "git+https://gitlab.example.com/g/dep.git@v1"], True),
    (["install", "-e", "git+http://127.0.0.1:9/dep.git#egg=dep"], True),
    (["install", "dep @ git+https://gitlab.example.com/g/dep.git"], True),
    (["install", "corp-lib==1.2"], False),
    (["install", "legit+https://x"], False),
    (["install", "-r", "reqs.txt"], True),
    (["install", "-rreqs.txt"], True),
    (["install", "--requirement=reqs.txt"], True),
    (["install", "-c", "plain.txt"], False),
    (["install", "--constraint=reqs.txt"], True),
    (["install", "-r", "missing.txt"], False),
])
def test_mentions_git(tmp_path, argv, expected):
    (tmp_path / "reqs.txt").write_text("corp-lib\ngit+https://gitlab.example.com/g/dep.git\n")
    (tmp_path / "plain.txt").write_text("corp-lib==1.0\n")
    assert pipargs.walk(argv, tmp_path).mentions_git is expected


def test_helper_command_holds_no_secret_and_no_cwd(project):
    env = helper_env(project)
    command = git_delivery.helper_command()
    assert command.startswith("!")
    assert TOKEN not in command and all(v not in command for v in env.values() if v != "")
    assert command.endswith(" git-credential")


def test_checkout_cannot_shadow_the_helper(tmp_path, project):
    """git runs helpers inside checkouts; a planted privpip/ package there must not run."""
    checkout = tmp_path / "checkout"
    (checkout / "privpip").mkdir(parents=True)
    (checkout / "privpip" / "__init__.py").write_text(
        "open('HIJACKED', 'w').close()\n__version__ = '0'\n")
    (checkout / "privpip" / "cli.py").write_text("def main():\n    print('password=stolen')\n")
    env = {**os.environ, **helper_env(project), "PYTHONPATH": ""}
    command = git_delivery.helper_command()[1:] + " get"
    result = subprocess.run(["sh", "-c", command], cwd=checkout, env=env, capture_output=True,
                            text=True, input=f"protocol=https\nhost={HOST}\n\n", timeout=60)
    assert (result.stdout, result.stderr) == (ANSWER, "")
    assert not (checkout / "HIJACKED").exists()
