"""`privpip env --shell netrc`: a netrc for a Docker build secret, read back by Python's netrc."""

from __future__ import annotations

import netrc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    installed,
    privpip,
    venv_python,
    write_config,
)

CONFIG = (
    '[[index]]\nname = "corp"\nurl = "https://pkgs.example.com/simple/"\ndefault = true\n'
    '[[index]]\nname = "extra.idx"\nurl = "https://other.example.com:8443/simple/"\n'
    'username = "bot"\n'
    '[[index]]\nname = "public"\nurl = "https://mirror.example.com/simple/"\nauth = false\n'
)


def netrc_of(tmp_path: Path, corp: str, extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    write_config(tmp_path, CONFIG)
    result = privpip("env", "--shell", "netrc", cwd=tmp_path, env={
        "PRIVPIP_INDEX_CORP_TOKEN": corp, "PRIVPIP_INDEX_EXTRA_IDX_TOKEN": extra})
    path = tmp_path / "netrc"
    path.write_text(result.stdout)
    path.chmod(0o600)  # Python's netrc refuses a password in a file others can read
    return result, path


def test_one_machine_per_index_with_a_credential(tmp_path):
    result, path = netrc_of(tmp_path, "glpat-plain_token-1", "tok2")
    assert result.returncode == 0, result.stderr
    parsed = netrc.netrc(str(path))
    assert parsed.hosts == {
        "pkgs.example.com": ("__token__", "", "glpat-plain_token-1"),
        "other.example.com": ("bot", "", "tok2"),  # the port is not part of a netrc machine
    }
    assert "mirror.example.com" not in result.stdout  # auth = false: nothing to write


# Tokens shorter than 4 characters are refused: "''''" stands for a lone quote.
@pytest.mark.skipif(sys.version_info < (3, 11), reason="quoted netrc values need Python 3.11+")
@pytest.mark.parametrize("token", [HOSTILE_TOKEN, 'a "b" \\c\\', "#not-a-comment", "''''"])
def test_tokens_that_need_quoting_read_back_exactly(tmp_path, token):
    result, path = netrc_of(tmp_path, token, token[::-1])
    assert result.returncode == 0, result.stderr
    hosts = netrc.netrc(str(path)).hosts
    assert hosts["pkgs.example.com"] == ("__token__", "", token)
    assert hosts["other.example.com"] == ("bot", "", token[::-1])


@pytest.mark.parametrize("token, why", [
    ("line\nbreak", "control character"),
    ("caf\u00e9", "non-ASCII"),
])
def test_tokens_netrc_cannot_carry_are_refused(tmp_path, token, why):
    result, _ = netrc_of(tmp_path, token, "tok2")
    assert result.returncode != 0
    assert result.stdout == ""
    assert why in result.stderr and "index 'corp'" in result.stderr
    assert "Traceback" not in result.stderr and token not in result.stderr


def test_two_credentials_for_one_host_are_refused(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "a"\nurl = "https://h.example.com/a/simple/"\n'
                           '[[index]]\nname = "b"\nurl = "https://h.example.com/b/simple/"\n')
    result = privpip("env", "--shell", "netrc", cwd=tmp_path, env={
        "PRIVPIP_INDEX_A_TOKEN": "token-a", "PRIVPIP_INDEX_B_TOKEN": "token-b"})
    assert result.returncode != 0 and result.stdout == ""
    assert "different credentials" in result.stderr


def test_unset_is_refused(tmp_path):
    write_config(tmp_path, CONFIG)
    result = privpip("env", "--shell", "netrc", "--unset", cwd=tmp_path)
    assert result.returncode == 2
    assert "--unset has no meaning for a netrc file" in result.stderr


def test_plain_pip_installs_with_the_netrc(index_server, make_venv, tmp_path):
    """What the Dockerfile's RUN --mount=type=secret does: pip, a credential-free URL, NETRC."""
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    result = privpip("env", "--shell", "netrc", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN})
    assert result.returncode == 0, result.stderr
    secret = tmp_path / "netrc"
    secret.write_text(result.stdout)
    secret.chmod(0o600)
    venv = make_venv()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, NETRC=str(secret), PIP_NO_INPUT="1")
    pip = subprocess.run(
        [venv_python(venv), "-m", "pip", "install", "-q", "--index-url", index_server.url,
         "corp-dep"], env=env, capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
