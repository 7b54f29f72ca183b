"""Small files held for the run: the upstream is asked once where uv asks three times.

Without PEP 658 metadata, uv reads a wheel's metadata with a HEAD (does the index serve
ranges, how long is the file), a range GET of the file's end, and later a GET of the whole
file to install it: three round trips to a registry that may be 50-100 ms away, and three
requests against its rate limit. The local index answers a HEAD for a file of at most
``PER_FILE`` bytes with one upstream GET, holds the body in memory, and serves the range and
the whole file from it (then lets it go). A larger file, or one whose answer is compressed or
has no length, is answered from the GET's headers and passed through as before. Requests
carrying conditions (If-None-Match, If-Modified-Since, If-Range) always go upstream, so the
upstream's own 304s still reach the client.

Held bodies are bounded: ``PER_FILE`` bytes each and ``BUDGET`` in all, the oldest let go
first; a body served whole is let go at once.
"""

from __future__ import annotations

import re
import threading
from typing import NamedTuple

PER_FILE = 1 << 20


BUDGET = 64 << 20


# The upstream's headers kept with a held body (the length, range and encoding are privpip's).
KEPT = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")


class Held(NamedTuple):
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Holder:
    """The run's held bodies by file id, ``budget`` bytes at most: the oldest is let go first
    (a dry run, or `privpip serve` for hours, never fetches most of them whole)."""

    def __init__(self, per_file: int = PER_FILE, budget: int = BUDGET) -> None:
        self.per_file = per_file
        self.budget = budget
        self._held: dict[str, Held] = {}  # in the order put
        self._used = 0
        self._lock = threading.Lock()

    def put(self, file_id: str, held: Held) -> None:
        with self._lock:
            self._drop(file_id)
            while self._held and self._used + len(held.body) > self.budget:
                self._drop(next(iter(self._held)))
            self._held[file_id] = held
            self._used += len(held.body)

    def get(self, file_id: str) -> Held | None:
        return self._held.get(file_id)  # one dict read: atomic under the GIL

    def drop(self, file_id: str) -> None:
        with self._lock:
            self._drop(file_id)

    def _drop(self, file_id: str) -> None:
        held = self._held.pop(file_id, None)
        if held is not None:
            self._used -= len(held.body)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one satisfiable range ``bytes=A-B``, ``bytes=A-`` or ``bytes=-N`` of a ``size``-byte
    body, as (start, end exclusive); None for anything else (several ranges, another unit, an
    unsatisfiable or malformed range), which the upstream then answers itself."""
    match = re.fullmatch(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", header, re.IGNORECASE)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        return (max(0, size - int(last)), size) if int(last) > 0 else None
    start = int(first)
    end = size if last == "" else min(size, int(last) + 1)
    return (start, end) if start < end else None
