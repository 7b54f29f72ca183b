"""Routing rules of the local index (pure, no I/O): who owns a name, whom to ask, how pages merge.

The rules, in the order they apply to ``/simple/<name>/`` (names PEP 503-normalized):

1. Ownership. An upstream owns a name when one of its ``owns`` patterns (normalized names or
   ``fnmatch`` globs such as ``corp-*``) matches. The first owning upstream in config order is
   the only one asked: a squatted copy anywhere else is never seen, directly or as a dependency.
   This is PEP 708's "the user told the installer where the project comes from" (its step 3).
2. Otherwise every upstream is asked. Found in one only: that page. Found in several: if none
   of the pages declares PEP 708 metadata, the pages merge (the long-standing behaviour of
   pip's ``--extra-index-url``, which an unowned name has asked for). If any of them declares
   ``tracks`` or ``alternate-locations``, the metadata must allow merging *all* of them (PEP
   708, "File Discovery Algorithm" step 4), else the name is refused (a :class:`Refusal`):

   - tracks: a page that declares ``tracks`` stands for the project pages it names; one that
     does not stands for itself. They merge when one project page is common to all.
   - alternate locations: every page declares them, each list plus the page's own URL
     (implicitly included, as the PEP requires) is the same set, and it names every page.

3. Merging keeps the files of each page in config order; a filename seen before is dropped
   (first wins); every attribute of a kept file is kept.
4. Every file URL is rewritten to ``/files/<index>/<id>/<filename>`` on the local server; the
   id is a digest of index and URL, so the same page always gives the same paths and the
   server's map (:class:`Target` by id) stays bounded by the files actually listed.

The root listing ``/simple/`` is not served (404): pip and uv never read it, a union would
mean fetching every upstream's full listing (hundreds of thousands of names behind a PyPI
proxy) on a request nobody makes, and it would disclose every private name to any tool.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from privpip.identity import canonical_url
from privpip.localindex.model import Problem, Upstream, normalize
from privpip.localindex.pages import File, Page

__all__ = ["Problem", "Refusal", "Target", "Upstream", "normalize"]

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid project name (PEP 508), so safe to put into a URL path."""
    return bool(_NAME.match(name))


def owner(name: str, upstreams: Sequence[Upstream]) -> Upstream | None:
    """The first upstream (config order) owning ``name``, or None."""
    return next((u for u in upstreams if u.owns_name(name)), None)


def upstreams_for(name: str, upstreams: Sequence[Upstream]) -> tuple[Upstream, ...]:
    """Whom to ask for ``name``'s page: its owner alone, or every upstream in config order."""
    found = owner(name, upstreams)
    return (found,) if found is not None else tuple(upstreams)


@dataclass(frozen=True)
class Target:
    """Where a local file path leads: the upstream index and the file's URL there."""

    index: str
    url: str
    filename: str


def file_id(index: str, url: str) -> str:
    # A digest, not a counter: the same file gets the same local path on every run, so the
    # caches of pip and uv (keyed by URL) hit.
    return hashlib.sha256(f"{index}\0{url}".encode()).hexdigest()[:32]


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")


def _quote(text: str) -> str:
    # Most filenames need no quoting; quote() costs microseconds per file of a long page.
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def local_path(index: str, url: str, filename: str, digest: str | None = None) -> str:
    return f"/files/{_quote(index)}/{digest or file_id(index, url)}/{_quote(filename)}"


def rewrite(page: Page, upstream: Upstream) -> tuple[Page, dict[str, Target]]:
    """``page`` with every file URL pointing at the local server, and the map of its ids.

    Runs for every page a client reads (pages of thousands of files exist): one digest per
    file, and a copy made without dataclasses.replace (which inspects the fields each time).
    """
    targets: dict[str, Target] = {}
    files = []
    index = upstream.name
    for file in page.files:
        digest = file_id(index, file.url)
        targets[digest] = Target(index, file.url, file.filename)
        files.append(File(**{**file.__dict__,
                             "url": local_path(index, file.url, file.filename, digest)}))
    return page.with_files(tuple(files)), targets


