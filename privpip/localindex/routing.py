"""Routing rules of the local index (pure, no I/O): who owns a name, whom to ask, which page wins.

The rules, in the order they apply to ``/simple/<name>/`` (names PEP 503-normalized):

1. Ownership. An upstream owns a name when one of its ``owns`` patterns (normalized names or
   ``fnmatch`` globs such as ``corp-*``) matches. The first owning upstream in order is the
   only one asked: a squatted copy anywhere else is never seen, directly or as a dependency.
   This is PEP 708's "the user told the installer where the project comes from" (its step 3).
2. Otherwise every upstream that is not *explicit* is asked, concurrently, in order (privpip's
   extra indexes, its default index, the indexes taken over from pip, the public index; see
   ``delivery.local.plan``). An explicit upstream (one that declares ``packages`` and is not
   the default) is asked only for the names it owns, uv's ``explicit = true``.
3. The index strategy, named as uv names it:

   - ``first-index`` (the default): the page of the *first* upstream in order that has the
     name, never a merge; order decides, not speed. A name that exists on a private index
     therefore never comes from a later one. An upstream that failed before the first one
     that has the name withholds the page (it may hold its own copy): fail closed.
   - ``unsafe-best-match``: pip's ``--extra-index-url`` behaviour. Every asked upstream must
     answer; found in one only: that page. Found in several: if none of the pages declares
     PEP 708 metadata, the pages merge. If any of them declares ``tracks`` or
     ``alternate-locations``, the metadata must allow merging *all* of them (PEP 708, "File
     Discovery Algorithm" step 4), else the name is refused (a :class:`Refusal`):

     - tracks: a page that declares ``tracks`` stands for the project pages it names; one
       that does not stands for itself. They merge when one project page is common to all.
     - alternate locations: every page declares them, each list plus the page's own URL
       (implicitly included, as the PEP requires) is the same set, and it names every page.

4. Merging keeps the files of each page in order; a filename seen before is dropped (first
   wins); every attribute of a kept file is kept.
5. Every file URL is rewritten to ``/files/<index>/<id>/<filename>`` on the local server; the
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
from typing import NamedTuple
from urllib.parse import quote

from privpip.core.identity import canonical_url
from privpip.localindex.model import SKIP_HINT, STRATEGIES, Problem, Upstream, normalize
from privpip.localindex.pages import File, Page

__all__ = ["STRATEGIES", "Answer", "Problem", "Refusal", "Target", "Upstream", "normalize"]

FIRST_INDEX, UNSAFE_BEST_MATCH = STRATEGIES

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid project name (PEP 508), so safe to put into a URL path."""
    return bool(_NAME.match(name))


def owner(name: str, upstreams: Sequence[Upstream]) -> Upstream | None:
    """The first upstream (config order) owning ``name``, or None."""
    return next((u for u in upstreams if u.owns_name(name)), None)


def upstreams_for(name: str, upstreams: Sequence[Upstream]) -> tuple[Upstream, ...]:
    """Whom to ask for ``name``'s page: its owner alone, or every upstream that is not
    explicit, in order."""
    found = owner(name, upstreams)
    return (found,) if found is not None else tuple(u for u in upstreams if not u.explicit)


@dataclass(frozen=True)
class Target:
    """Where a local file path leads: the upstream index and the file's URL there."""

    index: str
    url: str
    filename: str
    size: int | None = None  # as the page declares it (PEP 700), if it does


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
        targets[digest] = Target(index, file.url, file.filename, file.size)
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
    """The merged page for ``name`` from each asked upstream's page (None: not found there).

    Pages must already be rewritten (:func:`rewrite`). None when no upstream has the name.
    """
    found = [(u, p) for u, p in results if p is not None]
    if not found:
        return None
    reason = may_merge(found, name)
    if reason is not None:
        return Refusal(name, tuple(u.name for u, _ in found), reason)
    return merge(normalize(name), [p for _, p in found])


# What one asked upstream gave: its page, None (not there), or the Problem it had.
Outcome = Page | Problem | None


class Answer(NamedTuple):
    """The local answer for ``/simple/<name>/``: status, page (200 only), a short message for
    the client, and a problem to report at exit (beside each failing upstream's own)."""

    status: int
    page: Page | None = None
    message: str = ""
    problem: Problem | None = None


def answer(name: str, asked: Sequence[Upstream], outcomes: Sequence[Outcome],
           strategy: str = FIRST_INDEX) -> Answer | None:
    """The answer once ``outcomes`` (those of ``asked``, in its order, a prefix so far) decide
    it; None while the next outcome is still needed. See the module's rules 2 and 3."""
    pairs = list(zip(asked, outcomes, strict=False))  # the outcomes known so far
    failed = [u.name for u, o in pairs if isinstance(o, Problem)]
    if strategy == FIRST_INDEX:
        for n, (upstream, outcome) in enumerate(pairs):
            if isinstance(outcome, Page):
                before = [u.name for u, o in pairs[:n] if isinstance(o, Problem)]
                if before:
                    problem = withheld(name, before, upstream.name)
                    return Answer(502, None, f"index {_names(before)} failed, so privpip "
                                  f"withheld this page (it comes before {upstream.name!r}, "
                                  "which has the name)", problem)
                return Answer(200, outcome)
    if len(pairs) < len(asked):
        return None
    if failed:
        if strategy != FIRST_INDEX and len(asked) > 1:
            answered = [u.name for u, o in pairs if isinstance(o, Page)]
            return Answer(502, None, f"index {_names(failed)} failed, so privpip withheld this "
                          "page (merged without it, it could pick a squatted copy)",
                          withheld(name, failed, _names(answered) or None, merged=True))
        return Answer(502, None, f"index {_names(failed)} failed; privpip names the problem "
                      "when pip exits")
    if strategy == FIRST_INDEX:
        return Answer(404, None, "not found on any index")
    combined = combine(name, [(u, o) for u, o in pairs if not isinstance(o, Problem)])
    if combined is None:
        return Answer(404, None, "not found on any index")
    if isinstance(combined, Refusal):
        return Answer(409, None, combined.reason, Problem(
            ", ".join(combined.indexes), "", combined.reason,
            f"declare {name!r} in the packages of the index it belongs to "
            "(packages = [...] in its [[index]] table)"))
    return Answer(200, combined)


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def withheld(name: str, failed: Sequence[str], found_on: str | None, merged: bool = False
             ) -> Problem:
    """Why ``name``'s page was withheld although another index could serve it (fail closed):
    ``failed`` could not be asked, and may hold its own ``name``.

    The failing index's own problem says what went wrong there; this one says why a package
    found elsewhere failed too, and the ways forward that fit: the failing index declares its
    packages (then other names skip it), or this run leaves it out.
    """
    one = len(failed) == 1
    if merged:
        what = (f"could not be asked for {name!r}, so its page was withheld"
                + (f" although {found_on} answered" if found_on else "")
                + f": a page merged without {'it' if one else 'them'} could pick a copy "
                "squatted elsewhere")
    else:
        what = (f"could not be asked for {name!r}, so its page was withheld although "
                f"{found_on!r} has it: {'it comes' if one else 'they come'} first, and "
                f"private first means {'its' if one else 'their'} own {name!r} would win")
    skip = " ".join(f"--skip-index {n}" for n in failed)
    hint = (f"{SKIP_HINT} {name!r}, declare the packages it does hold (packages = [...] in its "
            f"[[index]] table) so that other names skip it; or leave it out of this run: {skip}")
    return Problem(", ".join(failed), "", what, hint)
