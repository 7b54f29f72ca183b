"""Credential order and sources, with a real file keyring and a keyring that hangs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from privpip.config import Index
from privpip.credentials.store import KeyringStore
from privpip.errors import CredentialNotFound, KeyringUnavailable
from tests.helpers import TESTS, privpip, resolve, write_config

INDEX = Index(name="corp", url="https://h.example/simple/", token_env=("GITLAB_TOKEN",))
BACKENDS = TESTS / "backends"


class DictStore:
    def __init__(self, entries=None, error=None):
        self.entries = entries or {}
        self.error = error
        self.calls = []

    def get(self, service, username):
        self.calls.append((service, username))
        if self.error:
            raise self.error
        return self.entries.get((service, username))


def test_order_env_then_token_env_then_keyring_then_prompt():
    store = DictStore({(INDEX.url, "__token__"): "from-keyring"})
    env = {"PRIVPIP_INDEX_CORP_TOKEN": "from-env", "GITLAB_TOKEN": "from-token-env"}
    assert resolve(INDEX, env, store, None).source == "env:PRIVPIP_INDEX_CORP_TOKEN"
    del env["PRIVPIP_INDEX_CORP_TOKEN"]
    cred = resolve(INDEX, env, store, None)
    assert (cred.source, cred.token.reveal()) == ("env:GITLAB_TOKEN", "from-token-env")
    assert store.calls == []  # the keyring is not even asked when a variable has the token
    cred = resolve(INDEX, {}, store, None)
    assert (cred.source, cred.token.reveal()) == ("keyring", "from-keyring")
    cred = resolve(INDEX, {}, DictStore(), lambda index, user: "typed")
    assert (cred.source, cred.token.reveal()) == ("prompt", "typed")


def test_username_override_and_auth_false():
    cred = resolve(INDEX, {"PRIVPIP_INDEX_CORP_TOKEN": "tok1", "PRIVPIP_INDEX_CORP_USERNAME": "bot"},
                   None, None)
    assert cred.username == "bot"
    assert resolve(Index(name="pub", url="https://p.example/s/", auth=False), {}, None, None) is None


def test_not_found_lists_every_source_and_the_fix():
    store = DictStore(error=KeyringUnavailable("no keyring backend is available"))
    with pytest.raises(CredentialNotFound) as info:
        resolve(INDEX, {"GITLAB_TOKEN": ""}, store, None, "stdin is not a terminal")
    assert info.value.tried == [
        ("env:PRIVPIP_INDEX_CORP_TOKEN", "not set"),
        ("env:GITLAB_TOKEN", "set but empty"),
        ("keyring", "no keyring backend is available"),
        ("prompt", "stdin is not a terminal"),
    ]
    assert "privpip login corp" in str(info.value.hint)
    assert "PRIVPIP_INDEX_CORP_TOKEN" in str(info.value.hint)


def test_secret_is_redacted_in_repr():
    cred = resolve(INDEX, {"PRIVPIP_INDEX_CORP_TOKEN": "s3cr3t-value"}, None, None)
    assert "s3cr3t" not in repr(cred) and "s3cr3t" not in str(cred.token)


def test_hanging_keyring_is_bounded(monkeypatch):
    monkeypatch.syspath_prepend(str(BACKENDS))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "blocking.BlockingKeyring")
    import keyring.core

    keyring.core._keyring_backend = None  # let keyring choose again from the environment
    store = KeyringStore(timeout=0.5)
    start = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.5 s"):
        store.get(INDEX.url, "__token__")
    assert time.monotonic() - start < 2
    keyring.core._keyring_backend = None


@pytest.mark.parametrize(("backend", "message"), [
    ("keyring.backends.fail.Keyring",
     "PYTHON_KEYRING_BACKEND selects keyring.backends.fail.Keyring, which keeps no tokens"),
    ("blocking.BlockingKeyring", "did not answer within 1 s"),
])
def test_cli_keyring_failures_are_clear_and_bounded(backend, message, tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{INDEX.url}"\n')
    start = time.monotonic()
    result = privpip("env", cwd=tmp_path, env={
        "PYTHON_KEYRING_BACKEND": backend, "PRIVPIP_KEYRING_TIMEOUT": "1",
        "PYTHONPATH": f"{TESTS.parent}:{BACKENDS}"})
    assert time.monotonic() - start < 10
    assert result.returncode == 77  # no credential
    assert f"keyring: {message}" in result.stderr or message in result.stderr
    assert "Traceback" not in result.stderr


def test_real_file_keyring_roundtrip(tmp_path):
    """keyrings.alt's file backend in the temporary HOME, through privpip's store."""
    import os
    import subprocess

    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-m", "keyring", "set", INDEX.url, "__token__"],
                   input="kr-token\n", text=True, env=env, check=True)
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{INDEX.url}"\n')
    result = privpip("-v", "env", "--shell", "sh", cwd=tmp_path,
                     env={"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"})
    assert result.returncode == 0, result.stderr
    assert "index corp: token from keyring" in result.stderr
    assert "__token__:kr-token@h.example" in result.stdout
    assert str(Path(os.environ["HOME"])) in subprocess.run(
        [sys.executable, "-c", "import keyring; print(keyring.get_keyring().file_path)"],
        env=env, capture_output=True, text=True).stdout


@pytest.mark.parametrize("command", [["env", "--shell", "bash"], ["install", "x"]])
@pytest.mark.parametrize("variable", ["PRIVPIP_INDEX_CORP_TOKEN", "PRIVPIP_INDEX_CORP_USERNAME"])
def test_undecodable_environment_bytes_are_refused_not_a_crash(command, variable, tmp_path):
    """Found while fuzzing URL building: bytes that are not UTF-8 in a token variable arrive as
    lone surrogates and crashed quote() (and then the redactor) with a traceback."""
    import os
    import subprocess
    import sys

    from tests.helpers import TESTS

    write_config(tmp_path,
        '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    env = {k.encode(): v.encode() for k, v in os.environ.items()}
    env.update({b"PYTHONPATH": str(TESTS.parent).encode(), b"PRIVPIP_INDEX_CORP_TOKEN": b"t0k3n"})
    env[variable.encode()] = b"ab\xffcd"
    result = subprocess.run([sys.executable, "-m", "privpip", "--no-input", *command],
                            cwd=tmp_path, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    assert b"is not valid UTF-8 text" in result.stderr
    assert b"Traceback" not in result.stderr and result.stdout == b""
