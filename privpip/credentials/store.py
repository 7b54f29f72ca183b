"""The OS keyring, behind a time bound: which backend, loaded once per run, and its failures."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from privpip.errors import KeyringUnavailable

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from privpip.errors import KeyringCause

T = TypeVar("T")
Pair = tuple[str, str]  # (service, username)

DEFAULT_TIMEOUT = 3.0
STATE_FILE = "keyring-backend"
PLUGIN = "privpip.keyring_backend"  # privpip's own keyring backend (for other tools)

# Set in the threads that run privpip's keyring calls: privpip's own backend reads it to
# stay out of them (privpip must ask the user's other backends, never itself).
_IN_LOOKUP = threading.local()


def in_lookup() -> bool:
    """Whether this thread runs one of privpip's own keyring calls."""
    return bool(getattr(_IN_LOOKUP, "active", False))


def keyring_hint(env: Mapping[str, str], cause: KeyringCause = "error") -> str:
    """What to do about a keyring that does not work, by its cause; callers that know the
    index add its variable."""
    if cause == "forced":
        return ("unset PYTHON_KEYRING_BACKEND (keyring then chooses a backend itself), or "
                "install the package of the backend it names into privpip's own environment")
    if cause in ("locked", "timeout"):
        wait = "; PRIVPIP_KEYRING_TIMEOUT sets the wait" if cause == "timeout" else ""
        return ("unlock the keyring (it may be waiting for an unlock prompt) and retry"
                f"{wait}; or give the token in an environment variable instead")
    from privpip.ui.installed import keyring_backend_hint

    return ("give the token in an environment variable instead, or "
            + keyring_backend_hint(env)
            + ", or keep it in privpip's own file: `privpip login NAME --insecure-storage`")


