"""`status` and `index list` for people: whole names at 80 columns, long URLs on their own line,
colour only where asked for, spinners only on a terminal, and the JSON shape for scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from privpip.ui import terminal
from tests.helpers import BLOCKING, PLAIN_TOKEN, PLAINTEXT, TESTS, pp, write_config

LONG_URL = "https://gitlab.example.com/api/v4/groups/engineering-platform/-/packages/pypi/simple/"
LONG_NAME = "corp-internal-packages-mirror"
LONG_VAR = "PRIVPIP_INDEX_CORP_INTERNAL_PACKAGES_MIRROR_TOKEN"
LOCAL = "http://127.0.0.1:9/simple/"


def configure(tmp_path: Path, name: str) -> dict[str, str]:
    write_config(tmp_path, f'[[index]]\nname = "{name}"\nurl = "{LONG_URL}"\ndefault = true\n\n'
                           f'[[index]]\nname = "short"\nurl = "{LOCAL}"\n')
    var = "PRIVPIP_INDEX_" + name.upper().replace("-", "_") + "_TOKEN"
    # A machine with a keyring (a file backend in the test's HOME): the missing credential's
    # hint is then `privpip login` (without one it names a backend to install, see
    # test_missing_hint_without_a_keyring_backend).
    return {var: PLAIN_TOKEN, "PRIVPIP_USER_CONFIG": str(tmp_path / "no-user.toml"),
            **PLAINTEXT}


def test_whole_table_when_nothing_limits_the_width(tmp_path):
    env = configure(tmp_path, "corp")
    result = pp("status", cwd=tmp_path, env=env)
    assert result.returncode == 77, result.stderr  # index short has no credential
    assert result.stdout == f"""\
config: privpip.toml (project)
NAME   URL{' ' * (len(LONG_URL) - 3)}  ROLE     USERNAME   CREDENTIAL
corp   {LONG_URL}  default  __token__  env:PRIVPIP_INDEX_CORP_TOKEN
short  {LOCAL.ljust(len(LONG_URL))}  extra    __token__  missing
short: no credential; run `privpip login short`, or set PRIVPIP_INDEX_SHORT_TOKEN
"""


def test_missing_hint_without_a_keyring_backend(tmp_path):
    """keyring's null backend keeps nothing: `login` falls back to privpip's token file, so
    the hint says that; refusing the file (PRIVPIP_NO_INSECURE_FALLBACK), it says how to get
    a token in anyway."""
    env = configure(tmp_path, "corp")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = pp("status", cwd=tmp_path, env=env)
    assert result.stdout.splitlines()[-1] == (
        "short: no credential; run `privpip login short` (with no keyring here, it keeps the "
        "token in privpip's token file), or set PRIVPIP_INDEX_SHORT_TOKEN")
    result = pp("status", cwd=tmp_path, env={**env, "PRIVPIP_NO_INSECURE_FALLBACK": "1"})
    hint = result.stdout.splitlines()[-1]
    assert hint.startswith("short: no credential; set PRIVPIP_INDEX_SHORT_TOKEN (a CI secret, "
                           "or your shell profile); the keyring cannot keep a token here")
    assert "pip install keyrings.alt" in hint
    assert hint.endswith("`privpip login short --insecure-storage`")
    assert "run `privpip login short`," not in hint


def test_at_80_columns_the_url_goes_to_its_own_line(tmp_path):
    env = configure(tmp_path, "corp-internal")
    result = pp("status", cwd=tmp_path, env={**env, "COLUMNS": "80"})
    assert result.returncode == 77, result.stderr  # index short has no credential
    assert result.stdout == f"""\
config: privpip.toml (project)
NAME           ROLE     USERNAME   CREDENTIAL
corp-internal  default  __token__  env:PRIVPIP_INDEX_CORP_INTERNAL_TOKEN
  {LONG_URL}
short          extra    __token__  missing
  {LOCAL}
short: no credential; run `privpip login short`, or set PRIVPIP_INDEX_SHORT_TOKEN
"""
    assert max(len(line) for line in result.stdout.splitlines()[:3]) <= 80


def test_at_80_columns_long_names_become_blocks(tmp_path):
    env = configure(tmp_path, LONG_NAME)
    result = pp("status", cwd=tmp_path, env={**env, "COLUMNS": "80"})
    assert result.returncode == 77, result.stderr  # index short has no credential
    assert result.stdout == f"""\
