"""The local index's own address: chosen once, kept, and the same for runs that start together."""

from __future__ import annotations

import multiprocessing
import stat

from privpip.core import atomic
from privpip.localindex import address


def _own(data_home: str, queue: multiprocessing.Queue) -> None:
    queue.put(address.own({"XDG_DATA_HOME": data_home, "HOME": data_home}))


def test_first_runs_started_together_agree(tmp_path):
    """Two first runs at once each chose an address; the second used to overwrite the first's,
    so the two runs (and the next one) named different URLs."""
    for attempt in range(5):
        home = tmp_path / str(attempt)
        home.mkdir()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_own, args=(str(home), queue)) for _ in range(6)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(30)
        chosen = {queue.get(timeout=5) for _ in procs}
        kept = address.own({"XDG_DATA_HOME": str(home), "HOME": str(home)})
        assert chosen == {kept}


def test_kept_file_is_private_and_a_damaged_one_is_replaced(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    first = address.own(env)
    path = tmp_path / "privpip" / address.FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert address.own(env) == first
    path.write_text("not an address\n")
    replaced = address.own(env)
    assert address.parse(path.read_text()) == replaced


def test_create_writes_only_a_new_file(tmp_path):
    target = tmp_path / "kept"
    assert atomic.create(target, "first\n", mode=0o600)
    assert not atomic.create(target, "second\n", mode=0o600)
    assert target.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]  # no staged file left behind
