"""token-command end to end: a small script on PATH stands in for the cloud CLI."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PLAIN_TOKEN, installed, privpip, venv_python, write_config

AWS_ARGS = ["codeartifact", "get-authorization-token", "--domain", "corp", "--domain-owner",
            "111122223333", "--region", "eu-west-1", "--query", "authorizationToken",
            "--output", "text"]


@pytest.fixture(autouse=True)
def _trusted(monkeypatch):
    """These tests wrote their config themselves: trusted (tests/test_trust.py tests trust)."""
    monkeypatch.setenv("PRIVPIP_TRUST", "1")


def fake_cli(bin_dir: Path, name: str, body: str) -> Path:
    """An executable ``name`` in ``bin_dir``: a Python script with ``body``."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport sys, os, time\n{body}\n")
    path.chmod(0o755)
    return path


def path_with(bin_dir: Path) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def aws_config(index_server, argv=None, extra="") -> str:
    command = ", ".join(f'"{a}"' for a in (argv or ["aws", *AWS_ARGS]))
    return index_server.config(extra=f"token-command = [{command}]\n{extra}")


def test_install_with_token_from_fake_aws(index_server, make_venv, tmp_path):
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "aws", f"""
with open({str(tmp_path / 'argv.txt')!r}, 'w') as f:
    f.write('\\n'.join(sys.argv[1:]))
sys.stderr.write('fake-aws: issuing a token\\n')
print({PLAIN_TOKEN!r})
""")
    write_config(tmp_path, aws_config(index_server))
    venv = make_venv()
    result = privpip("-v", "install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env=path_with(bin_dir))
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert "index corp: token from command:aws (user __token__)" in result.stderr
    assert "fake-aws: issuing a token" in result.stderr  # stderr passed through
    assert PLAIN_TOKEN not in result.stdout + result.stderr  # stdout never shown
    assert (tmp_path / "argv.txt").read_text().split("\n") == AWS_ARGS


def test_string_token_command_is_split_not_run_by_a_shell(index_server, tmp_path):
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "tok", f"assert sys.argv[1:] == ['a b', '$HOME;'], sys.argv\n"
                             f"print({PLAIN_TOKEN!r})")
    write_config(tmp_path, index_server.config(extra="token-command = \"tok 'a b' '$HOME;'\"\n"))
    result = privpip("env", "--shell", "sh", cwd=tmp_path, env=path_with(bin_dir))
    assert result.returncode == 0, result.stderr
    assert "UV_INDEX_CORP_PASSWORD=" + PLAIN_TOKEN in result.stdout


@pytest.mark.parametrize(("body", "message"), [
    ("sys.stderr.write('fake-aws: ExpiredToken\\n'); sys.exit(3)",
     "`aws` exited with status 3"),
    ("print('')", "`aws` succeeded but printed no token on stdout"),
    ("print('a'); print('b')", "`aws` printed more than one line"),
    ("time.sleep(30)", "`aws` did not finish within 1 s (token-timeout)"),
])
def test_failures_name_the_command_and_how_to_fix(index_server, tmp_path, body, message):
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "aws", body)
    write_config(tmp_path, aws_config(index_server, extra="token-timeout = 1\n"))
    started = time.monotonic()
    result = privpip("env", "--shell", "sh", cwd=tmp_path, env=path_with(bin_dir))
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert result.stdout == ""
    assert (f"privpip: error: index 'corp': token-command (in privpip.toml) failed: {message}"
            in result.stderr)
    assert "hint: its own messages, if any, are above" in result.stderr
    assert "PRIVPIP_INDEX_CORP_TOKEN" in result.stderr
    assert "get-authorization-token" not in result.stderr  # argv[0] only
    assert "Traceback" not in result.stderr


def test_configured_command_not_found(index_server, tmp_path):
    write_config(tmp_path, aws_config(index_server, argv=["privpip-no-such-cli", "x"]))
    result = privpip("env", cwd=tmp_path)
    assert result.returncode == 1
    assert "failed: `privpip-no-such-cli` was not found on PATH" in result.stderr


def test_timeout_kills_the_command_and_its_children(index_server, tmp_path):
    bin_dir = tmp_path / "bin"
    pidfile = tmp_path / "child.pid"
    fake_cli(bin_dir, "slow", f"""
import subprocess
child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
open({str(pidfile)!r}, 'w').write(str(child.pid))
time.sleep(60)
""")
    write_config(tmp_path, aws_config(index_server, argv=["slow"], extra="token-timeout = 1\n"))
    result = privpip("env", cwd=tmp_path, env=path_with(bin_dir))
    assert result.returncode == 1
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the token command's child outlived the timeout")


def test_env_token_skips_the_command(index_server, tmp_path):
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "aws", "sys.exit(9)")
    write_config(tmp_path, aws_config(index_server))
    result = privpip("-v", "env", cwd=tmp_path,
                     env={**path_with(bin_dir), "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "token from env:PRIVPIP_INDEX_CORP_TOKEN" in result.stderr
