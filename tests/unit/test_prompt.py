"""The hidden prompt: only on a terminal, never echoed; --no-input turns it off."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

from tests.helpers import TESTS


def run_on_terminal(args, cwd, answer: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    pid, fd = pty.fork()
    if pid == 0:  # child: privpip with the pty as its terminal
        os.chdir(cwd)
        os.environ["PYTHONPATH"] = str(TESTS.parent)
        os.execv(sys.executable, [sys.executable, "-m", "privpip", *args])
    output = b""
    sent = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not sent and b"Token for corp" in output:
            os.write(fd, answer + b"\r")
            sent = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def test_prompt_on_a_terminal_is_hidden(tmp_path):
    (tmp_path / "privpip.toml").write_text(
        '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    code, output = run_on_terminal(["-v", "env", "--shell", "sh"], tmp_path, b"typed-s3cret")
    assert code == 0, output
    assert b"Token for corp (https://h.example/simple/, user __token__): " in output
    # The token is printed once, by `env` itself (its purpose), never echoed as typed.
    assert output.count(b"typed-s3cret") == 2  # PIP_EXTRA_INDEX_URL and UV_INDEX_CORP_PASSWORD
    assert b"index corp: token from prompt" in output


def test_no_input_never_prompts_on_a_terminal(tmp_path):
    (tmp_path / "privpip.toml").write_text(
        '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    code, output = run_on_terminal(["--no-input", "env"], tmp_path, b"unused")
    assert code == 77
    assert b"Token for corp" not in output
    assert b"prompt: --no-input was given" in output
