"""End to end: real pip, through privpip, against the real authenticated pypiserver."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import (
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


def test_install_with_keyring_token(index_server, make_venv, tmp_path):
    """A token stored in a real (file) keyring under service = index URL is used."""
    write_config(tmp_path, index_server.config())
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-m", "keyring", "set", index_server.url, "__token__"],
                   input=PLAIN_TOKEN + "\n", text=True, check=True, env={**os.environ, **env})
    venv = make_venv()
    result = privpip("-v", "install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env=env)
    assert result.returncode == 0, result.stderr
    assert "index corp: token from keyring (user __token__)" in result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_wrong_token_fails_with_pips_status_and_no_token_in_output(index_server, make_venv,
                                                                   tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    wrong = "wrong-token-" + "x" * 20
    result = privpip("install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": wrong})
    assert result.returncode == 1  # pip's own status for "no matching distribution"
    output = result.stdout + result.stderr
    assert "401" in output or "403" in output or "No matching distribution" in output
    assert wrong not in output
    assert "Traceback" not in output
    assert installed(venv, "corp_dep").startswith("<not importable")


def test_index_option_limits_indexes(index_server, make_venv, tmp_path):
    config = index_server.config() + (
        '\n[[index]]\nname = "other"\nurl = "https://other.example.invalid/simple/"\n'
    )
    write_config(tmp_path, config)
    venv = make_venv()
    # "other" has no credential and would fail resolution; --index corp skips it.
    result = privpip("--no-input", "install", "--index", "corp", "--python", venv_python(venv),
                     "corp-dep", cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    result = privpip("--no-input", "install", "--python", venv_python(venv), "corp-dep",
                     cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 77  # "no credential", apart from pip's own statuses
    assert "no credential for index 'other'" in result.stderr
    assert "PRIVPIP_INDEX_OTHER_TOKEN" in result.stderr


def test_pip_passthrough_and_exit_status(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    result = privpip("pip", "--python", venv_python(venv), "download", "--no-deps", "-d",
                     str(tmp_path / "dl"), "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "dl").iterdir()] == ["corp_dep-1.0-py3-none-any.whl"]
    result = privpip("pip", "--python", venv_python(venv), "--no-such-option", cwd=tmp_path,
                     env=env)
    assert result.returncode == 2  # pip's usage error status, passed through


def test_active_virtualenv_is_the_target(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("-v", "install", "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "VIRTUAL_ENV": str(venv)})
    assert result.returncode == 0, result.stderr
    assert f"target: {venv_python(venv)} (from VIRTUAL_ENV)" in result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_wrong_token_is_diagnosed_after_pip_fails(index_server, make_venv, tmp_path):
    """pip says "no versions"; privpip names the index, its answer and the fix: with netrc
    delivery by asking the index once after pip failed, with the local index (the default)
    from the upstream's own answer."""
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    wrong = "wrong-token-" + "y" * 20
    env = {"PRIVPIP_INDEX_CORP_TOKEN": wrong}
    result = privpip("install", "--delivery", "netrc", "--python", venv_python(venv),
                     "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert (f"privpip: index corp ({index_server.url}) rejected the token from "
            "env:PRIVPIP_INDEX_CORP_TOKEN (user __token__): HTTP 40") in result.stderr
    assert ("hint: set PRIVPIP_INDEX_CORP_TOKEN to a valid token (it is wrong, expired or "
            "may not read packages), or `unset PRIVPIP_INDEX_CORP_TOKEN` and run "
            "`privpip login corp`") in result.stderr
    assert wrong not in result.stdout + result.stderr
    result = privpip("install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env=env)
    assert result.returncode == 1
    assert f"privpip: index 'corp' ({index_server.url}corp-dep/) answered 40" in result.stderr
    assert (" to the token from env:PRIVPIP_INDEX_CORP_TOKEN; set PRIVPIP_INDEX_CORP_TOKEN to "
            "a valid token") in result.stderr
    assert "asking each index once" not in result.stderr
    assert wrong not in result.stdout + result.stderr


def test_wrong_keyring_token_is_diagnosed_with_login(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-m", "keyring", "set", index_server.url, "__token__"],
                   input="expired-token\n", text=True, check=True, env={**os.environ, **env})
    venv = make_venv()
    result = privpip("install", "--delivery", "netrc", "--python", venv_python(venv),
                     "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "index corp" in result.stderr
    assert "HTTP 401" in result.stderr or "HTTP 403" in result.stderr
    assert "`privpip login corp`" in result.stderr
    assert "expired-token" not in result.stdout + result.stderr
    result = privpip("install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env=env)
    assert result.returncode == 1
    assert f"privpip: index 'corp' ({index_server.url}corp-dep/) answered 40" in result.stderr
    assert (" to the token from keyring; store a new token with `privpip login corp` (it "
            "checks the token first), or set PRIVPIP_INDEX_CORP_TOKEN") in result.stderr
    assert "expired-token" not in result.stdout + result.stderr


def test_unreachable_index_is_diagnosed(make_venv, tmp_path):
    from tests.helpers import free_port

    url = f"http://127.0.0.1:{free_port()}/simple/"
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{url}"\ndefault = true\n')
    venv = make_venv()
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    result = privpip("install", "--delivery", "netrc", "--python", venv_python(venv), "--",
                     "--retries", "0", "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert f"privpip: index corp ({url}) could not be read: connection refused" in result.stderr
    assert "hint: check the URL in privpip.toml" in result.stderr
    result = privpip("install", "--python", venv_python(venv), "--", "--retries", "0",
                     "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert (f"privpip: index 'corp' ({url}corp-dep/) cannot be reached (Connection refused); "
            "check the index URL and the network") in result.stderr


def test_successful_install_probes_nothing(index_server, make_venv, tmp_path):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("-v", "install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "asking each index once" not in result.stderr


def test_options_after_install_go_to_pip(index_server, make_venv, tmp_path):
    """`privpip install -v NAME`: -v is pip's (privpip's own -v goes before `install`)."""
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "-v", "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "Using pip " in result.stdout  # pip -v says so
    assert "privpip: index corp: token from" not in result.stderr
