"""Dependency confusion: which names an index owns, what an install asks for, what PyPI holds.

pip takes the highest version of a name across *all* its indexes, so when a public index
is in play next to a private one, anyone who publishes a private package's name there with
a higher version gets installed. ``check_install`` refuses such an install before pip runs;
``audit`` (privpip audit) reports every owned name that exists on the public index.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from privpip.config import Index
from privpip.errors import PrivpipError
from privpip.secret import redact

if TYPE_CHECKING:
    from privpip.credentials import Credential

_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
           "text/html;q=0.01")
LOOKUP_TIMEOUT = 15.0

# pip install options that take a value (the value is never a requirement).
_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
    "--platform", "--python-version", "--implementation", "--abi", "--root", "--prefix",
    "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
    "--no-binary", "--only-binary", "--progress-bar", "--root-user-action", "--report",
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--log", "--log-file",
    "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
    "--client-cert", "--cache-dir", "--python", "--keyring-provider", "--use-feature",
    "--use-deprecated", "--group", "--hash", "--build-option", "--install-option",
}
_SHORT_WITH_VALUE = ("-r", "-c", "-e", "-t", "-i", "-f", "-C")
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


class DependencyConfusion(PrivpipError):
    """An install would let a public index serve a name that a private index owns."""


class PublicIndexError(PrivpipError):
    """The public index (or an index's listing) could not be asked."""


@dataclass
class Requested:
    """What a pip install command line asks for, as far as privpip can see it."""

    names: dict[str, str] = field(default_factory=dict)  # canonical name -> where it was seen
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def owner(indexes: Sequence[Index], name: str) -> Index | None:
    """The first index whose ``packages`` patterns match the canonical ``name``."""
    for index in indexes:
        if any(fnmatchcase(name, pattern) for pattern in index.packages):
            return index
    return None


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


# ---------------------------------------------------------------------------
# reading a pip install command line and its requirement files


def requested(pip_args: Sequence[str], cwd: Path) -> Requested:
    out = Requested()
    _scan_args(list(pip_args), cwd, "command line", out, set())
    return out


def _scan_args(args: list[str], base: Path, origin: str, out: Requested, seen: set[Path]) -> None:
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            continue
        if arg.startswith("-") and arg != "-":
            option, value = _split_option(arg)
            if option in _VALUE_OPTIONS and value is None:
                value = args[i] if i < len(args) else None
                i += 1
            if option == "--no-index":
                out.no_index = True
            elif option in ("-i", "--index-url") and value:
                out.index_url = value
            elif option == "--extra-index-url" and value:
                out.extra_index_urls.append(value)
            elif option in ("-r", "--requirement") and value:
                _scan_file(value, base, out, seen)
            continue
        name = requirement_name(arg, base)
        if name:
            out.names.setdefault(name, origin)


def _split_option(arg: str) -> tuple[str, str | None]:
    if arg.startswith("--"):
        option, eq, value = arg.partition("=")
        return option, value if eq else None
    for short in _SHORT_WITH_VALUE:
        if arg.startswith(short) and len(arg) > 2:
            return short, arg[2:].lstrip("=")
    return arg, None


def requirement_name(text: str, base: Path) -> str | None:
    """The canonical name a requirement string installs from an index; None for paths/URLs."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = text.strip()
    if not text or "://" in text or "/" in text or "\\" in text or text.endswith(_ARCHIVE):
        return None
    if text == "." or (base / text).exists():
        return None
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None  # pip will say what is wrong with it
    if req.url:
        return None  # name @ URL never consults an index
    return canonical(req.name)


def _scan_file(value: str, base: Path, out: Requested, seen: set[Path]) -> None:
    if "://" in value:
        return  # a remote requirements file: pip fetches it; privpip does not
    path = (base / value).resolve()
    if path in seen:
        return
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # pip reports a missing or unreadable file itself
    label = value
    for line in _logical_lines(text):
        if line.startswith("-"):
            try:
                parts = shlex.split(line)
            except ValueError:
                continue
            _scan_args(parts, path.parent, label, out, seen)
            continue
        # A requirement, possibly followed by per-requirement options (--hash=..., etc.).
        requirement = re.split(r"\s+--?(?=[A-Za-z])", line, maxsplit=1)[0]
        name = requirement_name(requirement, path.parent)
        if name:
            out.names.setdefault(name, label)


def _logical_lines(text: str) -> list[str]:
    """pip's requirement file lines: continuations joined, comments and blanks dropped."""
    text = re.sub(r"\\\r?\n", "", text)
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


# ---------------------------------------------------------------------------
# the public index


def same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def public_in_play(selected: Sequence[Index], configured: Sequence[Index], public_index: str,
                   req: Requested) -> str | None:
    """Why a public index takes part in this install, or None when only private ones do."""
    if req.no_index:
        return None
    private = [i.url for i in configured if not same_url(i.url, public_index)]
    if req.index_url is not None:
        if not any(same_url(req.index_url, url) for url in private):
            return f"--index-url {redact(req.index_url)} is not a configured private index"
    elif not any(i.default for i in selected):
        return ("no default index is configured, so pip's own default index "
                "(PyPI, or PIP_INDEX_URL) is searched too")
    for url in req.extra_index_urls:
        if not any(same_url(url, p) for p in private):
            return f"--extra-index-url {redact(url)} is not a configured private index"
    for index in selected:
        if same_url(index.url, public_index):
            return f"index {index.name!r} is the public index"
    return None


def lookup(public_index: str, name: str, timeout: float = LOOKUP_TIMEOUT) -> list[str] | None:
    """The versions of ``name`` on the public index; None when the index does not have it."""
    url = public_index.rstrip("/") + "/" + name + "/"
    status, content_type, body = _get(url, None, timeout)
    if status == 404:
        return None
    if status != 200:
        raise PublicIndexError(f"{redact(url)} answered HTTP {status}")
    return _versions(name, content_type, body)


def _get(url: str, credential: Credential | None, timeout: float) -> tuple[int, str, bytes]:
    import urllib.error

    from privpip.check import open_url

    try:
        with open_url(url, credential, timeout, _ACCEPT) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", "") if exc.headers else "", b""
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublicIndexError(f"cannot reach {redact(url)}: {reason}") from None


def _versions(name: str, content_type: str, body: bytes) -> list[str]:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion, Version

    filenames: list[str] = []
    versions: set[str] = set()
    if "json" in content_type:
        import json

        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        versions.update(str(v) for v in data.get("versions", []) if isinstance(v, str))
        filenames += [f.get("filename", "") for f in data.get("files", []) if isinstance(f, dict)]
    else:
        filenames += [text for _href, text in _anchors(body)]
    for filename in filenames:
        try:
            if filename.endswith(".whl"):
                versions.add(str(parse_wheel_filename(filename)[1]))
            else:
                versions.add(str(parse_sdist_filename(filename)[1]))
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue

    def key(v: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(v))
        except InvalidVersion:
            return (0, v)

    return sorted(versions, key=key)


def _anchors(body: bytes) -> list[tuple[str, str]]:
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        href: str | None = None
        text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.href = dict(attrs).get("href") or ""
                self.text = ""

        def handle_data(self, data: str) -> None:
            if self.href is not None:
                self.text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self.href is not None:
                found.append((self.href, self.text.strip()))
                self.href = None

    Parser().feed(body.decode("utf-8", errors="replace"))
    return found


def list_index(url: str, credential: Credential | None,
               timeout: float = LOOKUP_TIMEOUT) -> list[str]:
    """The canonical project names an index's simple root lists (PEP 691 JSON or PEP 503)."""
    status, content_type, body = _get(url, credential, timeout)
    if status != 200:
        raise PublicIndexError(f"listing {redact(url)} answered HTTP {status}")
    names: list[str] = []
    if "json" in content_type:
        import json

        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        names = [p.get("name", "") for p in data.get("projects", []) if isinstance(p, dict)]
    else:
        names = [text for _href, text in _anchors(body)]
    return sorted({canonical(n) for n in names if n})


# ---------------------------------------------------------------------------
# the install check


def check_install(configured: Sequence[Index], selected: Sequence[Index], public_index: str,
                  pip_args: Sequence[str], cwd: Path, allow: Sequence[str]) -> list[str]:
    """Raise DependencyConfusion when an owned, requested name exists on a public index in play.

    Returns notes (for --verbose) on what was checked.
    """
    req = requested(pip_args, cwd)
    owned = {name: (origin, index) for name, origin in req.names.items()
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
