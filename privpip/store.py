"""The OS keyring, behind a time bound: keyring is imported lazily and its failures become ours."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

from privpip.errors import KeyringUnavailable

T = TypeVar("T")

DEFAULT_TIMEOUT = 3.0

_HINT = (
    "set the token in an environment variable instead (PRIVPIP_INDEX_<NAME>_TOKEN), "
    "or install a keyring backend (on a headless machine: `pip install keyrings.alt`)"
)


class KeyringStore:
    """Reads and writes tokens under service = index URL, username = index username.

    That is the lookup pip (``--keyring-provider``), uv and twine make, so they share entries.
    Every call runs in a daemon thread and is abandoned after ``timeout`` seconds: a locked
    or hanging backend must not hang privpip.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyringStore:
        raw = env.get("PRIVPIP_KEYRING_TIMEOUT", "")
        try:
            timeout = float(raw) if raw else DEFAULT_TIMEOUT
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(max(0.1, min(timeout, 60.0)))

    def get(self, service: str, username: str) -> str | None:
        def call() -> str | None:
            import keyring

            return keyring.get_password(service, username)

        return self._bounded(call, "read from")

    def set(self, service: str, username: str, token: str) -> None:
        def call() -> None:
            import keyring

            keyring.set_password(service, username, token)

        self._bounded(call, "write to")

    def delete(self, service: str, username: str) -> bool:
        """Remove an entry; False when there was none."""

        def call() -> bool:
            import keyring
            import keyring.errors

            try:
                keyring.delete_password(service, username)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._bounded(call, "delete from")

    def backend_name(self) -> str:
        def call() -> str:
            import keyring

            backend = keyring.get_keyring()
            return f"{type(backend).__module__}.{type(backend).__name__}"

        return self._bounded(call, "query")

    def _bounded(self, call: Callable[[], T], verb: str) -> T:
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - reported below, never swallowed
                box["error"] = exc

        thread = threading.Thread(target=target, name="privpip-keyring", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise KeyringUnavailable(
                f"the keyring did not answer within {self.timeout:g} s "
                "(locked, waiting for an unlock prompt, or hung)",
                _HINT + "; PRIVPIP_KEYRING_TIMEOUT sets the wait",
            )
        if "error" in box:
            raise KeyringUnavailable(
                f"could not {verb} the keyring: {_describe(box['error'])}", _HINT
            )
        return box["value"]  # type: ignore[return-value]


def _describe(exc: object) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if name == "NoKeyringError":
        return "no keyring backend is available (" + text + ")" if text else name
    return f"{name}: {text}" if text else name
