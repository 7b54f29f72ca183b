"""End to end: `privpip run -- COMMAND` and `privpip install --installer uv` against the real
authenticated pypiserver, with real pip, build, uv and pip-tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    PLAIN_TOKEN,
    TESTS,
    assert_no_token,
    bare_python,
    installed,
    privpip,
    venv_python,
    write_config,
)


def _uv() -> str | None:
    """uv on PATH, else the binary of the `uv` package the test extra installs."""
    try:
        from uv import find_uv_bin

        return shutil.which("uv") or str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


UV = _uv()
needs_uv = pytest.mark.skipif(UV is None, reason="uv is not installed")


def hostile_config(index_server) -> str:
    return index_server.config(extra=f'username = "{HOSTILE_USER}"\n')


CREDENTIALS = {
    "plain": (None, "__token__", PLAIN_TOKEN),
    "hostile": (HOSTILE_USER, HOSTILE_USER, HOSTILE_TOKEN),
}


def configure(index_server, tmp_path: Path, which: str) -> tuple[dict[str, str], str, str]:
    username, user, token = CREDENTIALS[which]
    extra = f'username = "{username}"\n' if username else ""
    write_config(tmp_path, index_server.config(extra=extra))
    return {"PRIVPIP_INDEX_CORP_TOKEN": token}, user, token


# ---------------------------------------------------------------------------
# exit status, signals, clean-up


def test_run_passes_exit_status_through(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("run", "--", sys.executable, "-c", "raise SystemExit(23)", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 23, result.stderr


def test_run_dies_of_the_childs_signal(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    result = privpip("run", "--", sys.executable, "-c", code, cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == -15, result.stderr


def test_run_forwards_sigterm_and_cleans_up(index_server, tmp_path):
    """SIGTERM sent to privpip reaches COMMAND; COMMAND's exit status is privpip's; the
    netrc is gone afterwards. Sent as soon as COMMAND runs (its own handler set): privpip
    passes signals on from before COMMAND starts (runner.run)."""
    import signal

    write_config(tmp_path, index_server.config())
    code = (
        "import os, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\n"
        "print(os.environ['NETRC'], flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "privpip", "run", "--", sys.executable, "-c", code],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(TESTS.parent),
             "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN},
    )
    assert process.stdout is not None and process.stderr is not None
    netrc = Path(process.stdout.readline().strip())
    assert netrc.is_file()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 7, process.stderr.read()
    assert not netrc.exists() and not netrc.parent.exists()


def test_run_environment_and_clean_up(index_server, tmp_path):
    """The child sees credential-free pip URLs, uv's variables and a private netrc, which is
    removed afterwards."""
    write_config(tmp_path, index_server.config())
    code = (
        "import os, json, stat; n = os.environ['NETRC']; "
        "print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(('PIP_', 'UV_'))"
        " or k == 'NETRC'})); print(oct(stat.S_IMODE(os.stat(n).st_mode)))"
    )
    # --delivery netrc: what the child sees without the local index (its default since issue 11).
    result = privpip("run", "--delivery", "netrc", "--", sys.executable, "-c", code,
                     cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    import json

    lines = result.stdout.splitlines()
    seen = json.loads(lines[0])
    assert seen["PIP_INDEX_URL"] == index_server.url
    assert seen["UV_DEFAULT_INDEX"] == f"corp={index_server.url}"
    assert seen["UV_INDEX_CORP_USERNAME"] == "__token__"
    assert seen["UV_INDEX_CORP_PASSWORD"] == PLAIN_TOKEN
    assert seen["PIP_NO_INPUT"] == "1"
    assert lines[1] == "0o600"
    assert not Path(seen["NETRC"]).exists()
    assert not Path(seen["NETRC"]).parent.exists()
    assert PLAIN_TOKEN not in result.stderr


def test_run_without_command_is_a_usage_error(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("run", cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_run_missing_command_is_clear(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("run", "--", "no-such-command-xyz", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 127  # as a shell says "command not found"
    assert "privpip: error: cannot run no-such-command-xyz" in result.stderr


def test_run_verbose_says_which_python_reads_the_netrc(index_server, tmp_path):
    env, _user, _token = configure(index_server, tmp_path, "hostile")
    env["PRIVPIP_DELIVERY"] = "netrc"  # only the netrc delivery writes tokens for a reader
    result = privpip("-v", "run", "--", "true", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "quoted form that Python 3.11+ reads" in result.stderr
    result = privpip("-v", "run", "--", sys.executable, "-c", "pass", cwd=tmp_path, env=env)
    assert f"netrc reader: {sys.executable} (from COMMAND)" in result.stderr


def test_run_refuses_a_space_token_for_an_old_python(index_server, tmp_path):
    from tests.helpers import python_for

    old = python_for("3.10") or python_for("3.9") or python_for("3.8")
    if old is None:
        pytest.skip("no Python older than 3.11 here")
    env, _user, _token = configure(index_server, tmp_path, "hostile")
    env["PRIVPIP_DELIVERY"] = "netrc"
    result = privpip("run", "--", old, "-c", "pass", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "contains a space" in result.stderr
    assert HOSTILE_TOKEN not in result.stderr


# ---------------------------------------------------------------------------
# python -m build, uv, pip-compile, pip lock


def strace_execve(argv: list[str], log: Path) -> list[str]:
    return ["strace", "-f", "-qq", "-s", "4096", "-e", "trace=execve", "-o", str(log), *argv]


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_build_with_private_build_dependency(index_server, tmp_path, which):
    """python -m build makes an isolated env and fills it with pip: pip needs the private index
    (PIP_INDEX_URL) and the token (netrc) there; neither argv nor output shows the token."""
    env, user, token = configure(index_server, tmp_path, which)
    project = tmp_path / "proj"
    for name, text in packaging_fixtures.app_source_files("corp-tool", "2.1", "corp_tool").items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    argv = [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"),
            str(project)]
    traced = shutil.which("strace") is not None
    log = tmp_path / "execve.log"
    cmd = strace_execve(argv, log) if traced else argv
    result = privpip("run", "--", *cmd, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "dist" / "corp_tool-2.1-py3-none-any.whl").is_file()
    assert_no_token(result.stdout + result.stderr, user, token)
    if traced:
        text = log.read_text(errors="replace")
        assert '"pip", ' in text and '"install"' in text  # build's pip ran, and was traced
        assert_no_token(text, user, token)


@needs_uv
@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_uv_pip_install_through_run(index_server, tmp_path, make_venv, which):
    """uv reads UV_DEFAULT_INDEX=name=url and UV_INDEX_<NAME>_USERNAME/PASSWORD; an sdist
    whose build backend is only on the private index builds; no argv carries the token."""
    env, user, token = configure(index_server, tmp_path, which)
    venv = make_venv()
    env["UV_NO_CACHE"] = "1"
    assert UV is not None
    argv = [UV, "pip", "install", "corp-app", "--python", venv_python(venv)]
    traced = shutil.which("strace") is not None
    log = tmp_path / "execve.log"
    result = privpip("run", "--", *(strace_execve(argv, log) if traced else argv),
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
    assert_no_token(result.stdout + result.stderr, user, token)
    if traced:
        text = log.read_text(errors="replace")
        assert "_in_process" in text or "build_wheel" in text  # uv ran the backend, traced
        assert_no_token(text, user, token)


def test_pip_compile_writes_no_token(index_server, tmp_path):
    pytest.importorskip("piptools")
    env, user, token = configure(index_server, tmp_path, "hostile")
    # With the local index, pip-compile would record the run's local URL (--index-url
    # http://127.0.0.1:PORT/simple/); the netrc delivery records the real index.
    env["PRIVPIP_DELIVERY"] = "netrc"
    (tmp_path / "requirements.in").write_text("corp-dep\n")
    result = privpip("run", "--", sys.executable, "-m", "piptools", "compile", "--quiet",
                     "--no-strip-extras", "--generate-hashes", "-o", "requirements.txt",
                     "requirements.in", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "requirements.txt").read_text()
    assert "corp-dep==1.0" in written
    assert "--index-url" in written  # the index is recorded, without credentials
    assert f"--index-url {index_server.url}" in written
    assert_no_token(written, user, token)
    assert_no_token(result.stdout + result.stderr, user, token)


def test_pip_lock_writes_no_token(index_server, tmp_path):
    has_lock = subprocess.run([sys.executable, "-m", "pip", "lock", "--help"],
                              capture_output=True).returncode == 0
    if not has_lock:
        pytest.skip("this pip has no `pip lock`")
    env, user, token = configure(index_server, tmp_path, "plain")
    result = privpip("run", "--", sys.executable, "-m", "pip", "lock", "-o", "pylock.toml",
                     "corp-dep", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "pylock.toml").read_text()
    assert "corp-dep" in written and "127.0.0.1" in written
    assert_no_token(written, user, token)


# ---------------------------------------------------------------------------
# privpip install --installer uv


@needs_uv
@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_install_with_uv(index_server, tmp_path, make_venv, which):
    env, user, token = configure(index_server, tmp_path, which)
    env["UV_NO_CACHE"] = "1"
    venv = make_venv()
    result = privpip("-v", "install", "--installer", "uv", "--python", venv_python(venv),
                     "corp-app", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_app") == "corp-app 1.0"
    assert " pip install --python " in result.stderr  # it was uv that ran
    assert_no_token(result.stdout + result.stderr, user, token)


@needs_uv
def test_installer_from_config(index_server, tmp_path, make_venv):
    write_config(tmp_path, 'installer = "uv"\n' + index_server.config())
    venv = make_venv()
    result = privpip("-v", "install", "--python", venv_python(venv), "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "UV_NO_CACHE": "1"})
    assert result.returncode == 0, result.stderr
    assert "installer: uv (from config)" in result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    # and the flag wins over the config
    venv2 = make_venv()
    result = privpip("-v", "install", "--installer", "pip", "--python", venv_python(venv2),
                     "corp-dep", cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "-m pip install" in result.stderr
    assert installed(venv2, "corp_dep") == "corp-dep 1.0"


def test_installer_key_does_not_change_privpip_pip(index_server, tmp_path):
    """`installer = "uv"` is about `privpip install`; `privpip pip ...` stays pip."""
    write_config(tmp_path, 'installer = "uv"\n' + index_server.config())
    result = privpip("-v", "pip", "download", "--no-deps", "-d", str(tmp_path / "dl"),
                     "corp-dep", cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "-m pip download" in result.stderr
    assert (tmp_path / "dl" / "corp_dep-1.0-py3-none-any.whl").is_file()


@needs_uv
def test_install_with_uv_passes_exit_status(index_server, tmp_path, make_venv):
    write_config(tmp_path, index_server.config())
    venv = make_venv()
    result = privpip("install", "--installer", "uv", "--python", venv_python(venv),
                     "no-such-package-xyz", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, "UV_NO_CACHE": "1"})
    assert result.returncode == 1
    assert "no-such-package-xyz" in result.stderr


def test_install_with_uv_missing(index_server, tmp_path, make_venv):
    write_config(tmp_path, index_server.config())
    python, env = bare_python(tmp_path, make_venv)
    result = subprocess.run(
        [python, "-m", "privpip", "install", "--installer", "uv", "--python", python, "corp-dep"],
        cwd=tmp_path, env={**os.environ, **env, "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN},
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert "privpip: error: --installer uv: uv is not installed" in result.stderr
    assert "hint: install it" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_installer_in_config(tmp_path, index_server):
    write_config(tmp_path, 'installer = "poetry"\n' + index_server.config())
    result = privpip("install", "corp-dep", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 2
    assert "privpip.toml: installer: must be one of 'pip', 'uv', not 'poetry'" in result.stderr
