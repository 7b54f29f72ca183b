"""The Secret type and the one redactor every message goes through."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Every secret privpip has held in this process, so that redact() can scrub any message.
_SEEN: set[str] = set()
# Shorter values cannot be scrubbed without garbling messages; credentials.checked refuses them.
MIN_LENGTH = 4


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


# Compiled on the first redact() (re's cache): a run that shows no message needs neither.
_USERINFO = r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*@)"
_URL = r"(?P<origin>[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s'\"<>]*)(?P<rest>[^\s'\"<>]*)"


def forms(value: str) -> set[str]:
    """Every way ``value`` shows up in text: raw, percent-encoded (both ways), Python repr-
    and JSON-escaped (a message quoting a dict or a JSON body), unicode-escaped."""
    import json
    from urllib.parse import quote  # not at import time: `privpip --help` needs none of it

    # surrogateescape: a value read from undecodable environment bytes must not crash here.
    out = {value, quote(value, safe="", errors="surrogateescape"),
           quote(value, errors="surrogateescape"), repr(value)[1:-1],
           json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
           value.encode("unicode_escape", "backslashreplace").decode("ascii")}
    raw = value.encode("utf-8", "surrogateescape")
    out |= {raw.hex(), raw.hex().upper()}  # a debug dump of the bytes
    out |= _base64_forms(raw)
    return {form for form in out if len(form) >= MIN_LENGTH}


def _base64_forms(raw: bytes) -> set[str]:
    """The base64 text that encodes ``raw`` inside any longer text, such as a Basic header's
    ``user:token``: the value's bytes fall on one of three alignments to base64's 3-byte
    groups, and each alignment's whole groups encode to the same characters wherever they
    are. (At most the 2 bytes at each end, in a group shared with their neighbours, remain.)
    """
    import base64

    out = set()
    for shift in range(3):
        body = raw[shift:]
        body = body[: len(body) // 3 * 3]
        if len(body) >= 6:  # 8 characters: shorter ones would match ordinary words
            out |= {base64.b64encode(body).decode("ascii"),
                    base64.urlsafe_b64encode(body).decode("ascii")}
    whole = base64.b64encode(raw).decode("ascii")
    return out | {whole, whole.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii")}


def redact(text: str) -> str:
    """Remove URL userinfo and every form of every secret this process has seen from ``text``.

    A URL that holds a secret loses its whole path (``https://host/****``), not just the
    secret: a token that equals a word (``simple``) must not show where it sat in the URL.
    """
    text = re.sub(_USERINFO, lambda m: m.group("scheme") + "****@", text)
    if not _SEEN:
        return text
    every = _every_form()

    def url(match: re.Match[str]) -> str:
        origin, rest = match.group("origin"), match.group("rest")
        if any(form in origin for form in every):
            return origin.split("://", 1)[0] + "://****"
        if any(form in rest for form in every):
            return origin + "/****"
        return match.group(0)

    text = re.sub(_URL, url, text)
    for form in every:
        text = text.replace(form, "****")
    return text


_FORMS: dict[frozenset[str], list[str]] = {}


def _every_form() -> list[str]:
    """forms() of every secret seen, longest first: computed once per set of secrets, not
    per message (the local index redacts a URL for each request it logs, `privpip serve`)."""
    seen = frozenset(_SEEN)
    every = _FORMS.get(seen)
    if every is None:
        every = sorted({f for value in seen for f in forms(value)}, key=len, reverse=True)
        _FORMS.clear()  # the set only grows: the one before is not asked for again
        _FORMS[seen] = every
    return every


def redact_argv(argv: Sequence[str]) -> str:
    """A command line for a log line: URL userinfo masked as pip masks it, secrets scrubbed."""
    return redact(" ".join(argv))