config: privpip.toml (project)
{LONG_NAME}
  url:        {LONG_URL}
  role:       default
  username:   __token__
  credential: env:{LONG_VAR}

short
  url:        {LOCAL}
  role:       extra
  username:   __token__
  credential: missing
short: no credential; run `privpip login short`, or set PRIVPIP_INDEX_SHORT_TOKEN
"""


def test_check_state_at_80_columns(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "short"\nurl = "{LOCAL}"\n')
    env = {"PRIVPIP_INDEX_SHORT_TOKEN": PLAIN_TOKEN, "COLUMNS": "80",
           "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    result = pp("status", "--check", "--timeout", "2", cwd=tmp_path, env=env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1:8] == ["short", f"  url:        {LOCAL}", "  role:       extra",
                          "  username:   __token__",
                          "  credential: env:PRIVPIP_INDEX_SHORT_TOKEN",
                          "  check:      unreachable", "  http:       -"]
    assert lines[8].startswith("  time:       0.")
    assert lines[9].startswith("short: unreachable (")
    assert max(len(line) for line in lines[:9]) <= 80


def test_status_names_the_user_file_and_json_has_the_schema(tmp_path):
    user = tmp_path / "home-config" / "config.toml"
    user.parent.mkdir()
    user.write_text(f'[[index]]\nname = "mine"\nurl = "{LOCAL}"\n')
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{LONG_URL}"\n')
    env = {"PRIVPIP_USER_CONFIG": str(user), "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    text = pp("status", cwd=tmp_path, env=env).stdout
    assert text.splitlines()[:2] == ["config: privpip.toml (project)",
                                     "config: home-config/config.toml (user)"]
    data = json.loads(pp("status", "--json", cwd=tmp_path, env=env).stdout)
    assert data["schema_version"] == 1
    assert data["config_files"] == [
        {"path": str(tmp_path / "privpip.toml"), "scope": "project"},
        {"path": str(user), "scope": "user"},
    ]
    assert [(i["name"], i["source"]) for i in data["indexes"]] == [
        ("corp", "env:PRIVPIP_INDEX_CORP_TOKEN"), ("mine", "missing")]
    assert list(data) == ["schema_version", "config_files", "indexes", "notes"]


def test_index_list_shows_every_file_and_git_hosts(tmp_path):
    user = tmp_path / "u" / "config.toml"
    user.parent.mkdir()
    user.write_text(f'[[index]]\nname = "mine"\nurl = "{LOCAL}"\n\n'
                    f'[[index]]\nname = "corp"\nurl = "{LONG_URL}"\n')
    # the same name in both files only with the same URL (a different one is refused)
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{LONG_URL}"\ndefault = true\n'
                           'packages = ["corp-*", "acme"]\n\n'
                           '[[git]]\nhost = "gitlab.example.com"\n')
    env = {"PRIVPIP_USER_CONFIG": str(user)}
    result = pp("index", "list", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    url_pad = " " * (len(LONG_URL) - 3)
    assert result.stdout == f"""\
