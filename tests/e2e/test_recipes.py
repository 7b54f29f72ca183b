"""The lock-file recipes of docs/recipes.md, run for real through `privpip run` against the
authenticated pypiserver: each lock file names the index, and no form of the token."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers import (
    PLAIN_TOKEN,
    assert_no_token,
    installed,
    pp,
    venv_python,
    write_config,
)

ENV = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}


def find_uv() -> str:
    uv = pytest.importorskip("uv")
    return str(uv.find_uv_bin())


def uv_env(tmp_path: Path) -> dict[str, str]:
    return {**ENV, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_PYTHON": sys.executable,
            "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"}


def test_uv_lock_and_sync(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["corp-dep"]\n')
    uv = find_uv()
    env = uv_env(tmp_path)
    lock = pp("run", "--", uv, "lock", cwd=tmp_path, env=env, timeout=300)
    assert lock.returncode == 0, lock.stderr
    text = (tmp_path / "uv.lock").read_text()
    assert 'name = "corp-dep"' in text
    assert f'registry = "{index_server.url.rstrip("/")}' in text  # the real index, no loopback
    assert_no_token(text, "__token__", PLAIN_TOKEN)

    sync = pp("run", "--", uv, "sync", "--locked", cwd=tmp_path, env=env, timeout=300)
    assert sync.returncode == 0, sync.stderr
    assert installed(tmp_path / ".venv", "corp_dep") == "corp-dep 1.0"
    for path in tmp_path.rglob("*"):
        if path.is_file() and "uv-cache" not in path.parts and path.suffix in ("", ".toml",
                                                                                ".lock", ".txt",
                                                                                ".cfg", ".json"):
            assert_no_token(path.read_text(errors="replace"), "__token__", PLAIN_TOKEN)


def test_pip_compile_generate_hashes_then_require_hashes(index_server, tmp_path, make_venv):
    write_config(tmp_path, index_server.config())
    (tmp_path / "requirements.in").write_text("corp-dep\n")
    compile_ = pp("run", "--", sys.executable, "-m", "piptools", "compile", "--quiet",
                  "--generate-hashes", "--no-emit-index-url", "-o", "requirements.txt",
                  "requirements.in",
                  cwd=tmp_path, env={**ENV, "PIP_TOOLS_CACHE_DIR": str(tmp_path / "c")},
                  timeout=300)
    assert compile_.returncode == 0, compile_.stderr
    text = (tmp_path / "requirements.txt").read_text()
    assert "corp-dep==1.0" in text and "--hash=sha256:" in text
    assert_no_token(text, "__token__", PLAIN_TOKEN)
    # No --index-url line: privpip's config supplies the index, and the local index refuses
    # index options inside requirement files (they would bypass its routing).
    assert "--index-url" not in text

    venv = make_venv()
    install = pp("install", "--python", venv_python(venv), "--require-hashes",
                 "-r", "requirements.txt", cwd=tmp_path, env=ENV, timeout=300)
    assert install.returncode == 0, install.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"

    # A changed file is refused: the hashes are checked.
    tampered = text.split("--hash=sha256:")
    bad = tampered[0] + "--hash=sha256:" + "0" * 64 + tampered[1][64:]
    (tmp_path / "requirements.txt").write_text(bad)
    other = make_venv()
    refused = pp("install", "--python", venv_python(other), "--require-hashes",
                 "-r", "requirements.txt", cwd=tmp_path, env=ENV, timeout=300)
    assert refused.returncode != 0
    assert "HASHES" in refused.stderr or "hash" in refused.stderr.lower()
    assert installed(other, "corp_dep").startswith("<not importable")
