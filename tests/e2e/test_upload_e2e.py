"""End to end: `privpip upload` with real twine to a real authenticated pypiserver, then
`privpip install` of what was uploaded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    HOSTILE_TOKEN,
    HOSTILE_USER,
    IndexServer,
    assert_no_token,
    bare_python,
    installed,
    privpip,
    start_pypiserver,
    venv_python,
    write_config,
    write_htpasswd,
)

pytest.importorskip("twine")


@pytest.fixture
def upload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A fresh, empty pypiserver (with the build helper only) that accepts uploads."""
    base = tmp_path_factory.mktemp("upload-index")
    packages = base / "packages"
    packages.mkdir()
    packaging_fixtures.write_wheel(packages, "corp-build-helper", "1.0",
                                   {"corp_build_helper.py": packaging_fixtures.BACKEND})
    htpasswd = write_htpasswd(base / "htpasswd", {HOSTILE_USER: HOSTILE_TOKEN})
    process, root = start_pypiserver(packages, htpasswd, "download,list,update",
                                     base / "server.log")
    yield IndexServer(root, packages, {HOSTILE_USER: HOSTILE_TOKEN}, process)
    process.terminate()
    process.wait(10)


ENV = {"PRIVPIP_INDEX_CORP_TOKEN": HOSTILE_TOKEN}


def dists(directory: Path, version: str = "1.2.0") -> list[Path]:
    directory.mkdir(exist_ok=True)
    wheel = packaging_fixtures.write_wheel(
        directory, "corp-lib", version, {"corp_lib/__init__.py": f"VALUE = 'corp-lib {version}'\n"})
    sdist = packaging_fixtures.write_sdist(directory, "corp-tool", version, "corp_tool")
    return [wheel, sdist]


def configure(server: IndexServer, tmp_path: Path) -> None:
    write_config(tmp_path, server.config(extra=f'username = "{HOSTILE_USER}"\n'))


