"""The keyring store: which backend it loads, that it loads it once, and that it stays bounded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privpip.credentials.store import KeyringStore
from privpip.errors import KeyringUnavailable
from tests.helpers import TESTS, launch_probe, write_config

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
URLS = [f"https://h{n}.example/simple/" for n in range(3)]


@pytest.fixture(autouse=True)
def fresh_detection():
    """keyring keeps every backend class ever imported, and the backends it detected, for the
    process: each test detects in its own HOME, without the test backends imported here."""
    import keyring.backend

    vars(keyring.backend.get_all_keyring).pop("saved_result", None)
    yield
    for cls in list(keyring_classes()):
        if cls.__module__ in ("counting", "blocking", "locked"):
            keyring_classes().discard(cls)
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


@pytest.fixture
def env() -> dict[str, str]:
    """The test's environment without PYTHON_KEYRING_BACKEND: nothing names a backend."""
    return {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(TESTS / "backends"))
    import counting

    keyring_classes().add(counting.CountingKeyring)
    monkeypatch.setattr(counting.CountingKeyring, "instances", 0)
    monkeypatch.setattr(counting.CountingKeyring, "readers", [])
    monkeypatch.setattr(counting.CountingKeyring, "asked", [])
    monkeypatch.setattr(counting.CountingKeyring, "entries", {})
    return counting.CountingKeyring


def keyring_classes() -> set[type]:
    from keyring.backend import KeyringBackend

    return KeyringBackend._classes


def remember(store: KeyringStore, backend: str, detected: str | None = None) -> None:
    path = store.state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"backend={backend}\ndetected={detected or backend}\n")


def test_python_keyring_backend_is_honoured_and_not_remembered(env):
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": PLAINTEXT})
    store.set(URLS[0], "__token__", "tok-0")
    assert store.chosen_by == "PYTHON_KEYRING_BACKEND"
    assert store.backend_name() == PLAINTEXT
    assert not store.state_file().exists()


def test_keyrings_own_config_file_is_honoured(env, counting):
    config = Path(env["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(f"[backend]\ndefault-keyring={PLAINTEXT}\n")
    remember(KeyringStore(env=env), "counting.CountingKeyring")  # the config file wins
    store = KeyringStore.from_env(env)
    assert store.get(URLS[0], "__token__") is None
    assert store.chosen_by == "keyringrc.cfg"
    assert store.backend_name() == PLAINTEXT


def test_a_detected_backend_is_remembered_and_used_next_time(env):
    first = KeyringStore.from_env(env)
    first.set(URLS[0], "__token__", "tok-0")
    assert first.chosen_by == "detected"
    assert first.state_file().read_text() == f"backend={PLAINTEXT}\ndetected={PLAINTEXT}\n"
    second = KeyringStore.from_env(env)
    assert second.get(URLS[0], "__token__") == "tok-0"
    assert second.chosen_by == "remembered"
    assert second.backend_name() == PLAINTEXT


@pytest.mark.parametrize("remembered", [
    "no.such.module.Keyring",          # uninstalled since
    "keyring.backends.null.Keyring",   # loads, but priority -1: not a keyring that keeps tokens
    "keyring.backends.fail.Keyring",   # priority 0
    "os.path.join",                    # not a backend
    "keyring.backends.macOS.Keyring",  # not viable here: its priority raises
    "",
    "x; import os",
])
def test_a_stale_remembered_backend_falls_back_to_detection(env, remembered):
    if remembered == "keyring.backends.macOS.Keyring" and sys.platform == "darwin":
        pytest.skip("viable on macOS")
    store = KeyringStore.from_env(env)
    remember(store, remembered)
    assert store.get(URLS[0], "__token__") is None
    assert store.chosen_by == "detected"
    assert store.backend_name() == PLAINTEXT


def test_a_remembered_backend_that_detection_would_not_pick_asks_the_detected_one_on_a_miss(
        env, counting):
    from keyrings.alt.file import PlaintextKeyring

    PlaintextKeyring().set_password(URLS[1], "__token__", "in-detected")
    counting.entries[(URLS[0], "__token__")] = "in-remembered"
    store = KeyringStore.from_env(env)
    remember(store, "counting.CountingKeyring", "keyring.backends.chainer.ChainerBackend")
    assert store.get_many([(URLS[0], "__token__"), (URLS[1], "__token__")]) == {
        (URLS[0], "__token__"): "in-remembered", (URLS[1], "__token__"): "in-detected"}
    assert store.chosen_by == "remembered"


def test_several_lookups_load_the_backend_once_in_one_thread(env, counting):
    counting.entries.update({(url, "__token__"): f"tok-{n}" for n, url in enumerate(URLS)})
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": "counting.CountingKeyring"})
    pairs = [(url, "__token__") for url in URLS] + [("https://other.example/", "me")]
    found = store.get_many(pairs)
    assert found == {**{(url, "__token__"): f"tok-{n}" for n, url in enumerate(URLS)},
                     ("https://other.example/", "me"): None}
    assert len(counting.readers) == 4 and len(set(counting.readers)) == 1
    # Later reads of the same entries are answered from what was read; a new one reads once.
    assert [store.get(url, "__token__") for url in URLS] == ["tok-0", "tok-1", "tok-2"]
    assert store.get("https://new.example/", "me") is None
    assert store.backend_name() == "counting.CountingKeyring"
    assert counting.instances == 1
    assert len(counting.readers) == 5


def test_a_hanging_backend_costs_one_timeout_per_run(env, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS / "backends"))
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": "blocking.BlockingKeyring",
                                   "PRIVPIP_KEYRING_TIMEOUT": "0.3"})
    start = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.3 s"):
        store.get_many([(url, "__token__") for url in URLS])
    assert 0.25 < time.monotonic() - start < 2
    start = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.3 s"):
        store.get(URLS[0], "__token__")
    with pytest.raises(KeyringUnavailable, match="did not answer"):
        store.set(URLS[0], "__token__", "x")
    assert time.monotonic() - start < 0.2


