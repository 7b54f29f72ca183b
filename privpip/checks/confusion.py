"""Dependency confusion: which names an index owns, what an install asks for, what PyPI holds.

pip takes the highest version of a name across *all* its indexes, so when a public index
is in play next to a private one, anyone who publishes a private package's name there with
a higher version gets installed. ``check_install`` refuses such an install before pip runs;
``audit`` (privpip audit) reports every owned name that exists on the public index.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from privpip.config import Index
from privpip.core import identity
from privpip.core.pipargs import Walk, canonical
from privpip.core.secret import redact
from privpip.credentials import http
from privpip.errors import PrivpipError

if TYPE_CHECKING:
    from privpip.credentials import Credential

LOOKUP_TIMEOUT = 15.0


class DependencyConfusion(PrivpipError):
    """An install would let a public index serve a name that a private index owns."""


class PublicIndexError(PrivpipError):
    """The public index (or an index's listing) could not be asked."""


def owner(indexes: Sequence[Index], name: str) -> Index | None:
    """The first index whose ``packages`` patterns match the canonical ``name``."""
    for index in indexes:
        if any(fnmatchcase(name, pattern) for pattern in index.packages):
            return index
    return None


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


# ---------------------------------------------------------------------------
# the public index


def public_in_play(selected: Sequence[Index], configured: Sequence[Index], public_index: str,
                   req: Walk) -> str | None:
    """Why a public index takes part in this install, or None when only private ones do."""
    if req.no_index:
        return None
    private = [i.url for i in configured if not identity.same_index(i.url, public_index)]
    if req.index_url is not None:
        if not any(identity.same_index(req.index_url, url) for url in private):
            return f"--index-url {redact(req.index_url)} is not a configured private index"
    elif not any(i.default for i in selected):
        return ("no default index is configured, so pip's own default index "
                "(PyPI, or PIP_INDEX_URL) is searched too")
    for url in req.extra_index_urls:
        if not any(identity.same_index(url, p) for p in private):
            return f"--extra-index-url {redact(url)} is not a configured private index"
    for index in selected:
        if identity.same_index(index.url, public_index):
            return f"index {index.name!r} is the public index"
    return None


def lookup(public_index: str, name: str, timeout: float = LOOKUP_TIMEOUT) -> list[str] | None:
    """The versions of ``name`` on the public index; None when the index does not have it."""
    url = public_index.rstrip("/") + "/" + name + "/"
    page = _get(url, None, timeout)
    if page.status == 404:
        return None
    if page.status != 200:
        raise PublicIndexError(f"{redact(url)} answered HTTP {page.status}")
    from privpip.localindex import pages

    try:
        return pages.offered_versions(pages.parse(page.body, page.content_type, url, name))
    except pages.PageError as exc:
        raise PublicIndexError(f"{redact(url)}: {exc}") from None


def _get(url: str, credential: Credential | None, timeout: float) -> http.Page:
    try:
        return http.get(url, credential, timeout)
    except http.FetchError as exc:
        raise PublicIndexError(str(exc)) from None


def list_index(url: str, credential: Credential | None,
               timeout: float = LOOKUP_TIMEOUT) -> list[str]:
    """The canonical project names an index's simple root lists (PEP 691 JSON or PEP 503)."""
    page = _get(url, credential, timeout)
    if page.status != 200:
        raise PublicIndexError(f"listing {redact(url)} answered HTTP {page.status}")
    from privpip.localindex import pages

    try:
        names = pages.parse_project_list(page.body, page.content_type, url)
    except pages.PageError as exc:
        raise PublicIndexError(f"listing {redact(url)}: {exc}") from None
    return sorted({canonical(n) for n in names if n})


# ---------------------------------------------------------------------------
# the install check


def check_install(configured: Sequence[Index], selected: Sequence[Index], public_index: str,
                  req: Walk, allow: Sequence[str]) -> list[str]:
    """Raise DependencyConfusion when an owned, requested name exists on a public index in play.

    ``req``: the run's reading of pip's arguments and requirement files (pipargs.walk).
    Returns notes (for --verbose) on what was checked.
    """
    owned = {name: (origin, index) for name, origin in req.names().items()
             if (index := owner(configured, name)) is not None}
    if not owned:
        return ["dependency confusion check: no requested name is owned by an index"]
    why = public_in_play(selected, configured, public_index, req)
    if why is None:
        return ["dependency confusion check: only private indexes are in play"]
    allowed = {canonical(a) for a in allow}
    notes = []
    problems = []
    for name, (origin, index) in owned.items():
        if name in allowed:
            notes.append(f"dependency confusion check: {name} allowed by --allow-public")
            continue
        try:
            versions = lookup(public_index, name)
        except PublicIndexError as exc:
            raise DependencyConfusion(
                f"cannot check whether {name} (owned by index {index.name!r}) exists on the "
                f"public index, which this install would also search: {exc.message}",
                f"make {index.name!r} the default index (default = true) so no public index "
                f"is searched, or pass --allow-public {name} if you accept the risk",
            ) from None
        if versions is None:
            notes.append(f"dependency confusion check: {name} is not on {public_index}")
        else:
            shown = ", ".join(versions[-5:]) or "no files"
            problems.append(f"  - {name} ({origin}): owned by index {index.name!r}, but "
                            f"{redact(public_index)} has it too (versions: {shown})")
    if problems:
        names = " ".join(f"--allow-public {p.split()[1]}" for p in problems)
        raise DependencyConfusion(
            "refusing to install: a public index is in play and holds names that a private "
            f"index owns; pip would take the highest version from either ({why}):\n"
            + "\n".join(problems) + "\nnothing was installed",
            "make the private index the default (default = true; if it proxies PyPI, that "
            "is all you need) instead of an extra index; or, if the public project is "
            f"really yours, pass {names}; `privpip audit` lists every such name",
        )
    return notes
