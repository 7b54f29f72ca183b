"""The one reader of pip command lines and requirement files: what a pip run asks for.

Used for the dependency confusion check (requested names, index options), for finding pip's
subcommand, and for telling whether git will be needed (a git+ URL anywhere). It follows
-r and -c files, nested ones included, as pip does, and reads pip's option forms
(``-r FILE``, ``-rFILE``, ``-r=FILE``, ``--requirement FILE``, ``--requirement=FILE``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# pip options that take a value (the value is never a requirement or a subcommand).
VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
    "--platform", "--python-version", "--implementation", "--abi", "--root", "--prefix",
    "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
    "--no-binary", "--only-binary", "--progress-bar", "--root-user-action", "--report",
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--log", "--log-file",
    "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
    "--client-cert", "--cache-dir", "--python", "--keyring-provider", "--use-feature",
    "--use-deprecated", "--group", "--hash", "--build-option", "--install-option",
})
_SHORT_WITH_VALUE = ("-r", "-c", "-e", "-t", "-i", "-f", "-C")
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
_GIT_URL = re.compile(r"(?<![A-Za-z0-9])git\+(https?|ssh|file|git)://", re.IGNORECASE)


@dataclass
class PipArgs:
    """What a pip command line (and the files it names) asks for, as far as privpip can see."""

    names: dict[str, str] = field(default_factory=dict)  # canonical name -> where it was seen
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False
    mentions_git: bool = False  # a git+ URL on the command line or in a -r/-c file


def split_option(arg: str) -> tuple[str, str | None]:
    """``--opt=value`` / ``-rFILE`` / ``-r=FILE`` -> (option, value); (arg, None) otherwise."""
    if arg.startswith("--"):
        option, eq, value = arg.partition("=")
        return option, value if eq else None
    for short in _SHORT_WITH_VALUE:
        if arg.startswith(short) and len(arg) > 2:
            return short, arg[2:].lstrip("=")
    return arg, None


def command_at(args: Sequence[str]) -> int | None:
    """The position of pip's subcommand (``install`` in ``pip -q --log x install ...``)."""
    n = 0
    while n < len(args):
        arg = args[n]
        if not arg.startswith("-") or arg == "-":
            return n
        option, value = split_option(arg)
        n += 2 if option in VALUE_OPTIONS and value is None else 1
    return None


def scan(args: Sequence[str], cwd: Path) -> PipArgs:
    """Read ``args`` (pip's arguments after the subcommand, or any command line) and files."""
    out = PipArgs()
    _scan_args(list(args), cwd, "command line", out, set(), constraint=False)
    return out


def _scan_args(args: list[str], base: Path, origin: str, out: PipArgs, seen: set[Path],
               constraint: bool) -> None:
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if _GIT_URL.search(arg):
            out.mentions_git = True
        if arg == "--":
            continue
        if arg.startswith("-") and arg != "-":
            option, value = split_option(arg)
            if option in VALUE_OPTIONS and value is None:
                value = args[i] if i < len(args) else None
                i += 1
                if value is not None and _GIT_URL.search(value):
                    out.mentions_git = True
            if option == "--no-index":
                out.no_index = True
            elif option in ("-i", "--index-url") and value:
                out.index_url = value
            elif option == "--extra-index-url" and value:
                out.extra_index_urls.append(value)
            elif option in ("-r", "--requirement") and value:
                _scan_file(value, base, out, seen, constraint)
            elif option in ("-c", "--constraint") and value:
                _scan_file(value, base, out, seen, constraint=True)
            continue
        if not constraint:
            name = requirement_name(arg, base)
            if name:
                out.names.setdefault(name, origin)


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


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


def _scan_file(value: str, base: Path, out: PipArgs, seen: set[Path], constraint: bool) -> None:
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
    for line in logical_lines(text):
        if line.startswith("-"):
            try:
                parts = shlex.split(line)
            except ValueError:
                continue
            _scan_args(parts, path.parent, value, out, seen, constraint)
            continue
        if _GIT_URL.search(line):
            out.mentions_git = True
        if constraint:
            continue
        # A requirement, possibly followed by per-requirement options (--hash=..., etc.).
        requirement = re.split(r"\s+--?(?=[A-Za-z])", line, maxsplit=1)[0]
        name = requirement_name(requirement, path.parent)
        if name:
            out.names.setdefault(name, value)


def logical_lines(text: str) -> list[str]:
    """pip's requirement file lines: continuations joined, comments and blanks dropped."""
    text = re.sub(r"\\\r?\n", "", text)
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines
