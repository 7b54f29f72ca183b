"""The user's stored tokens, both stores together (the OS keyring first, privpip's 0600 token
file where no keyring exists): what `login`, `logout`, `status` and `migrate` do with them, so
that the commands call neither store themselves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from privpip.core.secret import Secret
from privpip.credentials import filestore
from privpip.credentials.store import KeyringStore
from privpip.errors import KeyringUnavailable


class Stored:
    """One run's view of the stores (one keyring adapter, so one backend choice per run)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.keyring = KeyringStore.from_env(env)

    def keyring_problem(self) -> KeyringUnavailable | None:
        """Why the keyring cannot keep a token here (asked before a token is typed), or None."""
        return self.keyring.problem()

    def in_keyring(self, service: str, username: str) -> str | None:
        """The keyring's entry; raises KeyringUnavailable."""
        return self.keyring.get(service, username)

    def differing(self, entries: Iterable[tuple[str, str, Secret]]) -> list[int] | None:
        """Which (service, username, token) the keyring already holds another token for
        (positions); None when the keyring cannot be read (storing then fails the same way)."""
        found = []
        for n, (service, username, token) in enumerate(entries):
            try:
                stored = self.keyring.get(service, username)
            except KeyringUnavailable:
                return None
            if stored and stored != token.reveal():
                found.append(n)
        return found

    def to_keyring(self, service: str, username: str, token: Secret) -> str:
        """Store in the keyring; the backend's name. Raises KeyringUnavailable."""
        self.keyring.set(service, username, token.reveal())
        return self.keyring.backend_name()

    def backend_name(self) -> str:
        """The keyring backend's name, "" when it cannot be told."""
        try:
            return self.keyring.backend_name()
        except KeyringUnavailable:
            return ""

    def to_file(self, service: str, username: str, token: Secret) -> Path:
        """Store in privpip's token file; its path. Raises OSError or FileStoreError."""
        return filestore.set(self.env, service, username, token.reveal())

    def drop_file_copy(self, service: str, username: str) -> Path | None:
        """After a keyring login the token file's entry for the same entry is stale (the
        keyring is asked first): remove it; the file's path when there was one."""
        try:
            if filestore.delete(self.env, service, username):
                return filestore.path(self.env)
        except (OSError, filestore.FileStoreError):
            pass  # an unusable file is reported where it is read
        return None

    def remove(self, service: str, username: str) -> list[str]:
        """Remove the entry from both stores: where it was ("privpip's token file (PATH)",
        "the keyring"). Raises FileStoreError, or KeyringUnavailable when the keyring failed
        and nothing was removed."""
        where = []
        if filestore.delete(self.env, service, username):
            where.append(f"privpip's token file ({filestore.path(self.env)})")
        try:
            problem = self.keyring.problem()
            if problem is not None and problem.cause != "no-backend":
                raise problem
            # With no keyring backend at all, no keyring entry can exist to remove.
            if problem is None and self.keyring.delete(service, username):
                where.append("the keyring")
        except KeyringUnavailable:
            if not where:
                raise
        return where


FileStoreError = filestore.FileStoreError


class FirstFailureKeyring:
    """Reads the keyring until it first fails, then stops asking: one time-out in all (for a
    resolver that reads many entries, as `status` does)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.store = KeyringStore.from_env(env)
        self.failure: KeyringUnavailable | None = None

    def get(self, service: str, username: str) -> str | None:
        if self.failure is not None:
            raise self.failure
        try:
            return self.store.get(service, username)
        except KeyringUnavailable as exc:
            self.failure = exc
            raise

    def problem(self) -> KeyringUnavailable | None:
        return self.failure if self.failure is not None else self.store.problem()

    def backend_name(self) -> str:
        """The keyring backend's name, "" when it cannot be told."""
        try:
            return self.store.backend_name()
        except KeyringUnavailable:
            return ""
