"""The local index keeps the client's parallelism: page fetches are never queued behind a pool.

A real threaded pypiserver (tests/multi_pypiserver.py) that waits before every answer, as a
remote registry does, and privpip's LocalIndex in this process.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from privpip.core.secret import Secret
from privpip.localindex import LocalIndex, Upstream
from tests import packaging_fixtures
from tests.helpers import free_port, write_htpasswd

TESTS = Path(__file__).resolve().parent.parent
TOKEN = "speed-Token_123"
LATENCY = 0.4
PARALLEL = 16


def start_upstream(base: Path, packages: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """The threaded pypiserver on 127.0.0.1 with one index under /idx; its simple root URL."""
    htpasswd = write_htpasswd(base / "htpasswd", {"__token__": TOKEN})
    port = free_port()
    process = subprocess.Popen([sys.executable, str(TESTS / "multi_pypiserver.py"), *options,
                                str(port), f"idx={packages}:{htpasswd}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}/idx/simple/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(root, timeout=5)  # noqa: S310 - loopback
            break
        except urllib.error.HTTPError:
            break  # 401: up
        except OSError:
            time.sleep(0.1)
    return process, root


@pytest.fixture(scope="module")
def slow_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("slow")
    packages = base / "packages"
    packages.mkdir()
    for n in range(PARALLEL):
        packaging_fixtures.write_wheel(packages, f"slow-{n}", "1.0",
                                       {f"slow_{n}/__init__.py": "VALUE = 1\n"})
    process, root = start_upstream(base, packages, f"--latency-ms={int(LATENCY * 1000)}")
    try:
        yield root
    finally:
        process.terminate()
        process.wait(10)


def _get(index: LocalIndex, path: str) -> int:
    raw = f"{index.username}:{index.password.reveal()}".encode()
    request = urllib.request.Request(f"http://{index.host}:{index.port}{path}",
                                     headers={"Authorization": "Basic "
                                              + base64.b64encode(raw).decode()})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        response.read()
        return int(response.status)


def test_parallel_page_requests_stay_parallel(slow_upstream: str) -> None:
    """16 clients ask 16 pages at once behind 0.4 s of latency: they take about one latency,
    not eight (the old pool of 2 workers for one upstream queued them two by two)."""
    upstream = Upstream("idx", slow_upstream, username="__token__", token=Secret(TOKEN))
    with LocalIndex([upstream]) as index:
        _get(index, "/simple/slow-0/")  # the server is built, one connection made
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda n=n: statuses.append(
            _get(index, f"/simple/slow-{n}/"))) for n in range(PARALLEL)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        took = time.monotonic() - start
        assert index.problems() == []
    assert statuses == [200] * PARALLEL
    # Queued two at a time this takes 8 x 0.4 = 3.2 s; in parallel about 0.4 s plus
    # pypiserver's own time on a busy 2-core machine.
    assert took < 4 * LATENCY, took
