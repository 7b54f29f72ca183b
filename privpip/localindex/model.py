"""The local index's small value types: an upstream index, a named problem, PEP 503 names.

Kept apart from the routing rules and the page model so that ``import privpip.localindex``
stays cheap (no HTML parser, no ``packaging``) for commands that only build the config.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from privpip.secret import Secret

_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """The PEP 503 form of a project name (what ``packaging.utils.canonicalize_name`` gives)."""
    return _SEPARATORS.sub("-", name).lower()


def _normalize_pattern(pattern: str) -> str:
    # A glob normalizes like a name: "Corp_*" and "corp-*" are the same rule.
    return _SEPARATORS.sub("-", pattern.strip()).lower()


@dataclass(frozen=True)
class Upstream:
    """An index behind the local one: its name, simple root URL, owned names and credential."""

    name: str
    url: str  # the simple API root, without credentials
    owns: tuple[str, ...] = ()
    username: str | None = None
    token: Secret | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"index {self.name!r}: not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"index {self.name!r}: the URL must not carry a credential")
        url = self.url if self.url.endswith("/") else self.url + "/"
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "owns", tuple(_normalize_pattern(p) for p in self.owns))

    def owns_name(self, name: str) -> bool:
        normalized = normalize(name)
        return any(fnmatch.fnmatchcase(normalized, pattern) for pattern in self.owns)

    def project_url(self, name: str) -> str:
        return urljoin(self.url, quote(normalize(name)) + "/")


@dataclass(frozen=True)
class Problem:
    """Something an upstream did that made a local request fail, named for the user."""

    index: str
    url: str  # redacted, without query string ("" when several indexes are meant)
    what: str
    hint: str

    def describe(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"index {self.index!r}{where} {self.what}; {self.hint}"