def test_a_keyring_error_fails_that_lookup_only(env, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS / "backends"))
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": "locked.LockedKeyring"})
    assert store.get_many([(URLS[0], "__token__")]) == {}
    with pytest.raises(KeyringUnavailable, match="KeyringLocked: the collection is locked"):
        store.get(URLS[0], "__token__")


def test_a_backend_that_cannot_load_is_a_keyring_failure(env):
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": "no.such.Keyring"})
    with pytest.raises(KeyringUnavailable, match="^PYTHON_KEYRING_BACKEND names no.such.Keyring, "
                       "which cannot be used here: ModuleNotFoundError") as caught:
        store.get(URLS[0], "__token__")
    assert caught.value.cause == "forced"


PROBE = launch_probe(after="""
import json
# modules imported for real (a stand-in from privpip.credentials.store is not)
ran = [m for m in ("urllib.request", "http.client", "ssl", "subprocess", "secretstorage",
                   "more_itertools", "pickle")
       if m in sys.modules and type(sys.modules[m]).__name__ != "_Deferred"]
print(json.dumps({"keyring": sorted(m for m in sys.modules if m.startswith("keyring")),
                  "ran": ran}), file=sys.stderr)
""")


def run_env_with_keyring_tokens(tmp_path: Path, env: dict[str, str], prefix: list[str],
                                extra: dict[str, str] | None = None
                                ) -> subprocess.CompletedProcess[str]:
    from keyrings.alt.file import PlaintextKeyring

    keyring = PlaintextKeyring()
    for n, url in enumerate(URLS):
        keyring.set_password(url, "__token__", f"tok-{n}")
    write_config(tmp_path, "".join(
        f'[[index]]\nname = "i{n}"\nurl = "{url}"\n' for n, url in enumerate(URLS)))
    result = subprocess.run([*prefix, sys.executable, "-c", PROBE, "env", "--shell", "bash"],
                            cwd=tmp_path, capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(TESTS.parent),
                                 "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml"),
                                 **(extra or {})})
    assert "https://__token__:tok-2@h2.example/simple/" in result.stdout, result.stderr
    return result


