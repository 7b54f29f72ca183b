"""Issue 13, parts 1 and 2: hints that name the real fix, the install-method hint, the opt-in
token file, one login for a host, exit codes, status in GitLab CI. Real CLI, real keyring
backends in the isolated HOME."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from privpip import credentials
from privpip.config.model import Index
from privpip.core import identity
from privpip.credentials import filestore
from privpip.errors import CredentialNotFound
from privpip.ui import installed
from tests.helpers import privpip, write_config

URL = "https://pypi.example.com/simple/"
FILE_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
NO_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def corp(tmp_path: Path, url: str = URL, extra: str = "") -> None:
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{url}"\n{extra}')


# -- how privpip was installed ------------------------------------------------------------


def test_pipx_layout_by_metadata_and_by_directory(tmp_path):
    venv = tmp_path / "anywhere" / "privpip"
    venv.mkdir(parents=True)
    (venv / "pipx_metadata.json").write_text("{}")
    found = installed.detect({"HOME": str(tmp_path)}, str(venv), "/usr", "/x/bin/python")
    assert found.layout == "pipx"
    assert installed.add_command("keyrings.alt", found) == "pipx inject privpip keyrings.alt"
    # No metadata file, but inside PIPX_HOME/venvs
    home = tmp_path / "pipxhome"
    (home / "venvs" / "privpip").mkdir(parents=True)
    found = installed.detect({"PIPX_HOME": str(home)}, str(home / "venvs" / "privpip"), "/usr",
                             "/x/bin/python")
    assert found.layout == "pipx"
    # pipx's default home under the XDG data dir
    data = tmp_path / "data"
    (data / "pipx" / "venvs" / "privpip").mkdir(parents=True)
    found = installed.detect({"XDG_DATA_HOME": str(data), "HOME": str(tmp_path)},
                             str(data / "pipx" / "venvs" / "privpip"), "/usr", "/x/bin/python")
    assert found.layout == "pipx"


def test_uv_tool_layout(tmp_path):
    tools = tmp_path / "tools"
    (tools / "privpip").mkdir(parents=True)
    found = installed.detect({"UV_TOOL_DIR": str(tools)}, str(tools / "privpip"), "/usr",
                             "/x/bin/python")
    assert found.layout == "uv-tool"
    assert (installed.add_command("keyrings.alt", found)
            == "uv tool install privpip --with keyrings.alt")
    other = tmp_path / "elsewhere" / "privpip"
    other.mkdir(parents=True)
    (other / "uv-receipt.toml").write_text("[tool]\n")
    assert installed.detect({"HOME": str(tmp_path)}, str(other), "/usr", "x").layout == "uv-tool"


def test_venv_and_system_layouts(tmp_path):
    venv = tmp_path / "my env"
    venv.mkdir()
    python = str(venv / "bin" / "python")
    found = installed.detect({"HOME": str(tmp_path)}, str(venv), "/usr", python)
    assert found.layout == "venv"
    assert installed.add_command("keyrings.alt", found) == f"'{python}' -m pip install keyrings.alt"
    found = installed.detect({"HOME": str(tmp_path)}, "/usr", "/usr", "/usr/bin/python3")
    assert found.layout == "system"
    assert (installed.add_command("keyrings.alt", found)
            == "/usr/bin/python3 -m pip install --user keyrings.alt")


def test_login_without_keyring_names_the_command_for_this_installation(tmp_path):
    corp(tmp_path)
    result = privpip("login", "corp", "--no-insecure-fallback", cwd=tmp_path, env=NO_BACKEND,
                     input="tok\n")
    assert result.returncode == 1
    expected = installed.add_command("keyrings.alt", installed.detect(os.environ))
    assert f"`{expected}`" in result.stderr
    assert "`pip install keyrings.alt`" not in result.stderr
    assert "PRIVPIP_INDEX_CORP_TOKEN" in result.stderr


# -- hints name the real variable; no `login` without a keyring -------------------------------


def test_missing_credential_without_keyring_does_not_suggest_login(tmp_path):
    """When the token file is refused, `privpip login` cannot keep a token here."""
    corp(tmp_path)
    for env in (NO_BACKEND, {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}):
        env = {**env, "PRIVPIP_NO_INSECURE_FALLBACK": "1"}
        result = privpip("--no-input", "env", cwd=tmp_path, env=env)
        assert result.returncode == 77, result.stderr
        hint = result.stderr.split("hint:", 1)[1]
        assert "set PRIVPIP_INDEX_CORP_TOKEN" in hint
        assert "`privpip login corp`" not in hint
        assert "<NAME>" not in result.stderr


def test_missing_credential_with_keyring_suggests_login(tmp_path):
    corp(tmp_path)
    result = privpip("--no-input", "env", cwd=tmp_path, env=FILE_BACKEND)
    assert result.returncode == 77
    assert "hint: run `privpip login corp`, or set PRIVPIP_INDEX_CORP_TOKEN" in result.stderr


def test_credentials_in_config_url_hint_names_the_variable(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp-py"\nurl = "https://u:t@h.example/simple/"\n')
    result = privpip("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "PRIVPIP_INDEX_CORP_PY_TOKEN or `privpip login corp-py`" in result.stderr


# -- index add: command-line arguments are arguments ----------------------------------------


def test_index_add_with_credential_in_url(tmp_path):
    privpip("init", cwd=tmp_path)
    before = (tmp_path / "privpip.toml").read_text()
    result = privpip("index", "add", "pub", "https://user:s3cr3t-TOKEN@host.example/simple/",
                     cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "privpip: error: argument URL has a credential in it (user:token@); a token on the "
        "command line ends up in your shell history and must not go into a config file\n"
        "  hint: add the index without it, then store the token: `privpip index add pub "
        "https://host.example/simple/ --username user` and `privpip login pub`\n")
    assert "s3cr3t-TOKEN" not in result.stdout + result.stderr
    assert (tmp_path / "privpip.toml").read_text() == before


def test_index_add_bad_arguments_name_the_argument(tmp_path):
    privpip("init", cwd=tmp_path)
    result = privpip("index", "add", "pub", "ftp://host.example/simple/", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("privpip: error: argument URL: must be an http(s) URL")
    assert "index[" not in result.stderr and "privpip.toml" not in result.stderr
    result = privpip("index", "add", "p b", "https://host.example/simple/", cwd=tmp_path)
    assert result.stderr.startswith("privpip: error: argument NAME: 'p b' is not a valid")
    result = privpip("index", "add", "pub", "https://host.example/simple/", "-u", "a:b",
                     cwd=tmp_path)
    assert result.stderr.startswith("privpip: error: --username: must not contain ':'")


# -- exit codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("delivery", "used"), [([], "local"), (["--delivery", "netrc"], "netrc")])
def test_run_missing_command_exits_127_and_not_executable_126(tmp_path, delivery, used):
    corp(tmp_path)
    env = {"PRIVPIP_INDEX_CORP_TOKEN": "tok-corp"}
    result = privpip("-v", "run", *delivery, "--", "no-such-command-xyz", cwd=tmp_path, env=env)
    assert f"privpip: delivery: {used}" in result.stderr
    assert result.returncode == 127, result.stderr
    assert "privpip: error: cannot run no-such-command-xyz: No such file or directory" in (
        result.stderr)
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\n")
    result = privpip("run", *delivery, "--", str(script), cwd=tmp_path, env=env)
    assert result.returncode == 126, result.stderr
    assert "Permission denied" in result.stderr


def test_exit_code_table_is_the_one_documented():
    from privpip.errors import NO_CREDENTIAL, CannotRun, CredentialNotFound

    assert CredentialNotFound("x", [], "").exit_code == NO_CREDENTIAL == 77
    assert CannotRun("x").exit_code == 127 and CannotRun("x", not_found=False).exit_code == 126
    page = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text()
    table = page.split("## Exit codes", 1)[1]
    for code in ("| 77 |", "| 126 |", "| 127 |", "| 70 |", "| 2 |"):
        assert code in table
    assert page.count("## Exit codes") == 1


# -- the opt-in token file ------------------------------------------------------------------


def test_insecure_storage_round_trip(tmp_path):
    corp(tmp_path, extra='username = "reader"\n')
    result = privpip("login", "corp", "--insecure-storage", "--no-verify", cwd=tmp_path,
                     env=NO_BACKEND, input="file-token-123\n")
    assert result.returncode == 0, result.stderr
    file = filestore.path(os.environ)
    assert str(file) in result.stdout
    assert "not encrypted" in result.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert json.loads(file.read_text())["tokens"] == [
        {"service": URL, "username": "reader", "token": "file-token-123"}]

    result = privpip("status", cwd=tmp_path, env=NO_BACKEND)
    assert result.returncode == 0, result.stderr
    assert "reader    file" in result.stdout
    assert "file-token-123" not in result.stdout + result.stderr
    result = privpip("-v", "env", cwd=tmp_path, env=NO_BACKEND)
    assert f"index corp: token from file {file} (user reader)" in result.stderr

    result = privpip("logout", "corp", cwd=tmp_path, env=NO_BACKEND)
    assert result.returncode == 0, result.stderr
    assert "from privpip's token file" in result.stdout
    assert not file.exists()
    # Again: nothing in the file, and no keyring backend that could hold an entry.
    result = privpip("logout", "corp", cwd=tmp_path, env=NO_BACKEND)
    assert result.returncode == 0 and "nothing to remove" in result.stdout
    result = privpip("logout", "corp", cwd=tmp_path, env=FILE_BACKEND)
    assert result.returncode == 0 and "nothing to remove" in result.stdout


def test_token_file_is_not_used_when_refused(tmp_path):
    corp(tmp_path)
    for refuse in ({}, {"PRIVPIP_NO_INSECURE_FALLBACK": "1"}):
        args = () if refuse else ("--no-insecure-fallback",)
        result = privpip("login", "corp", "--no-verify", *args, cwd=tmp_path,
                         env={**NO_BACKEND, **refuse}, input="tok\n")
        assert result.returncode == 1
        assert not filestore.path(os.environ).exists()


def test_token_file_open_to_others_is_refused(tmp_path):
    corp(tmp_path)
    env = dict(os.environ)
    filestore.set(env, URL, "__token__", "tok")
    os.chmod(filestore.path(env), 0o644)
    result = privpip("--no-input", "env", cwd=tmp_path, env=NO_BACKEND)
    assert result.returncode == 77
    assert "is open to other users" in result.stderr and "chmod 600" in result.stderr


# -- one login for a host; normalized services ------------------------------------------------


def index(url: str, name: str = "corp") -> Index:
    return Index(name=name, url=url)


def test_same_service_ignores_host_case_and_trailing_slash():
    assert identity.same_service("https://H.Example/simple/", "https://h.example/simple")
    assert not identity.same_service("https://h.example/simple/", "https://h.example/other/")
    assert not identity.same_service("git:https://h", "git:https://H")
    assert identity.keyring_services("https://H.example/simple/") == [
        "https://H.example/simple/", "https://h.example/simple/", "https://h.example/simple"]


class DictStore:
    def __init__(self, entries: dict[tuple[str, str], str]) -> None:
        self.entries = entries

    def get(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))


def test_lookup_finds_an_entry_written_with_another_spelling():
    store = DictStore({("https://pypi.example.com/simple", "__token__"): "tok-1"})
    cred = credentials.Resolver({}, store).index(index("https://PYPI.example.com/simple/"))
    assert cred is not None and cred.token.reveal() == "tok-1" and cred.source == "keyring"


def test_host_entry_serves_every_index_on_the_host_only_when_stored_for_it():
    group = index("https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple", "group")
    project = index("https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple", "proj")
    # An entry of one index does not leak to another.
    own = DictStore({(project.url, "__token__"): "tok-proj"})
    with pytest.raises(CredentialNotFound):
        credentials.Resolver({}, own).index(group)
    # An entry for the host (login --for-host) serves both; an index's own entry wins.
    shared = DictStore({("gitlab.example.com", "__token__"): "tok-host",
                        (project.url, "__token__"): "tok-proj"})
    got = credentials.Resolver({}, shared).index(group)
    assert got is not None and got.token.reveal() == "tok-host"
    assert got.source == "keyring:gitlab.example.com"
    got = credentials.Resolver({}, shared).index(project)
    assert got is not None and got.token.reveal() == "tok-proj"


def test_login_for_host_cli(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "a"\nurl = "{URL}"\n'
                 '[[index]]\nname = "b"\nurl = "https://PyPI.example.com/other/simple/"\n')
    result = privpip("login", "a", "--for-host", "--no-verify", cwd=tmp_path, env=FILE_BACKEND,
                     input="host-token\n")
    assert result.returncode == 0, result.stderr
    assert "under pypi.example.com" in result.stdout
    result = privpip("status", cwd=tmp_path, env=FILE_BACKEND)
    assert result.stdout.count("keyring:pypi.example.com") == 2, result.stdout
    result = privpip("logout", "b", "--for-host", cwd=tmp_path, env=FILE_BACKEND)
    assert "removed" in result.stdout
    result = privpip("status", cwd=tmp_path, env=FILE_BACKEND)
    assert result.stdout.count("missing") == 2


# -- status in GitLab CI ---------------------------------------------------------------------


def test_status_in_gitlab_ci_has_no_keyring_warning(tmp_path):
    corp(tmp_path, url="https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple")
    env = {**NO_BACKEND, "GITLAB_CI": "true", "CI_JOB_TOKEN": "job-tok",
           "CI_SERVER_HOST": "gitlab.example.com"}
    result = privpip("status", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "env:CI_JOB_TOKEN" in result.stdout
    assert "keyring" not in result.stdout + result.stderr
    # Outside CI the same machine does warn.
    result = privpip("status", cwd=tmp_path, env=NO_BACKEND)
    assert "keyring:" in result.stdout


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("POSIX modes")


# -- global flags after the command name --------------------------------------------------------


def test_global_flags_after_the_command_name(tmp_path):
    corp(tmp_path)
    env = {"PRIVPIP_INDEX_CORP_TOKEN": "tok-corp"}
    before = privpip("-v", "status", cwd=tmp_path, env=env)
    after = privpip("status", "-v", cwd=tmp_path, env=env)
    assert after.returncode == 0, after.stderr
    assert "privpip: config: " in after.stderr
    assert (before.stdout, before.stderr) == (after.stdout, after.stderr)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = privpip("status", "--config", str(tmp_path / "privpip.toml"), cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert "corp" in result.stdout
    result = privpip("index", "add", "pub", "https://pub.example/simple/", "--no-auth", "--config",
                     str(tmp_path / "privpip.toml"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "pub" in (tmp_path / "privpip.toml").read_text()
    result = privpip("run", "-v", "--", sys.executable, "-c", "pass", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "privpip: index corp: token from env:PRIVPIP_INDEX_CORP_TOKEN" in result.stderr
    # After COMMAND, -v is COMMAND's.
    result = privpip("run", "--", sys.executable, "-c", "import sys; print(sys.argv[1:])", "-v",
                     cwd=tmp_path, env=env)
    assert result.stdout.strip() == "['-v']"
    assert "privpip: index corp" not in result.stderr


def test_no_input_after_the_command_name_never_prompts(tmp_path):
    from tests.unit.test_prompt import run_on_terminal

    corp(tmp_path)
    code, output = run_on_terminal(["env", "--no-input"], tmp_path, b"unused")
    assert code == 77
    assert b"Token for corp" not in output
