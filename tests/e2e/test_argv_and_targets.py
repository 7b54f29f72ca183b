"""The argv guarantee (strace), clean-up, and target environments on old and new Pythons."""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import quote

import pytest

from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    installed,
    newest_python,
    privpip,
    python_for,
    venv_python,
    write_config,
)
from tests.security import leakscan
from tests.security.leakscan import execve_argvs


def secret_forms(user: str, token: str) -> list[bytes]:
    return list(leakscan.secret_forms(user, token).values())


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_no_token_in_any_argv_during_isolated_sdist_build(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config(extra=f'username = "{HOSTILE_USER}"\n'))
    venv = make_venv()
    trace = tmp_path / "trace.txt"
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = privpip(
        "install", "--python", venv_python(venv), "corp-app", cwd=tmp_path,
        env={"PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN, "TMPDIR": str(temp)},
        wrapper=["strace", "-f", "-qq", "-e", "trace=execve", "-s", "65535", "-xx", "-o",
                 str(trace)],
    )
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
    argvs = execve_argvs(trace)
    # pip, the isolated build env's child pip, and the build backend hook all ran:
    joined = [b" ".join(argv) for argv in argvs]
    assert any(b"pip" in a and b"install" in a and b"--ignore-installed" in a for a in joined), \
        "the child pip that installs build dependencies was not seen; the test proves nothing"
    assert len(argvs) >= 4
    for argv in joined:
        for form in secret_forms(HOSTILE_USER, HOSTILE_TOKEN):
            assert form not in argv
    # The private netrc directory is gone.
    assert [p.name for p in temp.iterdir() if p.name.startswith("privpip-")] == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_control_plain_pip_with_token_in_url_leaks_into_argv(index_server, make_venv, tmp_path):
    """The pitfall privpip avoids, measured with the same scanner: the scanner can fail."""
    venv = make_venv()
    trace = tmp_path / "trace.txt"
    url = index_server.url.replace(
        "://", f"://{HOSTILE_USER}:{quote(HOSTILE_TOKEN, safe='')}@")
    env = {**os.environ, "PIP_INDEX_URL": url, "PIP_NO_INPUT": "1"}
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-s", "65535", "-xx", "-o",
                    str(trace), venv_python(venv), "-m", "pip", "install", "corp-app"],
                   env=env, capture_output=True, check=True)
    leaked = [argv for argv in execve_argvs(trace)
              if any(form in b" ".join(argv) for form in secret_forms(HOSTILE_USER, HOSTILE_TOKEN))]
    assert leaked, "expected pip's build-dependency child to carry the token in its argv"


def _target_case(version: str, token: str, user: str, index_server, make_venv, tmp_path):
    python = python_for(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed")
    write_config(tmp_path, index_server.config(extra=f'username = "{user}"\n'))
    venv = make_venv(python)
    result = privpip("install", "--python", venv_python(venv), "corp-app", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": token})
    return venv, result


@pytest.mark.parametrize("version", ["3.8", "newest"])
def test_target_python_plain_token(version, index_server, make_venv, tmp_path):
    if version == "newest":
        found = newest_python()
        assert found is not None
        version = found[0]
    venv, result = _target_case(version, PLAIN_TOKEN, "__token__", index_server, make_venv,
                                tmp_path)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"


def test_target_python_38_hostile_token_is_refused_before_pip_runs(index_server, make_venv,
                                                                    tmp_path, monkeypatch):
    # Only the netrc delivery hands the token to the target's netrc parser.
    monkeypatch.setenv("PRIVPIP_DELIVERY", "netrc")
    venv, result = _target_case("3.8", HOSTILE_TOKEN, HOSTILE_USER, index_server, make_venv,
                                tmp_path)
    assert result.returncode == 1
    assert "contains a space" in result.stderr and "Python 3.8" in result.stderr
    assert "Traceback" not in result.stderr
    assert HOSTILE_TOKEN not in result.stdout + result.stderr
    assert "Collecting" not in result.stdout  # pip never started


def test_target_python_38_hostile_token_installs_through_the_local_index(
        index_server, make_venv, tmp_path):
    """The local index keeps the token: Python 3.8's netrc parser reads only the per-run one."""
    venv, result = _target_case("3.8", HOSTILE_TOKEN, HOSTILE_USER, index_server, make_venv,
                                tmp_path)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
    assert HOSTILE_TOKEN not in result.stdout + result.stderr


def test_newest_python_hostile_token_installs(index_server, make_venv, tmp_path):
    found = newest_python()
    assert found is not None
    venv, result = _target_case(found[0], HOSTILE_TOKEN, HOSTILE_USER, index_server, make_venv,
                                tmp_path)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
