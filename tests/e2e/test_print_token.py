"""End to end: `privpip token NAME` prints one index's token on stdout, for a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.helpers import PLAIN_TOKEN, PLAINTEXT, TESTS, pp, privpip

CONFIG = '[[index]]\nname = "corp"\nurl = "https://pypi.corp.example/simple/"\n'
ENV = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}


def project(tmp_path: Path, extra: str = "", trusted: bool = True) -> Path:
    """A checkout with privpip.toml; trusted by default (an exported token goes to it)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "privpip.toml").write_text(CONFIG + extra, encoding="utf-8")
    if trusted:
        pp("trust", cwd=tmp_path)
    return tmp_path


def on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """privpip with stdout (and stderr) on a pseudo-terminal: (exit status, what it showed)."""
    leader, follower = pty.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(TESTS.parent), **env}
    child = subprocess.Popen([sys.executable, "-m", "privpip", *args], cwd=cwd, env=full_env,
                             stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return child.wait(30), shown.decode(errors="replace")


def test_piped(tmp_path) -> None:
    result = privpip("token", "corp", cwd=project(tmp_path), env=ENV)
    assert (result.returncode, result.stdout, result.stderr) == (0, PLAIN_TOKEN + "\n", "")


def test_refused_on_a_terminal_unless_show(tmp_path) -> None:
    cwd = project(tmp_path)
    status, shown = on_a_terminal(["token", "corp"], cwd, ENV)
    assert status == 2
    assert PLAIN_TOKEN not in shown
    assert "privpip: error: not printing the token to a terminal" in shown
    assert "pass --show" in shown
    status, shown = on_a_terminal(["token", "corp", "--show"], cwd, ENV)
    assert (status, shown) == (0, PLAIN_TOKEN + "\r\n")


def test_from_privpip_login(tmp_path) -> None:
    cwd = project(tmp_path)
    pp("login", "corp", "--no-verify", input=PLAIN_TOKEN + "\n", cwd=cwd, env=PLAINTEXT)
    result = privpip("token", "corp", cwd=cwd, env=PLAINTEXT)
    assert (result.returncode, result.stdout) == (0, PLAIN_TOKEN + "\n")


def test_untrusted_file_gives_no_token(tmp_path) -> None:
    marker = tmp_path / "ran"
    cwd = project(tmp_path, f'token-env = ["MY_TOKEN"]\ntoken-command = ["touch", "{marker}"]\n',
                  trusted=False)
    result = privpip("token", "corp", cwd=cwd, env={"MY_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 77
    assert result.stdout == ""
    assert PLAIN_TOKEN not in result.stderr
    assert "privpip: error: no credential for index 'corp'" in result.stderr
    assert "is not trusted" in result.stderr
    assert "this command never prompts" in result.stderr
    assert not marker.exists()
    pp("trust", cwd=cwd)
    result = privpip("token", "corp", cwd=cwd, env={"MY_TOKEN": PLAIN_TOKEN})
    assert (result.returncode, result.stdout) == (0, PLAIN_TOKEN + "\n")


def test_errors(tmp_path) -> None:
    cwd = project(tmp_path, '[[index]]\nname = "open"\nurl = "https://open.example/simple/"\n'
                            "auth = false\n")
    unknown = pp("token", "crop", cwd=cwd, env=ENV)
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "no index named 'crop' (did you mean 'corp'?)" in unknown.stderr
    open_index = pp("token", "open", cwd=cwd, env=ENV)
    assert open_index.returncode == 2
    assert "privpip: error: index 'open' has auth = false: it has no token" in open_index.stderr
    missing = pp("token", cwd=cwd)
    assert missing.returncode == 2
    assert "Missing argument 'NAME'" in missing.stderr
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"  # no config at all
    elsewhere.mkdir()
    nothing = pp("token", "corp", cwd=elsewhere, env=ENV)
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert "no private index is configured" in nothing.stderr


def test_exported_token_needs_a_trusted_file(tmp_path) -> None:
    """An exported token is printed only for a URL the user chose: not for one that only an
    untrusted project file names."""
    cwd = project(tmp_path, trusted=False)
    result = privpip("token", "corp", cwd=cwd, env=ENV)
    assert result.returncode != 0
    assert result.stdout == ""
    assert PLAIN_TOKEN not in result.stderr
    assert "privpip trust" in result.stderr
    pp("trust", cwd=cwd)
    result = privpip("token", "corp", cwd=cwd, env=ENV)
    assert (result.returncode, result.stdout) == (0, PLAIN_TOKEN + "\n")
