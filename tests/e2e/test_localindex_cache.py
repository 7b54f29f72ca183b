"""Caches hit through the local index: warm reinstalls download nothing from the upstream.

A real threaded pypiserver on 127.0.0.1 that sends Cache-Control (and Last-Modified) on files
and logs every request, real pip and uv with their own caches, privpip as users run it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    TESTS,
    installed,
    privpip,
    start_multi_pypiserver,
    token_forms,
    venv_python,
    write_config,
    write_htpasswd,
)

TOKEN = "cache-Token_1234567"


@dataclass
class Counting:
    root: str
    packages: Path
    log: Path

    def config(self) -> str:
        return (f'[[index]]\nname = "corp"\nurl = "{self.root}/idx/simple/"\n'
                'default = true\npackages = ["cache-*"]\n')

    def downloads(self) -> int:
        """Upstream file transfers so far, whole (200) or a range (206, uv reads a wheel's
        metadata so); a 304 or a cache hit is not one."""
        return sum(1 for line in self.log.read_text().splitlines()
                   if re.match(r"GET /idx/packages/\S+ 20[06]$", line))


def _wheel(packages: Path, version: str) -> None:
    packaging_fixtures.write_wheel(packages, "cache-pkg", version, {
        "cache_pkg/__init__.py": f"VALUE = 'cache-pkg {version}'\n",
        "cache_pkg/data.txt": "x" * 200_000})


@pytest.fixture
def counting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counting]:
    base = tmp_path_factory.mktemp("counting")
    packages = base / "packages"
    packages.mkdir()
    _wheel(packages, "1.0")
    log = base / "requests.log"
    log.touch()
    htpasswd = write_htpasswd(base / "htpasswd", {"__token__": TOKEN})
    process, root = start_multi_pypiserver([f"idx={packages}:{htpasswd}"],
                                           ("--cache-control=3600", f"--log={log}"))
    try:
        yield Counting(root, packages, log)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip's and uv's own caches, as a user has them (the suite turns pip's off)."""
    monkeypatch.delenv("PIP_NO_CACHE_DIR", raising=False)
    cache = tmp_path / "caches"
    monkeypatch.setenv("PIP_CACHE_DIR", str(cache / "pip"))
    monkeypatch.setenv("UV_CACHE_DIR", str(cache / "uv"))
    return cache


