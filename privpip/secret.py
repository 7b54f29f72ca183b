"""The Secret type and the one redactor every message goes through."""

from __future__ import annotations

import re

# Every secret privpip has held in this process, so that redact() can scrub any message.
_SEEN: set[str] = set()


class Secret:
    """A token. ``str`` and ``repr`` are redacted; ``reveal()`` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if value:
            _SEEN.add(value)

    def reveal(self) -> str:
        return self._value

    def prefix(self, length: int = 4) -> str:
        """A short prefix for humans to recognize which token is in use."""
        return self._value[:length] + "…" if len(self._value) > length else "…"

    def __str__(self) -> str:
        return "****"

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*@)")


def redact(text: str) -> str:
    """Remove URL userinfo and every form of every secret this process has seen from ``text``."""
    from urllib.parse import quote  # not at import time: `privpip --help` needs none of it

    text = _USERINFO.sub(lambda m: m.group("scheme") + "****@", text)
    for value in sorted(_SEEN, key=len, reverse=True):
        if len(value) < 4:  # too short to scrub without garbling the message
            continue
        # surrogateescape: a value read from undecodable environment bytes must not crash here.
        forms = {value, quote(value, safe="", errors="surrogateescape"),
                 quote(value, errors="surrogateescape")}
        for form in forms:
            text = text.replace(form, "****")
    return text
