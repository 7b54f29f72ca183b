"""End to end: real pip, through privpip, against the real authenticated pypiserver."""

from __future__ import annotations

import pytest

from tests.conftest import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    installed,
    privpip,
    venv_python,
    write_config,
)


def test_install_wheel_with_env_token(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert PLAIN_TOKEN not in result.stdout + result.stderr


def test_sdist_with_private_build_dependency(index_server, make_venv, tmp_path):
    """pip's isolated build environment needs the private index (and its token) too."""
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "corp-app", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"


def test_hostile_token_authenticates(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "corp-app", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
    assert not (tmp_path / "pwned").exists()
