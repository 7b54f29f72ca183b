"""login / logout / status against the real authenticated pypiserver and real keyring backends."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import (
    BLOCKING,
    FAIL,
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    PLAINTEXT,
    TESTS,
    WRONG_TOKEN,
    free_port,
    keyring_get,
    pp,
    table,
    write_config,
)


@pytest.fixture
def project(index_server, tmp_path: Path) -> Path:
    write_config(tmp_path, index_server.config())
    return tmp_path


# ---------------------------------------------------------------------------
# login


def test_login_stores_where_pip_and_twine_look(index_server, project):
    result = pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert "stored the token for index corp (user __token__)" in result.stdout
    assert "accepted the token (HTTP 200" in result.stderr
    assert "keyrings.alt.file.PlaintextKeyring" in result.stdout
    assert "unencrypted" in result.stderr

    got = keyring_get(index_server.url, "__token__", PLAINTEXT)
    assert got.returncode == 0, got.stderr
    assert got.stdout.rstrip("\n") == PLAIN_TOKEN  # the newline from stdin was dropped

    status = pp("status", cwd=project, env=PLAINTEXT)
    assert status.returncode == 0, status.stderr
    assert table(status.stdout) == [
        ["NAME", "URL", "ROLE", "USERNAME", "CREDENTIAL"],
        ["corp", index_server.url, "default", "__token__", "keyring"],
    ]
    assert "keyrings.alt.file.PlaintextKeyring keeps tokens unencrypted" in status.stdout

    again = pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert again.returncode == 0, again.stderr
    assert "replaced the token" in again.stdout


def test_login_hostile_token_without_newline(index_server, tmp_path):
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    result = pp("login", "corp", cwd=tmp_path, env=PLAINTEXT, input=HOSTILE_TOKEN)
    assert result.returncode == 0, result.stderr
    assert keyring_get(index_server.url, HOSTILE_USER, PLAINTEXT).stdout.rstrip("\n") == \
        HOSTILE_TOKEN


def test_login_username_option(index_server, project):
    result = pp("login", "corp", "--username", HOSTILE_USER, cwd=project, env=PLAINTEXT,
                input=HOSTILE_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert keyring_get(index_server.url, HOSTILE_USER, PLAINTEXT).stdout.rstrip("\n") == \
        HOSTILE_TOKEN
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).returncode != 0
    logout = pp("logout", "corp", "--username", HOSTILE_USER, cwd=project, env=PLAINTEXT)
    assert "removed the token" in logout.stdout
    assert keyring_get(index_server.url, HOSTILE_USER, PLAINTEXT).returncode != 0


def test_wrong_token_is_refused_and_not_stored(index_server, project):
    result = pp("login", "corp", cwd=project, env=PLAINTEXT, input=WRONG_TOKEN + "\n")
    assert result.returncode == 1
    assert "rejected the token for user '__token__'" in result.stderr
    assert "HTTP 401" in result.stderr or "HTTP 403" in result.stderr
    assert "nothing was stored" in result.stderr
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).returncode != 0
    status = pp("status", cwd=project, env=PLAINTEXT)
    assert table(status.stdout)[1][-1] == "missing"


def test_unreachable_index_is_not_stored_unless_no_verify(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/simple/"
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{url}"\n')
    result = pp("login", "corp", cwd=tmp_path, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert result.returncode == 1
    assert f"could not check the token against index corp ({url})" in result.stderr
    assert "connection refused" in result.stderr
    assert "--no-verify" in result.stderr
    assert keyring_get(url, "__token__", PLAINTEXT).returncode != 0

    result = pp("login", "corp", "--no-verify", cwd=tmp_path, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert result.returncode == 0, result.stderr
    assert keyring_get(url, "__token__", PLAINTEXT).stdout.rstrip("\n") == PLAIN_TOKEN


def test_not_found_names_the_status(index_server, tmp_path):
    url = index_server.root + "/no/such/simple/"
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{url}"\n')
    result = pp("login", "corp", cwd=tmp_path, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert result.returncode == 1
    assert f"({url}): HTTP 404" in result.stderr
    assert keyring_get(url, "__token__", PLAINTEXT).returncode != 0


def test_empty_input_is_an_error(project):
    result = pp("login", "corp", cwd=project, env=PLAINTEXT, input="\n")
    assert result.returncode == 2
    assert "no token given" in result.stderr


def test_env_variable_takes_precedence_message(index_server, project):
    env = {**PLAINTEXT, "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    result = pp("login", "corp", cwd=project, env=env, input=PLAIN_TOKEN)
    assert result.returncode == 0, result.stderr
    assert "PRIVPIP_INDEX_CORP_TOKEN is set and takes precedence over a stored token" in \
        result.stderr
    status = pp("status", cwd=project, env=env)
    assert table(status.stdout)[1][-1] == "env:PRIVPIP_INDEX_CORP_TOKEN"
    plain = pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert "precedence" not in plain.stderr


def test_logout_is_idempotent(index_server, project):
    assert pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN).returncode == 0
    first = pp("logout", "corp", cwd=project, env=PLAINTEXT)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "privpip: removed the token for index corp (user __token__) " \
                           "from the keyring\n"
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).returncode != 0
    second = pp("logout", "corp", cwd=project, env=PLAINTEXT)
    assert second.returncode == 0, second.stderr
    assert "nothing was stored for index corp" in second.stdout


def test_unknown_index_name(project):
    result = pp("login", "crop", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert result.returncode == 2
    assert "no index named 'crop' (did you mean 'corp'?)" in result.stderr


# ---------------------------------------------------------------------------
# no keyring, a keyring that hangs


def test_login_without_a_keyring_backend_keeps_the_token_in_the_file(index_server, project):
    """Headless, as gh does: the checked token goes to privpip's 0600 file, said in one line;
    status finds it there without a word about the keyring; a later login moves it."""
    file = Path(os.environ["XDG_DATA_HOME"]) / "privpip" / "tokens.json"
    result = pp("login", "corp", cwd=project, env=FAIL, input=PLAIN_TOKEN)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "privpip: PYTHON_KEYRING_BACKEND selects keyring.backends.fail.Keyring, which keeps no "
        f"tokens, so the token for index corp (user __token__) is stored unencrypted in {file} "
        "(mode 0600); once a keyring works, `privpip login corp` moves it there\n")
    assert "accepted the token (HTTP 200" in result.stderr
    assert "keyring" not in result.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    for env in (FAIL, BLOCKING):  # found in the file: the keyring's failure is not news
        status = pp("status", cwd=project, env=env)
        assert status.returncode == 0, status.stderr
        assert status.stdout == (
            "config: privpip.toml (project)\n"
            "NAME  URL" + " " * (len(index_server.url) - 3) + "  ROLE     USERNAME   CREDENTIAL\n"
            f"corp  {index_server.url}  default  __token__  file\n")
        assert status.stderr == ""

    moved = pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines()[-1] == f"  removed the entry of privpip's token file ({file})"
    assert not file.exists()
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).stdout.rstrip("\n") == \
        PLAIN_TOKEN


def test_login_refusing_the_file_without_a_keyring(project):
    for args, env in ((("--no-insecure-fallback",), FAIL),
                      ((), {**FAIL, "PRIVPIP_NO_INSECURE_FALLBACK": "1"})):
        result = pp("login", "corp", *args, cwd=project, env=env, input=PLAIN_TOKEN)
        assert result.returncode == 1
        refused = args[0] if args else "PRIVPIP_NO_INSECURE_FALLBACK"
        assert result.stderr.splitlines()[0] == (
            "privpip: error: cannot store a token for index corp: PYTHON_KEYRING_BACKEND "
            "selects keyring.backends.fail.Keyring, which keeps no tokens, and "
            f"{refused} refuses privpip's token file; nothing was stored")
        assert result.stderr.splitlines()[1].startswith(
            "  hint: set PRIVPIP_INDEX_CORP_TOKEN instead (a CI secret, or your shell profile), "
            "or install a keyring backend into privpip's own environment: `")
        assert len(result.stderr.splitlines()) == 2
    status = pp("status", cwd=project, env=FAIL)
    assert table(status.stdout)[1][-1] == "missing"
    assert status.stdout.splitlines()[-2:] == [
        "keyring: PYTHON_KEYRING_BACKEND selects keyring.backends.fail.Keyring, which keeps no "
        "tokens",
        "corp: no credential; run `privpip login corp` (with no keyring here, it keeps the token "
        "in privpip's token file), or set PRIVPIP_INDEX_CORP_TOKEN"]
    logout = pp("logout", "corp", cwd=project, env=FAIL)
    assert logout.returncode == 0, logout.stderr
    assert "nothing was stored for index corp" in logout.stdout
    # Nothing was written anywhere in HOME (but the trust record of the project file, which
    # the test wrote as a user's own file).
    from privpip.config import trust

    home = Path(os.environ["HOME"])
    assert [p for p in home.rglob("*") if p.is_file()] == [trust.trust_file(os.environ)]


@pytest.mark.parametrize(("env", "message", "hint"), [
    ({"PYTHON_KEYRING_BACKEND": "keyrings.nope.Missing"},
     "PYTHON_KEYRING_BACKEND names keyrings.nope.Missing, which cannot be used here: "
     "ModuleNotFoundError: No module named 'keyrings.nope'",
     "unset PYTHON_KEYRING_BACKEND (keyring then chooses a backend itself) or install the "
     "package it names into privpip's own environment; or set PRIVPIP_INDEX_CORP_TOKEN"),
    ({"PYTHON_KEYRING_BACKEND": "locked.LockedKeyring", "PYTHONPATH": BLOCKING["PYTHONPATH"]},
     "the keyring is locked (KeyringLocked: the collection is locked)",
     "unlock the keyring and retry; or set PRIVPIP_INDEX_CORP_TOKEN; or keep the token in "
     "privpip's own file: `privpip login corp --insecure-storage`"),
    (BLOCKING,
     "the keyring did not answer within 0.5 s (locked, waiting for an unlock prompt, or hung)",
     "unlock the keyring and retry; PRIVPIP_KEYRING_TIMEOUT sets the wait; or set "
     "PRIVPIP_INDEX_CORP_TOKEN; or keep the token in privpip's own file: "
     "`privpip login corp --insecure-storage`"),
], ids=["forced", "locked", "timeout"])
def test_a_keyring_that_cannot_store_names_its_cause(project, env, message, hint):
    """A backend exists but does not work: login refuses (no silent file), one line each."""
    result = pp("login", "corp", cwd=project, env=env, input=PLAIN_TOKEN)
    assert result.returncode == 1
    assert result.stderr == (f"privpip: error: cannot store a token for index corp: {message}; "
                             f"nothing was stored\n  hint: {hint}\n")
    status = pp("status", cwd=project, env=env)
    assert status.stdout.splitlines()[-2] == f"keyring: {message}"


def test_blocking_keyring_backend_really_blocks(project):
    """The test backend must hang, or the next test proves nothing."""
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-m", "keyring", "get", "svc", "user"],
                       env={**os.environ, **BLOCKING}, capture_output=True, timeout=3)


def test_blocking_keyring_backend_login_and_status_finish(index_server, tmp_path):
    write_config(tmp_path, index_server.config() + index_server.config("other", default=False))
    start = time.monotonic()
    login = pp("login", "corp", cwd=tmp_path, env=BLOCKING, input=PLAIN_TOKEN, timeout=30)
    login_seconds = time.monotonic() - start
    assert login.returncode == 1
    assert "the keyring did not answer within 0.5 s" in login.stderr
    assert "PRIVPIP_INDEX_CORP_TOKEN" in login.stderr and "unlock the keyring" in login.stderr
    assert login_seconds < 8

    start = time.monotonic()
    status = pp("status", cwd=tmp_path, env=BLOCKING, timeout=30)
    status_seconds = time.monotonic() - start
    assert status.returncode == 77, status.stderr
    assert [row[-1] for row in table(status.stdout)[1:]] == ["missing", "missing"]
    assert "did not answer within 0.5 s" in status.stdout
    assert status_seconds < 8

    check = pp("status", "--check", cwd=tmp_path,
               env={**BLOCKING, "PRIVPIP_INDEX_OTHER_TOKEN": PLAIN_TOKEN}, timeout=30)
    assert check.returncode == 77  # corp has no credential: that, not its 401, decides
    rows = table(check.stdout)
    assert rows[1][:6] == ["corp", index_server.url, "default", "__token__", "missing",
                           "rejected"]
    assert rows[2][4:7] == ["env:PRIVPIP_INDEX_OTHER_TOKEN", "ok", "200"]


# ---------------------------------------------------------------------------
# status


def test_status_check_reports_each_index(index_server, tmp_path):
    down = f"http://127.0.0.1:{free_port()}/simple/"
    write_config(tmp_path, index_server.config("good")
                 + index_server.config("wrong", default=False)
                 + f'[[index]]\nname = "down"\nurl = "{down}"\n'
                 + index_server.config("nocred", default=False))
    env = {**PLAINTEXT, "PRIVPIP_INDEX_GOOD_TOKEN": PLAIN_TOKEN,
           "PRIVPIP_INDEX_WRONG_TOKEN": WRONG_TOKEN, "PRIVPIP_INDEX_DOWN_TOKEN": PLAIN_TOKEN}
    result = pp("status", "--check", cwd=tmp_path, env=env)
    assert result.returncode == 77, result.stdout  # nocred has no credential
    rows = table(result.stdout)
    assert rows[0] == ["NAME", "URL", "ROLE", "USERNAME", "CREDENTIAL", "CHECK", "HTTP", "TIME"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["good"][4:7] == ["env:PRIVPIP_INDEX_GOOD_TOKEN", "ok", "200"]
    assert by_name["wrong"][4:6] == ["env:PRIVPIP_INDEX_WRONG_TOKEN", "rejected"]
    assert by_name["wrong"][6] in ("401", "403")
    assert by_name["down"][4:7] == ["env:PRIVPIP_INDEX_DOWN_TOKEN", "unreachable", "-"]
    assert by_name["nocred"][4:6] == ["missing", "rejected"]
    assert "down: unreachable" in result.stdout and "connection refused" in result.stdout

    data = json.loads(pp("status", "--check", "--json", cwd=tmp_path, env=env).stdout)
    assert data["ok"] is False
    checks = {item["name"]: item["check"] for item in data["indexes"]}
    assert checks["good"]["result"] == "ok" and checks["good"]["status"] == 200
    assert checks["wrong"]["result"] == "rejected"
    assert checks["down"]["result"] == "unreachable" and checks["down"]["status"] is None
    assert isinstance(checks["good"]["seconds"], float)

    write_config(tmp_path, index_server.config("good"))
    ok = pp("status", "--check", cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stdout


def test_status_exit_status_says_what_scripts_need(index_server, tmp_path):
    """0: every index has a credential (and with --check, each was accepted); 1: --check
    found one rejected; 77: an index has no credential, with or without --check."""
    write_config(tmp_path, index_server.config("good")
                 + index_server.config("other", default=False))
    good = {"PRIVPIP_INDEX_GOOD_TOKEN": PLAIN_TOKEN}
    url = index_server.url
    head = ("config: privpip.toml (project)\n"
            "NAME   URL" + " " * (len(url) - 3) + "  ROLE     USERNAME   CREDENTIAL\n"
            f"good   {url}  default  __token__  env:PRIVPIP_INDEX_GOOD_TOKEN\n")
    missing = pp("status", cwd=tmp_path, env=good)
    assert missing.returncode == 77
    assert missing.stdout == head + (
        f"other  {url}  extra    __token__  missing\n"
        "other: no credential; run `privpip login other` (with no keyring here, it keeps the "
        "token in privpip's token file), or set PRIVPIP_INDEX_OTHER_TOKEN\n")
    assert pp("status", "--json", cwd=tmp_path, env=good).returncode == 77
    assert pp("status", "--check", cwd=tmp_path, env=good).returncode == 77

    both = {**good, "PRIVPIP_INDEX_OTHER_TOKEN": PLAIN_TOKEN}
    fine = pp("status", cwd=tmp_path, env=both)
    assert fine.returncode == 0, fine.stdout
    assert fine.stdout == head + f"other  {url}  extra    __token__  env:PRIVPIP_INDEX_OTHER_TOKEN\n"
    assert pp("status", "--check", cwd=tmp_path, env=both).returncode == 0

    wrong = {**good, "PRIVPIP_INDEX_OTHER_TOKEN": WRONG_TOKEN}
    assert pp("status", cwd=tmp_path, env=wrong).returncode == 0  # not asked: not known
    rejected = pp("status", "--check", cwd=tmp_path, env=wrong)
    assert rejected.returncode == 1, rejected.stdout
    assert [row[5] for row in table(rejected.stdout)[1:]] == ["ok", "rejected"]


def test_status_json_and_prefix(index_server, project):
    env = {**PLAINTEXT, "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    data = json.loads(pp("status", "--json", cwd=project, env=env).stdout)
    assert data == {
        "schema_version": 1,
        "config_files": [{"path": str(project / "privpip.toml"), "scope": "project"}],
        "indexes": [{"name": "corp", "url": index_server.url, "role": "default",
                     "username": "__token__", "source": "env:PRIVPIP_INDEX_CORP_TOKEN"}],
        "notes": [],
    }
    shown = pp("status", "--show-prefix", cwd=project, env=env)
    assert table(shown.stdout)[1][-1] == PLAIN_TOKEN[:4] + "…"
    data = json.loads(pp("status", "--json", "--show-prefix", cwd=project, env=env).stdout)
    assert data["indexes"][0]["prefix"] == PLAIN_TOKEN[:4] + "…"


def test_status_check_runs_concurrently(tmp_path):
    """Four indexes that accept a connection and never answer: one time-out, not four."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/simple/"
    write_config(tmp_path, "".join(f'[[index]]\nname = "i{n}"\nurl = "{url}"\n'
                                   for n in range(4)))
    env = {f"PRIVPIP_INDEX_I{n}_TOKEN": PLAIN_TOKEN for n in range(4)}
    start = time.monotonic()
    try:
        result = pp("status", "--check", "--timeout", "1.5", cwd=tmp_path, env=env)
    finally:
        silent.close()
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    assert [row[5] for row in table(result.stdout)[1:]] == ["unreachable"] * 4
    assert "no answer within 1.5 s" in result.stdout
    assert elapsed < 4.5, f"checks ran one after another ({elapsed:.1f} s)"