@dataclass(frozen=True)
class Refusal:
    """A name found on several upstreams whose PEP 708 metadata does not allow merging them."""

    name: str
    indexes: tuple[str, ...]
    reason: str


def _identities(upstream: Upstream, page: Page, name: str) -> set[str]:
    found = {canonical_url(upstream.project_url(name))}
    if page.url:
        found.add(canonical_url(page.url))
    return found


def _tracks_allow(found: Sequence[tuple[Upstream, Page]], name: str) -> bool:
    common: set[str] | None = None
    for upstream, page in found:
        stands_for = ({canonical_url(u) for u in page.tracks} if page.tracks
                      else _identities(upstream, page, name))
        common = stands_for if common is None else common & stands_for
    return bool(common)


def _alternates_allow(found: Sequence[tuple[Upstream, Page]], name: str) -> bool:
    if not all(page.alternate_locations for _, page in found):
        return False
    sets = []
    for upstream, page in found:
        own = _identities(upstream, page, name)
        sets.append({canonical_url(u) for u in page.alternate_locations} | own)
    agreed = sets[0]
    if any(s != agreed for s in sets[1:]):
        return False
    return all(_identities(u, p, name) & agreed for u, p in found)


def may_merge(found: Sequence[tuple[Upstream, Page]], name: str) -> str | None:
    """None when the pages in ``found`` may merge (PEP 708 as described above), else why not."""
    if len(found) < 2:
        return None
    if not any(page.tracks or page.alternate_locations for _, page in found):
        return None
    if _tracks_allow(found, name) or _alternates_allow(found, name):
        return None
    indexes = ", ".join(u.name for u, _ in found)
    return (f"{name!r} is on several indexes ({indexes}) and their PEP 708 metadata "
            "(tracks / alternate-locations) does not say they are the same project")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split(".")[:2])


def merge(name: str, pages: Sequence[Page]) -> Page:
    """One page: files in order, the first of each filename kept, attributes untouched."""
    seen: set[str] = set()
    files: list[File] = []
    for page in pages:
        for file in page.files:
            if file.filename not in seen:
                seen.add(file.filename)
                files.append(file)
    versions: list[str] | None = []
    for page in pages:
        if page.versions is None or versions is None:
            versions = None
            continue
        versions += [v for v in page.versions if v not in versions]
    # Claim PEP 700 (1.1) only when the JSON form can carry what 1.1 requires.
    full = versions is not None and all(f.size is not None for f in files)
    newest = all(_version(p.api_version) >= (1, 1) for p in pages)
    return Page(name=name, files=tuple(files), api_version="1.1" if full and newest else "1.0",
                versions=tuple(versions) if full and newest and versions is not None else None)


def combine(name: str, results: Sequence[tuple[Upstream, Page | None]]) -> Page | Refusal | None:
    """The local page for ``name`` from each asked upstream's page (None: not found there).

    Pages must already be rewritten (:func:`rewrite`). None when no upstream has the name.
    """
    found = [(u, p) for u, p in results if p is not None]
    if not found:
        return None
    reason = may_merge(found, name)
    if reason is not None:
        return Refusal(name, tuple(u.name for u, _ in found), reason)
    return merge(normalize(name), [p for _, p in found])


def withheld(name: str, failed: Sequence[str], answered: Sequence[str]) -> Problem:
    """Why an unowned name's page was withheld although some indexes answered (fail closed).

    The failing index's own problem says what went wrong there; this one tells the user why a
    package that lives on another index failed too, and the two ways out.
    """
    failing = ", ".join(repr(i) for i in failed)
    also = f" although {', '.join(repr(i) for i in answered)} answered" if answered else ""
    what = (f"failed, so the page of {name!r} was withheld{also}: a page merged without "
            f"{'it' if len(failed) == 1 else 'them'} could pick a copy squatted elsewhere")
    hint = (f"fix index {failing} (see its own message), or add {name!r} to the packages of "
            "the index that owns it")
    return Problem(", ".join(failed), "", what, hint)
