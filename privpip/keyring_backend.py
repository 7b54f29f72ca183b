"""privpip as a keyring backend: tools that ask keyring for an index's credential (pip's and
uv's --keyring-provider, twine, Poetry, PDM) get privpip's answer for the indexes it knows.

Read-only and self-effacing: it answers only for a URL of a configured index (the project
config of the current directory plus the user config, as privpip reads them), with the
credential privpip's resolver finds (same sources, same order, same trust rules, never a
prompt), and nothing for any other service, at the cost of one config load. Writes and
deletes raise an error that keyring's chainer reads as "try the next backend".

It never asks itself: privpip's own keyring source runs its lookups in the store's thread,
where this backend's priority is negative (keyring's chainer and detection then leave it
out) and where it answers nothing; token commands run with PRIVPIP_KEYRING_PLUGIN=0, so a
command that calls `keyring get` does not come back here either.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from keyring import credentials as keyring_credentials
from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend
from keyring.compat import properties

if TYPE_CHECKING:
    from privpip.config.model import Index

log = logging.getLogger("privpip.keyring")

# Above the system keyrings (macOS, Secret Service, Windows: 5; keyrings.alt's files: < 1),
# so keyring's chainer asks privpip first (an exported token beats a stored one, as in
# privpip itself); below the chainer (10), so that detection still picks the chainer, and
# the user's own backend keeps every other service and every write.
PRIORITY = 9.0
# Set to 0 to switch the backend off (privpip sets it for the token commands it runs).
SWITCH = "PRIVPIP_KEYRING_PLUGIN"


def _off(env: Mapping[str, str]) -> bool:
    from privpip.credentials import store

    return env.get(SWITCH) == "0" or store.in_lookup()


class ReadOnlyError(keyring_errors.PasswordSetError, NotImplementedError):
    """privpip's backend stores nothing. NotImplementedError is what keyring's chainer reads
    as "try the next backend"; PasswordSetError is what a direct caller expects."""


class DeleteError(keyring_errors.PasswordDeleteError, NotImplementedError):
    """As ReadOnlyError, for deletes."""


class PrivpipKeyring(KeyringBackend):
    """The credentials of privpip's configured indexes, for any tool that asks keyring."""

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - a class property, as keyring's own backends
        # Negative inside privpip's own keyring lookups: keyring's chainer and detection
        # leave out backends at or below 0, so privpip asks only the user's other backends.
        return -1.0 if _off(os.environ) else PRIORITY

    def get_password(self, service: str, username: str) -> str | None:
        found = self.get_credential(service, username)
        return found.password if found is not None else None

    def get_credential(self, service: str,
                       username: str | None) -> keyring_credentials.Credential | None:
        env = os.environ
        if _off(env):
            return None
        try:
            found = lookup(service, username, env, Path.cwd())
        except Exception:  # noqa: BLE001 - a keyring backend must not break the tool asking
            log.warning("privpip: the keyring lookup failed", exc_info=log.isEnabledFor(
                logging.DEBUG))
            return None
        if found is None:
            return None
        return keyring_credentials.SimpleCredential(found[0], found[1])

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ReadOnlyError("privpip's keyring backend only reads; store a token for a "
                            "privpip index with `privpip login NAME`")

    def delete_password(self, service: str, username: str) -> None:
        raise DeleteError("privpip's keyring backend only reads; remove a token with "
                          "`privpip logout NAME`")


# ---------------------------------------------------------------------------
# which index a service names, and its credential


def owner(service: str, username: str | None, indexes: Sequence[Index],
          env: Mapping[str, str]) -> Index | None:
    """The configured index ``service`` belongs to, or None.

    A URL belongs to the index whose URL (or upload URL on the same origin, where twine
    asks) it is or lies under, compared in identity's canonical form (host case, default
    port, trailing slash); the longest such URL wins, and a tie is no answer. A bare
    ``host[:port]`` (pip's fallback lookup) belongs to the one index on that host and port,
    when exactly one is. A given username must be the index's.
    """
    from privpip import credentials

    if "://" in service:
        url = _canonical(service)
        if url is None:
            return None
        longest: dict[str, tuple[int, Index]] = {}
        for index in indexes:
            for prefix in filter(None, map(_canonical, _prefixes(index))):
                if url.startswith(prefix) and len(prefix) > longest.get(index.name, (-1,))[0]:
                    longest[index.name] = (len(prefix), index)
        best = max((length for length, _ in longest.values()), default=-1)
        found = [index for length, index in longest.values() if length == best]
    else:
        found = [i for i in indexes if _on_host(i.url, service)]
    if len(found) != 1 or not found[0].auth:
        return None
    if username is not None and username != credentials.username(found[0], env):
        return None
    return found[0]


def _canonical(url: str) -> str | None:
    from privpip.core import identity

    try:
        return identity.canonical_url(url)
    except ValueError:
        return None


def _prefixes(index: Index) -> list[str]:
    """The index URL, and its upload URL when that is on the same origin (privpip upload's
    rule: the index's token never goes to another origin)."""
    from privpip.core import identity
    from privpip.errors import ConfigError
    from privpip.run.delivery import twine

    try:
        upload = twine.upload_url(index)
    except ConfigError:  # no known upload endpoint for this index
        return [index.url]
    return [index.url, upload] if identity.same_origin(upload, index.url) else [index.url]


def _on_host(url: str, service: str) -> bool:
    """Whether index ``url`` is on ``service``, a bare ``host[:port]`` (no port: the index
    URL's scheme's default)."""
    from privpip.core import identity

    try:
        scheme, host, port = identity.origin(url)
        wanted = identity.origin(f"{scheme}://{service.rpartition('@')[2]}/")
    except ValueError:
        return False
    return bool(host) and (host, port) == wanted[1:]


def lookup(service: str, username: str | None, env: Mapping[str, str],
           cwd: Path) -> tuple[str, str] | None:
    """(username, token) for ``service`` from privpip's config and sources; None when privpip
    does not know the service or has no credential for it (never a prompt)."""
    from privpip import config, credentials
    from privpip.core.secret import redact
    from privpip.credentials.store import KeyringStore
    from privpip.errors import ConfigError, PrivpipError

    # Loading quietly: a warning about a project file belongs to lookups of its indexes
    # (logged below), not to every service another tool asks keyring for. The variable is
    # the one shell completion uses to keep privpip's warnings off the command line.
    quiet = {**env, "_PRIVPIP_COMPLETE": "1"}
    try:
        cfg = config.load(cwd, quiet)
    except ConfigError as exc:
        log.warning("privpip: not answering from privpip's config: %s", redact(exc.message))
        return None
    index = owner(service, username, cfg.indexes, env)
    if index is None:
        return None
    resolver = credentials.Resolver(env, KeyringStore.from_env(env), None,
                                    "privpip's keyring backend never prompts")
    try:
        found = resolver.index(index)
    except PrivpipError as exc:
        hint = f"\n  hint: {exc.hint}" if exc.hint else ""
        log.warning("privpip: index %r: %s", index.name, redact(exc.message + hint))
        return None
    if found is None:
        return None
    return found.username, found.token.reveal()
