"""The local index's threads leave SIGINT and SIGTERM to the main thread, which passes them on."""

from __future__ import annotations

import base64
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from privpip.localindex import LocalIndex, Upstream
from tests.helpers import free_port


def _blocked(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("SigBlk:")), 16)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_every_thread_of_the_local_index_blocks_the_terminating_signals():
    # Two upstreams: the second one's page is fetched by the pool's thread.
    dead = [Upstream(f"dead{n}", f"http://127.0.0.1:{free_port()}/simple/") for n in (1, 2)]
    with LocalIndex(dead, timeout=2) as index:
        auth = base64.b64encode(f"{index.username}:{index.password.reveal()}".encode()).decode()
        request = urllib.request.Request(index.url + "some-name/",
                                         headers={"Authorization": f"Basic {auth}"})
        with pytest.raises(urllib.error.HTTPError):  # 502: a page request ran through them all
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
        ours = [t for t in threading.enumerate() if t.name.startswith("privpip-")]
        assert {t.name.partition("_")[0] for t in ours} >= {"privpip-localindex",
                                                            "privpip-upstream"}
        for thread in ours:
            assert thread.native_id is not None
            mask = _blocked(thread.native_id)
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                assert mask & (1 << (signum - 1)), (thread.name, signal.Signals(signum).name)
    assert not _blocked(threading.main_thread().native_id or 0) & (1 << (signal.SIGINT - 1))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_keyring_thread_blocks_the_terminating_signals_too():
    """A hanging keyring thread outlives its lookup: it must not take Ctrl-C from pip's run."""
    from privpip.credentials.store import KeyringStore

    store = KeyringStore(timeout=5, env={})
    mask = store._bounded(lambda: _blocked(threading.get_native_id()), "read")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        assert mask & (1 << (signum - 1)), signal.Signals(signum).name