def test_upload_then_install(upload_server, tmp_path, make_venv):
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    result = privpip("upload", *map(str, files), cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert_no_token(result.stdout + result.stderr, HOSTILE_USER, HOSTILE_TOKEN)
    assert sorted(p.name for p in upload_server.packages.iterdir()) == sorted(
        ["corp_build_helper-1.0-py3-none-any.whl", *(f.name for f in files)])

    venv = make_venv()
    result = privpip("install", "--python", venv_python(venv), "corp-lib", "corp-tool",
                     cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_lib") == "corp-lib 1.2.0"
    assert installed(venv, "corp_tool") == "corp-tool 1.2.0"


def test_reupload_says_the_version_exists(upload_server, tmp_path):
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    assert privpip("upload", str(files[0]), cwd=tmp_path, env=ENV).returncode == 0
    result = privpip("upload", str(tmp_path / "dist"), cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert (
        "privpip: error: version 1.2.0 of corp-lib (corp_lib-1.2.0-py3-none-any.whl) already "
        "exists on index 'corp'; registries refuse re-uploads\n"
    ) in result.stderr
    assert "<html>" not in result.stderr  # twine's INFO blocks are hidden without -v
    assert "Traceback" not in result.stderr
    assert not (upload_server.packages / files[1].name).exists()  # twine stopped there


def test_bad_version_is_refused_before_uploading(upload_server, tmp_path):
    configure(upload_server, tmp_path)
    good = dists(tmp_path / "dist")
    bad = packaging_fixtures.write_wheel(tmp_path / "dist", "corp-lib", "1.2.final!x",
                                         {"corp_lib/__init__.py": ""})
    before = sorted(p.name for p in upload_server.packages.iterdir())
    result = privpip("upload", *map(str, good), str(bad), cwd=tmp_path, env=ENV)
    assert result.returncode == 2
    assert (f"privpip: error: {bad}: '1.2.final!x' is not a valid version (PEP 440)"
            in result.stderr)
    assert sorted(p.name for p in upload_server.packages.iterdir()) == before


def test_not_a_distribution(upload_server, tmp_path):
    configure(upload_server, tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    result = privpip("upload", "notes.txt", "missing.whl", cwd=tmp_path, env=ENV)
    assert result.returncode == 2
    assert "privpip: error: missing.whl: no such file" in result.stderr


def test_wrong_token_fails_without_leaking(upload_server, tmp_path):
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    wrong = HOSTILE_TOKEN + "-wrong"
    result = privpip("upload", str(files[0]), cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": wrong})
    assert result.returncode != 0
    assert "already exists" not in result.stderr
    assert_no_token(result.stdout + result.stderr, HOSTILE_USER, wrong)


def test_upload_needs_an_index_name_when_several(upload_server, tmp_path):
    write_config(tmp_path, upload_server.config() + upload_server.config("other", False))
    files = dists(tmp_path / "dist")
    result = privpip("upload", str(files[0]), cwd=tmp_path, env=ENV)
    assert result.returncode == 2
    assert "pass --index NAME; configured: corp, other" in result.stderr


def test_upload_url_must_be_known(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://pkgs.example.com/pypi/"\n')
    files = dists(tmp_path / "dist")
    result = privpip("upload", str(files[0]), cwd=tmp_path, env=ENV)
    assert result.returncode == 2
    assert "has a shape privpip does not know the upload endpoint for" in result.stderr
    assert 'hint: add upload-url = "..." to that [[index]] table' in result.stderr


def test_explicit_upload_url_is_used(upload_server, tmp_path):
    write_config(tmp_path, (
        # Same origin: another one needs its own credential (tests/test_hardening.py).
        f'[[index]]\nname = "corp"\nurl = "{upload_server.root}/pypi/"\n'
        f'username = "{HOSTILE_USER}"\nupload-url = "{upload_server.root}/"\n'))
    files = dists(tmp_path / "dist")
    result = privpip("-v", "upload", str(files[0]), cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert f"upload URL: {upload_server.root}/" in result.stderr
    assert (upload_server.packages / files[0].name).is_file()


def test_twine_argv_holds_no_token(upload_server, tmp_path):
    import shutil

    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    log = tmp_path / "execve.log"
    result = subprocess.run(
        ["strace", "-f", "-qq", "-s", "4096", "-e", "trace=execve", "-o", str(log),
         sys.executable, "-m", "privpip", "upload", str(files[0])],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent), **ENV},
        capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    text = log.read_text(errors="replace")
    assert '"twine", "upload"' in text
    assert_no_token(text, HOSTILE_USER, HOSTILE_TOKEN)


def test_missing_twine(upload_server, tmp_path, make_venv):
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    python, env = bare_python(tmp_path, make_venv)
    result = subprocess.run(
        [python, "-m", "privpip", "upload", "--python", python, str(files[0])],
        cwd=tmp_path, env={**os.environ, **env, **ENV},
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    assert "privpip: error: twine is not installed" in result.stderr
    assert "and there is no `twine` on PATH" in result.stderr
    assert "hint: install it next to privpip (`pipx inject privpip twine`" in result.stderr
    assert "Traceback" not in result.stderr


def test_twine_on_path_is_used(upload_server, tmp_path, make_venv):
    """twine installed by pipx or `uv tool`: not importable by privpip, but on PATH."""
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    python, env = bare_python(tmp_path, make_venv)
    bin_dir = tmp_path / "tool-bin"
    bin_dir.mkdir()
    # The test environment's own twine script, whose shebang names the interpreter that has it.
    (bin_dir / "twine").symlink_to(Path(sys.executable).parent / "twine")
    env["PATH"] = str(bin_dir)
    result = subprocess.run(
        [python, "-m", "privpip", "-v", "upload", "--python", python],
        cwd=tmp_path, env={**os.environ, **env, **ENV},
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert f"privpip: twine: {bin_dir / 'twine'}\n" in result.stderr
    assert_no_token(result.stdout + result.stderr, HOSTILE_USER, HOSTILE_TOKEN)
    assert {f.name for f in files} <= {p.name for p in upload_server.packages.iterdir()}


def test_no_files_uploads_dist(upload_server, tmp_path):
    configure(upload_server, tmp_path)
    files = dists(tmp_path / "dist")
    (tmp_path / "dist" / "notes.txt").write_text("not a distribution, skipped")
    result = privpip("upload", "--index", "corp", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert {f.name for f in files} <= {p.name for p in upload_server.packages.iterdir()}


@pytest.mark.parametrize("make_dist", [False, True], ids=["no-dist", "empty-dist"])
def test_no_files_and_nothing_in_dist(upload_server, tmp_path, make_dist):
    configure(upload_server, tmp_path)
    if make_dist:
        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / "README").write_text("x")
    result = privpip("upload", cwd=tmp_path, env=ENV)
    assert result.returncode == 2, result.stderr
    found = ("dist/ has no .whl, .tar.gz or .zip files" if make_dist
             else "there is no dist/ directory here")
    assert result.stderr == (
        f"privpip: error: no files given, and {found}\n"
        "  hint: build first (`python -m build` or `uv build` write dist/), or name the "
        "files: privpip upload path/to/file.whl\n")
