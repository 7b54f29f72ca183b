"""Turning resolved credentials into what one tool reads; one module per tool.

pip gets credential-free index URLs plus a private netrc (``NETRC``): pip passes its index
URLs to the child pip that installs build dependencies on its command line, so a token in a
URL would be visible in ``ps``; a netrc file is not. ``privpip env`` is the one place that
prints URLs with credentials, because printing them is its purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from privpip.config import Index
from privpip.credentials import Credential


class Access:
    """One index together with the credential resolved for it (None: no auth). Read-only."""

    __slots__ = ("index", "credential")
    index: Index
    credential: Credential | None

    def __init__(self, index: Index, credential: Credential | None) -> None:
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "credential", credential)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Access is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Access) and (other.index, other.credential) == (
            self.index, self.credential)

    def __hash__(self) -> int:
        return hash((self.index, self.credential))

    def __repr__(self) -> str:
        return f"Access(index={self.index.name!r}, credential={self.credential!r})"


def url_with_credentials(access: Access) -> str:
    """The index URL with ``user:token@`` in it, percent-encoded; the token in the password slot."""
    url = access.index.url
    cred = access.credential
    if cred is None:
        return url
    parts = urlsplit(url)
    userinfo = quote(cred.username, safe="") + ":" + quote(cred.token.reveal(), safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def split_default(accesses: Sequence[Access]) -> tuple[Access | None, list[Access]]:
    default = next((a for a in accesses if a.index.default), None)
    return default, [a for a in accesses if a is not default]