class KeyringStore:
    """Reads and writes tokens under service = index URL, username = index username.

    That is the lookup pip (``--keyring-provider``), uv and twine make, so they share entries.

    The backend is chosen as keyring chooses it (PYTHON_KEYRING_BACKEND, then keyring's
    keyringrc.cfg), then the backend ``privpip login`` remembered, and only then keyring's
    detection, which imports every backend (on Linux its macOS one runs ldconfig and gcc)
    and costs more than the rest of a run. It is loaded once per store; create one store per
    run. Every call runs in a daemon thread and is abandoned after ``timeout`` seconds: a
    locked or hanging backend must not hang privpip, and once it hung, later calls fail at
    once instead of waiting again.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT,
                 env: Mapping[str, str] | None = None) -> None:
        self.timeout = timeout
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.chosen_by = ""  # "PYTHON_KEYRING_BACKEND", "keyringrc.cfg", "remembered", "detected"
        self._backend: KeyringBackend | None = None
        # A remembered backend that detection would not pick (keyring chains several):
        # an entry it lacks may be in the detected backend, so a miss asks that one too.
        self._detected_differs = False
        self._hung: KeyringUnavailable | None = None
        self._cache: dict[Pair, str | None | KeyringUnavailable] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyringStore:
        raw = env.get("PRIVPIP_KEYRING_TIMEOUT", "")
        try:
            timeout = float(raw) if raw else DEFAULT_TIMEOUT
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(max(0.1, min(timeout, 60.0)), env)

    # -- reading -----------------------------------------------------------------------------

    def get(self, service: str, username: str) -> str | None:
        pair = (service, username)
        if pair not in self._cache:
            self.get_many([pair])
        found = self._cache[pair]
        if isinstance(found, KeyringUnavailable):
            raise found
        return found

    def get_many(self, pairs: Iterable[Pair]) -> dict[Pair, str | None]:
        """Look up several entries with one backend load, in one thread, within one time-out.

        Returns the entries read (None: no entry). A pair whose lookup failed is left out and
        ``get`` raises its KeyringUnavailable; a backend that cannot load or does not answer
        in time raises here. Results are kept, so ``get`` afterwards costs nothing.
        """
        wanted = [p for p in dict.fromkeys(pairs) if p not in self._cache]

        def call() -> dict[Pair, str | None | KeyringUnavailable]:
            import keyring.errors

            backend = self._load()
            found: dict[Pair, str | None | KeyringUnavailable] = {}
            for service, username in wanted:
                try:
                    value = backend.get_password(service, username)
                    if value is None and self._detected_differs:
                        value = _detect().get_password(service, username)
                    found[(service, username)] = value
                except keyring.errors.KeyringError as exc:
                    found[(service, username)] = self._failure(exc, "read from")
            return found

        if wanted:
            self._cache.update(self._bounded(call, "read from"))
        return {p: v for p in pairs if not isinstance(v := self._cache[p], KeyringUnavailable)}

    # -- writing -----------------------------------------------------------------------------

    def set(self, service: str, username: str, token: str) -> None:
        """Store the entry; a backend that keyring detected is remembered for later runs."""

        def call() -> None:
            backend = self._load()
            backend.set_password(service, username, token)
            if self.chosen_by == "detected":
                self._remember(backend, service, username, token)

        self._cache.pop((service, username), None)
        self._bounded(call, "write to")
        self._cache[(service, username)] = token

    def delete(self, service: str, username: str) -> bool:
        """Remove an entry; False when there was none."""

        def call() -> bool:
            import keyring.errors

            try:
                self._load().delete_password(service, username)
            except keyring.errors.PasswordDeleteError:
                if not self._detected_differs:
                    return False
                try:
                    _detect().delete_password(service, username)
                except keyring.errors.PasswordDeleteError:
                    return False
            return True

        self._cache.pop((service, username), None)
        return self._bounded(call, "delete from")

    def backend_name(self) -> str:
        return self._bounded(lambda: _name(self._load()), "query")

    def has_backend(self) -> bool:
        """False when nothing can be stored: keyring's fail or null backend, or none loads."""
        return self.problem() is None

    def problem(self) -> KeyringUnavailable | None:
        """Why no token can be kept in the keyring (its cause set), or None when it can."""
        try:
            if self._bounded(lambda: _usable(self._load()), "query"):
                return None
        except KeyringUnavailable as exc:
            return exc
        return self._failure(None, "query")

    def _failure(self, exc: BaseException | None, verb: str) -> KeyringUnavailable:
        """A backend's failure (None: the backend keeps nothing) as one line naming its cause."""
        # keyring's error classes, if keyring could be imported at all (else neither applies)
        errors = sys.modules.get("keyring.errors")
        no_keyring = getattr(errors, "NoKeyringError", ())
        locked = getattr(errors, "KeyringLocked", ())
        if exc is None or isinstance(exc, no_keyring):
            name = _name(self._backend) if self._backend is not None else "none"
            if self.chosen_by in ("PYTHON_KEYRING_BACKEND", "keyringrc.cfg"):
                message = f"{self.chosen_by} selects {name}, which keeps no tokens"
            else:
                message = "this machine has no keyring backend"
            return KeyringUnavailable(message, keyring_hint(self.env, "no-backend"),
                                      "no-backend")
        if isinstance(exc, locked):
            return KeyringUnavailable(f"the keyring is locked ({_describe(exc)})",
                                      keyring_hint(self.env, "locked"), "locked")
        return KeyringUnavailable(f"could not {verb} the keyring: {_describe(exc)}",
                                  keyring_hint(self.env))

    # -- the backend -------------------------------------------------------------------------

    def _load(self) -> KeyringBackend:
        """The backend, loaded on first use (inside the bounded thread) and kept."""
        with self._lock:
            if self._backend is None:
                self._backend = self._choose()
            return self._backend

    def _choose(self) -> KeyringBackend:
        import keyring.core

        # A setting that names privpip's own backend (so that other tools use it) means
        # "the user's other backends" for privpip itself: the remembered or detected one.
        name = self.env.get("PYTHON_KEYRING_BACKEND")
        if name and not name.startswith(PLUGIN + "."):
            self.chosen_by = "PYTHON_KEYRING_BACKEND"
            try:
                return keyring.core.load_keyring(name)
            except Exception as exc:  # noqa: BLE001 - not importable, or not viable here
                raise KeyringUnavailable(
                    f"PYTHON_KEYRING_BACKEND names {name}, which cannot be used here: "
                    f"{_describe(exc)}", keyring_hint(self.env, "forced"), "forced") from None
        # keyring's own reader: the file in keyring.util.platform_.config_root(), including
        # its keyring-path setting; None when there is no file or it names no backend.
        configured = keyring.core.load_config()
        if configured is not None and not _name(configured).startswith(PLUGIN + "."):
            self.chosen_by = "keyringrc.cfg"
            return configured
        remembered = self._remembered()
        if remembered is not None:
            self.chosen_by = "remembered"
            return remembered
        self.chosen_by = "detected"
        return _detect()

    def state_file(self) -> Path:
        """Where ``privpip login`` remembers the backend: a non-secret file in the state dir."""
        if sys.platform not in ("win32", "darwin"):
            xdg = self.env.get("XDG_STATE_HOME", "").strip()
            home = Path(self.env.get("HOME") or Path.home())
            base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "state"
            return base / "privpip" / STATE_FILE
        import platformdirs

        return Path(platformdirs.user_state_dir("privpip", appauthor=False)) / STATE_FILE

    def _remembered(self) -> KeyringBackend | None:
        """The remembered backend if it still loads and is usable, else None (detect)."""
        import keyring.core
        from keyring.backend import KeyringBackend

        try:
            lines = self.state_file().read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        fields = {}
        for line in lines:
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip()
        name, detected = fields.get("backend", ""), fields.get("detected", "")
        if not all(part.isidentifier() for part in name.split(".")):
            return None
        try:
            backend = keyring.core.load_keyring(name)
            # keyring's own test of a named backend is that its priority does not raise; a
            # remembered one must also rank above the fail and null backends to be used.
            if not (isinstance(backend, KeyringBackend) and backend.priority > 0):
                return None
        except Exception:  # noqa: BLE001 - any failure to load means "detect instead"
            return None
        self._detected_differs = detected != name
        return backend

    def _remember(self, backend: KeyringBackend, service: str, username: str,
                  token: str) -> None:
        """Write which backend holds the entry just stored; a failure only costs speed later."""
        from keyring.backends.chainer import ChainerBackend

        holder = backend
        if isinstance(backend, ChainerBackend):
            # The chainer stored the entry in the first of its backends that accepted it.
            holder = next((b for b in backend.backends
                           if b.get_password(service, username) == token), backend)
        try:
            if isinstance(holder, ChainerBackend) or holder.priority <= 0:
                return  # nothing worth remembering: detection gives the same next time
        except Exception:  # noqa: BLE001 - a priority that raises: not viable, not remembered
            return
        path = self.state_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(f"backend={_name(holder)}\ndetected={_name(backend)}\n",
                           encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass

    def _bounded(self, call: Callable[[], T], verb: str) -> T:
        if self._hung is not None:
            raise self._hung
        box: dict[str, object] = {}

        def target() -> None:
            from privpip.core.signals import leave_signals_to_main_thread

            leave_signals_to_main_thread()
            _IN_LOOKUP.active = True
            try:
                _defer_imports()
                box["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - reported below, never swallowed
                box["error"] = exc

        thread = threading.Thread(target=target, name="privpip-keyring", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            self._hung = KeyringUnavailable(
                f"the keyring did not answer within {self.timeout:g} s "
                "(locked, waiting for an unlock prompt, or hung)",
                keyring_hint(self.env, "timeout"), "timeout",
            )
            raise self._hung
        error = box.get("error")
        if isinstance(error, KeyringUnavailable):
            raise error
        if isinstance(error, BaseException):
            raise self._failure(error, verb)
        return box["value"]  # type: ignore[return-value]


# Modules that keyring's import pulls in for functions it never calls: jaraco.context
# (imported by keyring.backend, which every backend subclasses) imports the standard
# library's at module level for its tarball, temporary-directory and `run` helpers only;
# jaraco.functools imports more_itertools for one decorator keyring does not use.
DEFERRED = ("urllib.request", "subprocess", "tempfile", "more_itertools")
_SWAP = threading.Lock()


def _defer_imports() -> None:
    """Before keyring is first imported, let each DEFERRED module be a _Deferred stand-in.

    urllib.request alone brings http.client, email and ssl: about a third of keyring's
    import. A stand-in is imported for real on first attribute use, by whichever thread
    gets there (privpip.credentials.http sends requests from several threads at once), so a command
    that never uses the module never pays for it. Nothing changes for a module that is
    already imported, or once keyring is.
    """
    if "keyring" in sys.modules:
        return
    for name in DEFERRED:
        if name not in sys.modules:
            parent, _, child = name.rpartition(".")
            stand_in = _Deferred(name)
            sys.modules[name] = stand_in
            if parent:  # `import urllib.request` binds urllib and reads its attribute
                setattr(importlib.import_module(parent), child, stand_in)


class _Deferred(ModuleType):
    """Stands in for a module until an attribute of it is first read; then imports the real
    one and answers from it. Thread-safe through the import system's own locks: the stand-in
    leaves sys.modules once, and every thread then imports (or waits for) the real module.
    """

    def __getattr__(self, attr: str) -> object:
        with _SWAP:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _not_viable_here(module: str) -> bool:
    """True for a backend module whose import would only show that it cannot work here.

    keyring.backends.macOS: not viable outside macOS (its priority raises), but importing it
    runs ctypes' find_library, which on Linux starts ldconfig, gcc and ld for three
    frameworks. keyring.backends.SecretService: it reaches the Secret Service through
    secretstorage and jeepney, which read the session bus address from
    DBUS_SESSION_BUS_ADDRESS only (no fallback); without that variable its priority raises
    "Environment variable DBUS_SESSION_BUS_ADDRESS is unset", after importing secretstorage
    and the cryptography package it loads (a quarter of a detection run). The Windows
    backends of keyring and keyrings.alt: their priority raises outside Windows ("Requires
    Windows"), after keyrings.alt's has imported ctypes for the Windows crypto API.
    keyrings.alt.Google: its priority raises "Requires gdata" without the gdata package,
    after importing pickle. privpip.keyring_backend: privpip's own backend, for other tools;
    privpip never asks itself.
    """
    if module == "keyring.backends.macOS":
        return sys.platform != "darwin"
    if module in ("keyring.backends.Windows", "keyrings.alt.Windows"):
        return sys.platform != "win32"
    if module == "keyring.backends.SecretService":
        return "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    if module == PLUGIN:
        return True  # privpip's own backend, for other tools: privpip never asks itself
    if module == "keyrings.alt.Google":
        import importlib.util

        return importlib.util.find_spec("gdata") is None
    return False


def _detect() -> KeyringBackend:
    """keyring's own detection, without importing a backend that cannot work on this system
    (see _not_viable_here): keyring imports every module registered under the
    ``keyring.backends`` entry point to rank them; skipping those that cannot be viable
    leaves its choice the same.
    """
    import keyring.backend
    from keyring.backends import fail

    # keyring.core._detect_backend's last step; the steps before it (PYTHON_KEYRING_BACKEND
    # and keyringrc.cfg) were taken by KeyringStore._choose, from the run's environment.
    original = getattr(keyring.backend, "_load_plugins", None)
    if original is not None:
        keyring.backend._load_plugins = _load_plugins_here
    try:
        rings = keyring.backend.get_all_keyring()  # kept by keyring for the process
    finally:
        if original is not None:
            keyring.backend._load_plugins = original
    best: KeyringBackend = max(rings, default=fail.Keyring(),  # type: ignore[no-untyped-call]
                               key=keyring.backend.by_priority)
    return best


def _load_plugins_here() -> None:
    """keyring.backend._load_plugins, minus the backends that cannot work here (see
    _not_viable_here)."""
    import logging

    from keyring.compat.py312 import metadata

    log = logging.getLogger("keyring.backend")
    for ep in metadata.entry_points(group="keyring.backends"):
        if _not_viable_here(ep.value.split(":")[0].strip()):
            continue
        try:
            init = ep.load()
            if callable(init):
                init()
        except Exception:  # noqa: BLE001 - keyring's own loader logs and goes on the same way
            log.exception(f"Error initializing plugin {ep}.")


def _usable(backend: KeyringBackend) -> bool:
    from keyring.backends import fail, null

    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    try:
        return bool(backend.priority > 0)
    except Exception:  # noqa: BLE001 - a backend whose priority raises is not viable
        return False


def _name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _describe(exc: object) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if name == "NoKeyringError":
        return "no keyring backend is available (" + text + ")" if text else name
    return f"{name}: {text}" if text else name