config: privpip.toml (project)
config: u/config.toml (user)
NAME  URL{url_pad}  ROLE     PACKAGES     FILE
corp  {LONG_URL}  default  corp-* acme  privpip.toml
mine  {LOCAL.ljust(len(LONG_URL))}  extra    -            u/config.toml
GIT HOST            USERNAME  FILE
gitlab.example.com  oauth2    privpip.toml
{user}: index 'corp' is overridden by {tmp_path / 'privpip.toml'}
"""
    data = json.loads(pp("index", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert data["schema_version"] == 1
    assert [(i["name"], i["file"], i["packages"]) for i in data["indexes"]] == [
        ("corp", "privpip.toml", ["corp-*", "acme"]), ("mine", "u/config.toml", [])]
    assert data["git_hosts"] == [{"host": "gitlab.example.com", "username": "oauth2",
                                  "file": "privpip.toml"}]


def test_index_list_with_no_config(tmp_path):
    env = {"PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    result = pp("index", "list", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"no config file here, and no {tmp_path / 'none.toml'}\n"
        "no index is configured; add one with `privpip index add NAME URL` (or --user for "
        "your user file)\n")


# ---------------------------------------------------------------------------
# colour and spinners


def test_colour_follows_force_color_and_no_color(tmp_path):
    env = configure(tmp_path, "corp")
    piped = pp("status", cwd=tmp_path, env={**env, "NO_COLOR": ""})
    assert "\x1b" not in piped.stdout + piped.stderr
    forced = pp("status", cwd=tmp_path, env={**env, "NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    assert "env:PRIVPIP_INDEX_CORP_TOKEN" in forced.stdout
    both = pp("status", cwd=tmp_path, env={**env, "NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert "\x1b" not in both.stdout  # NO_COLOR wins
    assert both.stdout == piped.stdout


def under_terminal(command: str, cwd: Path, env: dict[str, str]) -> str:
    full = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full.update(PYTHONPATH=str(TESTS.parent), TERM="xterm-256color", COLUMNS="200")
    full.update(env)
    result = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=cwd, env=full,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return result.stdout


def test_spinner_on_a_terminal_while_the_keyring_is_awaited(tmp_path):
    configure(tmp_path, "corp")
    env = {**BLOCKING, "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    shown = under_terminal(f"{sys.executable} -m privpip status", tmp_path, env)
    assert "privpip: reading credentials" in shown
    assert "did not answer within 0.5 s" in shown
    piped = pp("status", cwd=tmp_path, env=env, timeout=30)
    assert "reading credentials" not in piped.stdout + piped.stderr
    assert "\x1b" not in piped.stdout + piped.stderr


def test_spinner_while_checking(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "short"\nurl = "{LOCAL}"\n')
    env = {"PRIVPIP_INDEX_SHORT_TOKEN": PLAIN_TOKEN,
           "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    shown = under_terminal(f"{sys.executable} -m privpip status --check", tmp_path, env)
    assert "privpip: checking 1 index" in shown
    assert PLAIN_TOKEN not in shown


# ---------------------------------------------------------------------------
# the layout itself


def cells(*texts: str) -> list[terminal.Cell]:
    return [(t, "") for t in texts]


@pytest.mark.parametrize("limit, expected", [
    (None, ["A     URL                  B", "name  http://x/very/long/  v"]),
    (28, ["A     URL                  B", "name  http://x/very/long/  v"]),
    (27, ["A     B", "name  v", "  http://x/very/long/"]),
    (5, ["name", "  url: http://x/very/long/", "  b:   v"]),
])
def test_layout(limit, expected):
    lines = terminal.layout(["A", "URL", "B"], [cells("name", "http://x/very/long/", "v")],
                            limit, wrap=1)
    assert [terminal.plain(line) for line in lines] == expected


def test_width():
    class Pipe:
        def isatty(self) -> bool:
            return False

    assert terminal.width({"COLUMNS": "80"}, Pipe()) == 80  # type: ignore[arg-type]
    assert terminal.width({"COLUMNS": "x"}, Pipe()) is None  # type: ignore[arg-type]
    assert terminal.width({}, Pipe()) is None  # type: ignore[arg-type]
    assert not terminal.use_color({"FORCE_COLOR": ""}, Pipe())  # type: ignore[arg-type]
    assert terminal.use_color({"FORCE_COLOR": "1"}, Pipe())  # type: ignore[arg-type]
    assert not terminal.use_color({"FORCE_COLOR": "1", "NO_COLOR": "1"},
                                  Pipe())  # type: ignore[arg-type]


def test_spinner_while_a_token_command_runs(tmp_path):
    """`privpip env` on a terminal says which token command it waits for; piped, nothing."""
    script = tmp_path / "slow-token"
    script.write_text("#!/bin/sh\nsleep 1\necho slow-token-value\n")
    script.chmod(0o755)
    write_config(tmp_path, f'[[index]]\nname = "cloud"\nurl = "{LOCAL}"\n'
                           f'token-command = ["{script}"]\n')
    env = {"PRIVPIP_TRUST": "1", "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    shown = under_terminal(f"{sys.executable} -m privpip env --shell sh", tmp_path, env)
    assert "running the token command of index cloud (" in shown
    piped = pp("env", "--shell", "sh", cwd=tmp_path, env=env, timeout=30)
    assert piped.returncode == 0, piped.stderr
    assert "running the token command" not in piped.stdout + piped.stderr
    assert "slow-token-value" in piped.stdout  # env prints the token: its purpose
