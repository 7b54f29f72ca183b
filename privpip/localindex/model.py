"""The local index's small value types: an upstream index, a named problem, PEP 503 names.

Kept apart from the routing rules and the page model so that ``import privpip.localindex``
stays cheap (no HTML parser, no ``packaging``) for commands that only build the config.
"""

from __future__ import annotations

import fnmatch
import re
from typing import NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from privpip.core.secret import Secret

_SEPARATORS = re.compile(r"[-_.]+")
# How a name no index owns is looked up (config key `index-strategy`, named as uv names it):
# the first index in order that has it (the default), or pip's merge of every index.
STRATEGIES = ("first-index", "unsafe-best-match")
# The start of the hint of a page withheld because an earlier index failed (routing.withheld);
# delivery.local.describe words it for an index taken over from pip (no `packages` to declare).
SKIP_HINT = "if it does not hold"


def normalize(name: str) -> str:
    """The PEP 503 form of a project name (what ``packaging.utils.canonicalize_name`` gives)."""
    return _SEPARATORS.sub("-", name).lower()


def _normalize_pattern(pattern: str) -> str:
    # A glob normalizes like a name: "Corp_*" and "corp-*" are the same rule.
    return _SEPARATORS.sub("-", pattern.strip()).lower()


class _UpstreamFields(NamedTuple):
    name: str
    url: str  # the simple API root, without credentials
    owns: tuple[str, ...] = ()
    username: str | None = None
    token: Secret | None = None  # shows as **** (Secret's repr)
    explicit: bool = False  # asked only for the names it owns (uv's `explicit = true`)


class Upstream(_UpstreamFields):
    """An index behind the local one: its name, simple root URL, owned names, credential, and
    whether it is explicit (asked for its own names only).

    A named tuple checked on creation, not a dataclass: install's start-up need not import
    dataclasses (with inspect, ast, dis and tokenize: about 8 ms)."""

    __slots__ = ()

    def __new__(cls, name: str, url: str, owns: tuple[str, ...] = (),
                username: str | None = None, token: Secret | None = None,
                explicit: bool = False) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"index {name!r}: not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"index {name!r}: the URL must not carry a credential")
        return super().__new__(cls, name, url if url.endswith("/") else url + "/",
                               tuple(_normalize_pattern(p) for p in owns), username, token,
                               explicit and bool(owns))

    def owns_name(self, name: str) -> bool:
        normalized = normalize(name)
        return any(fnmatch.fnmatchcase(normalized, pattern) for pattern in self.owns)

    def project_url(self, name: str) -> str:
        return urljoin(self.url, quote(normalize(name)) + "/")


class Problem:
    """Something an upstream did that made a local request fail, named for the user."""

    __slots__ = ("index", "url", "what", "hint")

    def __init__(self, index: str, url: str, what: str, hint: str) -> None:
        self.index = index
        self.url = url  # redacted, without query string ("" when several indexes are meant)
        self.what = what
        self.hint = hint

    def _fields(self) -> tuple[str, str, str, str]:
        return self.index, self.url, self.what, self.hint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Problem{self._fields()!r}"

    def describe(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"index {self.index!r}{where} {self.what}; {self.hint}"