def probe_report(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    report: dict[str, list[str]] = json.loads(result.stderr.strip().splitlines()[-1])
    return report


@pytest.mark.skipif(sys.platform != "linux", reason="the backends skipped are Linux's rules")
def test_a_detected_keyring_skips_the_backends_that_cannot_work_here(tmp_path, env):
    env = {k: v for k, v in env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    report = probe_report(run_env_with_keyring_tokens(tmp_path, env, []))
    assert "keyring.backends.chainer" in report["keyring"]  # detection did run
    for module in ("keyring.backends.macOS", "keyring.backends.Windows",
                   "keyring.backends.SecretService", "keyrings.alt.Google"):
        assert module not in report["keyring"]
    assert "secretstorage" not in report["ran"]


@pytest.mark.skipif(sys.platform != "linux", reason="the Secret Service is a Linux backend")
def test_with_a_session_bus_address_the_secret_service_is_still_asked(tmp_path, env):
    """The variable is what secretstorage needs to try: with it, detection imports and asks
    the Secret Service backend, which finds no bus there and is passed over as before."""
    report = probe_report(run_env_with_keyring_tokens(
        tmp_path, env, [], {"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}))
    assert "keyring.backends.SecretService" in report["keyring"]
    assert "secretstorage" in report["ran"]


def test_reading_the_keyring_does_not_run_the_modules_keyring_never_uses(tmp_path, env):
    """jaraco.context's module-level urllib.request (with http.client and ssl) and subprocess,
    and jaraco.functools' more_itertools, are deferred while keyring is imported: env, which
    uses none of them, never runs them; keyrings.alt's Google backend (pickle) is not
    imported without gdata."""
    report = probe_report(run_env_with_keyring_tokens(tmp_path, env, []))
    assert report["ran"] == []


def test_deferred_modules_load_when_used_after_a_keyring_read(tmp_path, env):
    """Used later, from several threads at once (privpip.credentials.http sends requests that way), the
    stand-ins give the real modules; the keyring's own view of them forwards to the same."""
    code = """
import sys, threading
from privpip.credentials.store import KeyringStore
store = KeyringStore.from_env({"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
assert store.get("https://h.example/simple/", "__token__") is None
assert type(sys.modules["urllib.request"]).__name__ == "_Deferred"
barrier, seen, errors = threading.Barrier(8), [], []
def use():
    barrier.wait()
    try:
        import urllib.request
        seen.append(urllib.request.Request("http://x.example/").host)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert errors == [] and seen == ["x.example"] * 8, (errors, seen)
import subprocess
import urllib.request
import jaraco.context  # keyring's reference forwards to the same, loaded module
assert jaraco.context.urllib.request.Request is urllib.request.Request
assert jaraco.context.subprocess.Popen is subprocess.Popen
import jaraco.functools
import more_itertools
assert jaraco.functools.more_itertools.consume is more_itertools.consume
assert type(sys.modules["urllib.request"]).__name__ == "module"
print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                     text=True).stdout.strip(), seen[0])
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(TESTS.parent)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["42", "x.example"]


@pytest.mark.skipif(shutil.which("strace") is None or sys.platform != "linux",
                    reason="needs strace on Linux")
def test_env_with_a_detected_keyring_starts_no_process(tmp_path, env):
    log = tmp_path / "strace.log"
    run_env_with_keyring_tokens(tmp_path, env, ["strace", "-f", "-qq", "-e", "trace=execve",
                                                "-o", str(log)])
    programs = [line.split('"')[1] for line in log.read_text().splitlines() if "execve(" in line]
    assert programs == [sys.executable], programs


def test_the_resolver_reads_every_keyring_entry_in_one_batch(tmp_path, env, counting):
    """Indexes whose variables are empty are read together: one backend load, one thread;
    an index with its token in a variable is not read from the keyring at all."""
    from privpip import config, credentials

    counting.entries.update({(url, "__token__"): f"tok-{n}" for n, url in enumerate(URLS)})
    write_config(tmp_path, "".join(
        f'[[index]]\nname = "i{n}"\nurl = "{url}"\n' for n, url in enumerate(URLS))
        + '[[git]]\nhost = "git.example"\n')
    run_env = {**env, "PYTHON_KEYRING_BACKEND": "counting.CountingKeyring",
               "PRIVPIP_INDEX_I1_TOKEN": "from-var",
               "PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    run_env.pop("PRIVPIP_INDEX_I0_TOKEN", None)
    run_env.pop("PRIVPIP_INDEX_I2_TOKEN", None)
    cfg = config.load(tmp_path, run_env)
    resolver = credentials.Resolver(run_env, KeyringStore.from_env(run_env))
    resolver.prefetch(cfg.indexes, cfg.git_hosts)
    found = [resolver.index(index) for index in cfg.indexes]
    assert [(c.token.reveal(), c.source) for c in found if c] == [
        ("tok-0", "keyring"), ("from-var", "env:PRIVPIP_INDEX_I1_TOKEN"), ("tok-2", "keyring")]
    assert counting.instances == 1
    # Every spelling a lookup asks (URL as configured, without its trailing slash, the host
    # entry) of i0 and i2, and the git host: all in the one batch, none of i1.
    assert counting.asked == [
        URLS[0], URLS[0].rstrip("/"), "h0.example",
        URLS[2], URLS[2].rstrip("/"), "h2.example",
        "git:https://git.example"]
    assert len(set(counting.readers)) == 1


def test_each_keyring_failure_names_its_cause(env, monkeypatch):
    """No backend detected, one forced by PYTHON_KEYRING_BACKEND, a locked one: one line each,
    with the cause that picks the fix (login falls back to its token file only for the first)."""
    from keyring.backends import fail

    import privpip.credentials.store

    monkeypatch.setattr(privpip.credentials.store, "_detect", lambda: fail.Keyring())
    problem = KeyringStore.from_env(env).problem()
    assert problem is not None
    assert (problem.cause, problem.message) == ("no-backend", "this machine has no keyring backend")

    forced = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    problem = KeyringStore.from_env(forced).problem()
    assert problem is not None
    assert (problem.cause, problem.message) == (
        "no-backend", "PYTHON_KEYRING_BACKEND selects keyring.backends.null.Keyring, which keeps "
        "no tokens")

    monkeypatch.syspath_prepend(str(TESTS / "backends"))
    store = KeyringStore.from_env({**env, "PYTHON_KEYRING_BACKEND": "locked.LockedKeyring"})
    assert store.problem() is None  # it exists; it fails when asked
    with pytest.raises(KeyringUnavailable) as caught:
        store.get(URLS[0], "__token__")
    assert (caught.value.cause, caught.value.message) == (
        "locked", "the keyring is locked (KeyringLocked: the collection is locked)")
