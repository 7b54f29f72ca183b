"""A token typed at the install prompt is checked before pip starts, and may be stored."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

from tests.helpers import PLAIN_TOKEN, TESTS, venv_python, write_config


def on_terminal(args, cwd, env, answers: list[tuple[bytes, bytes]],
                timeout: float = 120.0) -> tuple[int, bytes]:
    """Run privpip on a pseudo-terminal; answer each (prompt, reply) in turn."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.environ.update(env)
        os.environ["PYTHONPATH"] = str(TESTS.parent)
        os.execv(sys.executable, [sys.executable, "-m", "privpip", *args])
    output = b""
    pending = list(answers)
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
        if pending and pending[0][0] in output:
            os.write(fd, pending.pop(0)[1] + b"\r")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def test_typed_wrong_token_stops_before_pip(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    code, output = on_terminal(["install", "--python", venv_python(venv), "corp-dep"], tmp_path,
                               {}, [(b"Token for corp", b"typed-wrong-token")])
    assert code == 1, output
    assert b"rejected the token you typed: HTTP 40" in output
    assert b"nothing was run" in output
    assert b"typed-wrong-token" not in output


def test_typed_right_token_is_offered_for_the_keyring(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    code, output = on_terminal(["install", "--python", venv_python(venv), "corp-dep"], tmp_path,
                               env, [(b"Token for corp", PLAIN_TOKEN.encode()),
                                     (b"store it in the keyring", b"y")])
    assert code == 0, output
    assert b"stored the token for index corp (user __token__) in the keyring" in output
    # The next run finds it there, without a prompt.
    from tests.helpers import privpip

    result = privpip("-v", "--no-input", "install", "--python", venv_python(venv), "corp-dep",
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "token from keyring" in result.stderr


def test_typed_token_without_keyring_points_to_the_file(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    code, output = on_terminal(["install", "--python", venv_python(venv), "corp-dep"], tmp_path,
                               env, [(b"Token for corp", PLAIN_TOKEN.encode())])
    assert code == 0, output
    assert (b"the keyring cannot keep it (PYTHON_KEYRING_BACKEND selects "
            b"keyring.backends.fail.Keyring, which keeps no tokens): `privpip login corp` stores "
            b"it in privpip's token file") in output