def _install(counting: Counting, project: Path, venv: Path, installer: str,
             *extra: str) -> subprocess.CompletedProcess[str]:
    write_config(project, counting.config())
    result = privpip("-v", "install", "--installer", installer, "--python", venv_python(venv),
                     *extra, "cache-pkg", cwd=project, env={"PRIVPIP_INDEX_CORP_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    return result


def _scan_for_credentials(cache: Path) -> None:
    """No upstream token in any form, and no per-run credential (its user is privpip-XXXX,
    so a stored URL userinfo or Basic header would show it), in any cache file."""
    forms = token_forms("__token__", TOKEN)
    local_basic = base64.b64encode(b"privpip-").decode()[:10]  # a Basic header's start
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files, "the caches are empty: the test would prove nothing"
    for path in files:
        data = path.read_bytes().decode("latin-1")
        for form in forms:
            assert form not in data, (path, "upstream token")
        assert not re.search(r"privpip-[0-9a-f]{8}:", data), (path, "per-run userinfo")
        assert local_basic not in data, (path, "per-run Basic header")


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_warm_reinstall_downloads_nothing_and_sees_new_uploads(counting, caches, make_venv,
                                                               tmp_path, installer):
    project = tmp_path / "project"
    project.mkdir()
    first = _install(counting, project, make_venv(), installer)
    cold = counting.downloads()
    assert cold >= 1
    url = re.search(r"local index: (\S+)", first.stderr)
    # A warm reinstall into a fresh environment: the same URLs, nothing downloaded.
    venv = make_venv()
    second = _install(counting, project, venv, installer)
    assert re.search(r"local index: (\S+)", second.stderr).group(1) == url.group(1)  # type: ignore[union-attr]
    assert installed(venv, "cache_pkg") == "cache-pkg 1.0"
    assert counting.downloads() == cold, counting.log.read_text()
    # A version uploaded between two runs is installed on the next run (pages stay fresh).
    _wheel(counting.packages, "2.0")
    venv = make_venv()
    _install(counting, project, venv, installer)
    assert installed(venv, "cache_pkg") == "cache-pkg 2.0"
    assert counting.downloads() > cold
    _scan_for_credentials(caches)


def test_concurrent_runs_both_work(counting, caches, make_venv, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_config(project, counting.config())
    venvs = [make_venv(), make_venv()]
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "PRIVPIP_INDEX_CORP_TOKEN": TOKEN}
    runs = [subprocess.Popen([sys.executable, "-m", "privpip", "-v", "install", "--python",
                              venv_python(venv), "cache-pkg"], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL) for venv in venvs]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_out, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    for venv in venvs:
        assert installed(venv, "cache_pkg") == "cache-pkg 1.0"
    urls = {re.search(r"local index: (\S+)", err).group(1) for _out, err in outputs}  # type: ignore[union-attr]
    if len(urls) == 2:  # they overlapped: the later one said why its URL differs
        assert any("is busy (another privpip run?)" in err for _out, err in outputs)


def _get(index, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    raw = f"{index.username}:{index.password.reveal()}".encode()
    headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    request = urllib.request.Request(f"http://{index.host}:{index.port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_conditional_requests_for_pages_and_files(counting):
    from privpip.core.secret import Secret
    from privpip.localindex import LocalIndex, Upstream

    upstream = Upstream("corp", f"{counting.root}/idx/simple/", username="__token__",
                        token=Secret(TOKEN))
    with LocalIndex([upstream]) as index:
        status, headers, page = _get(index, "/simple/cache-pkg/")
        assert status == 200 and headers["Cache-Control"] == "no-cache"
        etag = headers["ETag"]
        status, headers, body = _get(index, "/simple/cache-pkg/", **{"If-None-Match": etag})
        assert (status, body, headers["ETag"]) == (304, b"", etag)
        # The file: the upstream's caching headers pass through, and so does its 304.
        path = re.search(rb'href="(/files/[^"#]+)', page)
        assert path is not None
        status, headers, data = _get(index, path.group(1).decode())
        assert status == 200 and headers["Cache-Control"] == "public, max-age=3600"
        assert int(headers["Content-Length"]) == len(data) and "Last-Modified" in headers
        status, _headers, data = _get(index, path.group(1).decode(),
                                      **{"If-Modified-Since": headers["Last-Modified"]})
        assert (status, data) == (304, b"")
        # A new upload changes the page, so its old ETag no longer matches.
        _wheel(counting.packages, "2.0")
        _until_the_upstream_lists(counting, "cache_pkg-2.0")
        status, headers, body = _get(index, "/simple/cache-pkg/", **{"If-None-Match": etag})
        assert status == 200 and b"cache_pkg-2.0" in body and headers["ETag"] != etag


def _until_the_upstream_lists(counting: Counting, filename: str) -> None:
    """pypiserver learns of a new file from a file-system watcher, a moment later: wait for
    its own page to list it, so the test is about the local index, not that race."""
    import time
    import urllib.request

    request = urllib.request.Request(f"{counting.root}/idx/simple/cache-pkg/", headers={
        "Authorization": "Basic " + base64.b64encode(f"__token__:{TOKEN}".encode()).decode()})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            if filename.encode() in response.read():
                return
        time.sleep(0.05)
    raise AssertionError(f"the upstream never listed {filename}")


def _provenance(venv: Path) -> dict[str, object]:
    (path,) = venv.glob("lib/python*/site-packages/cache_pkg-1.0.dist-info/provenance_url.json")
    record = next(path.parent.glob("RECORD")).read_text()
    assert f"{path.parent.name}/provenance_url.json," in record  # pip uninstall removes it
    return json.loads(path.read_text())


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_warm_reinstall_records_the_listed_file_and_its_declared_hash(counting, caches,
                                                                      make_venv, tmp_path,
                                                                      installer):
    """The installer takes the wheel from its cache (nothing downloaded upstream): the page
    this run served listed it, so its record names the upstream URL, the index and the
    SHA-256 the page declared, which is the wheel's own."""
    project = tmp_path / "project"
    project.mkdir()
    (wheel,) = counting.packages.glob("cache_pkg-1.0-*.whl")
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    cold_venv = make_venv()
    _install(counting, project, cold_venv, installer)
    cold = counting.downloads()
    streamed = _provenance(cold_venv)
    venv = make_venv()
    warm = _install(counting, project, venv, installer)
    assert counting.downloads() == cold, counting.log.read_text()
    assert "listed, from the installer's cache" in warm.stderr
    assert _provenance(venv) == streamed == {
        "url": f"{counting.root}/idx/packages/{wheel.name}",
        "archive_info": {"hashes": {"sha256": sha256}},
        "index_url": f"{counting.root}/idx/simple/"}
    assert TOKEN not in json.dumps(streamed)


def test_uv_gets_each_small_wheel_with_one_upstream_request(counting, caches, make_venv,
                                                          tmp_path):
    """uv reads a wheel's metadata with a HEAD and a range, then fetches the whole file: the
    local index asks the upstream once (privpip/localindex/held.py), and the provenance
    record still has the SHA-256 of the bytes served."""
    project = tmp_path / "project"
    project.mkdir()
    (wheel,) = counting.packages.glob("cache_pkg-1.0-*.whl")
    venv = make_venv()
    _install(counting, project, venv, "uv")
    assert installed(venv, "cache_pkg") == "cache-pkg 1.0"
    asked = [line for line in counting.log.read_text().splitlines()
             if line.split()[1].startswith("/idx/packages/")]
    assert asked == [f"GET /idx/packages/{wheel.name} 200"]
    assert _provenance(venv)["archive_info"] == {
        "hashes": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}}


def test_warm_reinstall_with_find_links_records_nothing(counting, caches, make_venv, tmp_path):
    """A local find-links directory with the same wheel: which of the two pip took is not
    known afterwards, so the page's listing proves nothing and the record is left out."""
    project = tmp_path / "project"
    project.mkdir()
    _install(counting, project, make_venv(), "pip")
    cold = counting.downloads()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "1.0")
    venv = make_venv()
    _install(counting, project, venv, "pip", "--find-links", str(wheels))
    assert counting.downloads() == cold
    assert installed(venv, "cache_pkg") == "cache-pkg 1.0"
    assert not list(venv.glob("lib/python*/site-packages/cache_pkg-1.0.dist-info/"
                              "provenance_url.json"))