def test_status_on_a_terminal_uses_a_table(index_server, project):
    """Under a pseudo-terminal (script(1)) without NO_COLOR: rich's table, still no token."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(PRIVPIP_INDEX_CORP_TOKEN=PLAIN_TOKEN, PYTHONPATH=str(TESTS.parent),
               TERM="xterm-256color", COLUMNS="160")
    command = f"{sys.executable} -m privpip status --show-prefix"
    result = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout
    assert "\x1b[" in result.stdout  # styled: it went through rich
    assert "env:PRIVPIP_INDEX_CORP_TOKEN" in result.stdout
    assert PLAIN_TOKEN not in result.stdout


def test_login_prompt_on_a_terminal_is_hidden(index_server, project):
    env = {**os.environ, **PLAINTEXT, "PYTHONPATH": str(TESTS.parent)}
    command = f"{sys.executable} -m privpip login corp"
    child = subprocess.Popen(["script", "-qec", command, "/dev/null"], cwd=project, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdin is not None
    seen = b""
    deadline = time.monotonic() + 30
    # Type only once the prompt is there: getpass turns echo off and flushes what was typed
    # before (TCSAFLUSH), then writes the prompt, so the prompt is the sign it reads now.
    while b"Token for corp" not in seen and time.monotonic() < deadline:
        chunk = os.read(child.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"Token for corp" in seen, seen
    child.stdin.write(PLAIN_TOKEN.encode() + b"\n")
    child.stdin.flush()
    rest, _ = child.communicate(timeout=30)
    output = (seen + rest).decode(errors="replace")
    assert child.returncode == 0, output
    assert "Token for corp" in output
    assert "stored the token" in output
    assert PLAIN_TOKEN not in output  # not echoed
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).stdout.rstrip("\n") == \
        PLAIN_TOKEN


def test_status_never_prompts(project):
    # Even on a terminal: script(1) gives one, and status must finish without input.
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    result = subprocess.run(["script", "-qec", f"{sys.executable} -m privpip status",
                             "/dev/null"], cwd=project, env=env, capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 77, result.stdout  # script(1) passes the status on
    assert "Token for" not in result.stdout
    assert "missing" in result.stdout
