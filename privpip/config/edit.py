"""Editing config files as text: the starter file, adding and removing one [[index]] table.

A file is never re-serialized, so its comments and layout survive: a new table is appended
as text produced by tomli-w, a removed table is cut out line by line. Every result is parsed
back and compared with what was asked before ``write_atomic`` (the one writer of config
files) replaces the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privpip.config.discovery import has_privpip_table
from privpip.config.model import PYPROJECT_FILE, Index, did_you_mean, label
from privpip.config.schema import parse_text
from privpip.core import atomic
from privpip.core.identity import DEFAULT_USERNAME, same_name
from privpip.errors import ConfigError

_DOC = """\
# Each index's token comes from, in order:
{sources}
#
# Add an index with `privpip index add NAME URL [--default] [--packages 'corp-*']`, or
# write a table by hand:
#
# {header}
# name = "corp"          # required; letters, digits, ".", "_", "-"; used in commands
#                        # and in PRIVPIP_INDEX_<NAME>_TOKEN
# url = "https://pypi.example.com/simple/"
#                        # required; the PEP 503 simple index, never with user:token@ in it
#                        # (http:// only for localhost)
# default = true         # optional, default false; true replaces PyPI (pip --index-url);
#                        # at most one index; the others are extra indexes
# username = "{username}" # optional; the HTTP basic-auth user (a deploy token's own
#                        # name); default {username}. GitLab CI's job token needs none.
# token-env = ["CORP_PYPI_TOKEN"]
#                        # optional; more variables to read the token from, in order
# auth = true            # optional; false for an index that needs no credential
# packages = ["corp-*"]  # optional; the names (or globs) this index owns. Without it, a
#                        # name comes from the first index in order that has it (extra
#                        # indexes first, PyPI last), so a private name is never taken
#                        # from PyPI. With it, those names come only from this index, even
#                        # ones it lacks, and it is asked for nothing else: when it is down,
#                        # other names still install.
"""


def _doc(header: str) -> str:
    from privpip.credentials import INDEX_SOURCES

    lines = []
    for n, source in enumerate(INDEX_SOURCES, 1):
        for m, line in enumerate(source.starter.splitlines()):
            lines.append(f"#   {n}. {line}" if m == 0 else f"#      {line}")
    return _DOC.format(sources="\n".join(lines), header=header, username=DEFAULT_USERNAME)


def starter(pyproject: bool) -> str:
    """The starter text `privpip init` writes (the table alone, for a pyproject.toml)."""
    if pyproject:
        return ("[tool.privpip]\n"
                "# The private package indexes this project installs from (read by privpip).\n"
                "# This table holds index names and URLs, never a token.\n"
                + _doc("[[tool.privpip.index]]"))
    return ("# privpip.toml: the private package indexes this project installs from.\n"
            "#\n"
            "# Commit this file: it holds index names and URLs, never a token.\n"
            + _doc("[[index]]"))


def user_starter() -> str:
    """The starter text of the user config file (`init --user`, `index add --user`)."""
    return ("# privpip's user config: private package indexes you use outside any project.\n"
            "# A project's privpip.toml comes first; an index here with the same name is\n"
            "# hidden by it. This file holds index names and URLs, never a token.\n"
            + _doc("[[index]]"))


_INDEX_HEADER = re.compile(r"^\s*\[\[\s*index\s*\]\]\s*(#.*)?$")
_PYPROJECT_INDEX_HEADER = re.compile(
    r"^\s*\[\[\s*tool\s*\.\s*privpip\s*\.\s*index\s*\]\]\s*(#.*)?$"
)
_ANY_HEADER = re.compile(r"^\s*\[")


def is_pyproject(path: Path) -> bool:
    return path.name == PYPROJECT_FILE


def read(path: Path) -> str:
    """The file's text with its line endings as they are (CRLF stays CRLF)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None


def _appended(text: str, block: str) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += newline
    if text.strip():
        text += newline
    return text + block.replace("\n", newline)


# ---------------------------------------------------------------------------
# init


def init_text(path: Path) -> str:
    """The new text for ``path`` with a starter privpip config, validated."""
    where = label(path)
    if is_pyproject(path):
        text = read(path)
        if has_privpip_table(text):
            raise ConfigError(where, "already has a [tool.privpip] table; not changed",
                              "add an index with `privpip index add NAME URL`")
        new = _appended(text, starter(pyproject=True))
        parse_text(new, where, pyproject=True)
        return new
    parse_text(starter(pyproject=False), where)
    return starter(pyproject=False)


# ---------------------------------------------------------------------------
# index add / remove


def table_text(fields: dict[str, Any], pyproject: bool) -> str:
    """One [[index]] table (``[[tool.privpip.index]]`` in pyproject.toml), body by tomli-w."""
    import tomli_w

    header = "[[tool.privpip.index]]" if pyproject else "[[index]]"
    # tomli-w would write a short table as an inline array `index = [{...}]`, which cannot be
    # appended to; so it serializes the table's body and the header is written here.
    return header + "\n" + tomli_w.dumps(fields)


def add_index(path: Path, fields: dict[str, Any]) -> tuple[str, Index]:
    """The new text of ``path`` with the index ``fields`` appended, and the Index it loads as."""
    pyproject = is_pyproject(path)
    where = label(path)
    text = read(path)
    before = _indexes(text, where, pyproject)
    name = fields["name"]
    for existing in before:
        if same_name(existing.name, name):  # one PRIVPIP_INDEX_<NAME>_TOKEN, one index
            raise ConfigError(where, f"already has an index named {existing.name!r}; "
                              "not changed",
                              f"remove it first with `privpip index remove {existing.name}`, "
                              "or pick another name")
        if fields.get("default") and existing.default:
            raise ConfigError(
                where, f"index {existing.name!r} is already the default; not changed",
                "only one index can replace PyPI; add this one without --default as an extra "
                f"index, or `privpip index remove {existing.name}` first",
            )
    block = table_text(fields, pyproject)
    try:
        after = _indexes(_appended(text, block), where, pyproject)
        (wanted,) = _indexes(block, where, pyproject)
    except ConfigError as exc:
        raise ConfigError("", f"{exc.message}; {where} was not changed", exc.hint) from None
    if after != [*before, wanted]:
        raise ConfigError(where, f"adding index {name!r} as text would not load back as "
                          "asked (is the index list written as an inline array?); not changed",
                          "add the [[index]] table by hand")
    return _appended(text, block), wanted


def remove_index(path: Path, name: str) -> str:
    """The new text of ``path`` without the [[index]] table named ``name``."""
    pyproject = is_pyproject(path)
    where = label(path)
    text = read(path)
    before = _indexes(text, where, pyproject)
    if name not in {i.name for i in before}:
        raise ConfigError(where, f"no index named {name!r}"
                          f"{did_you_mean(name, [i.name for i in before])}",
                          "configured here: " + (", ".join(i.name for i in before) or "none"))
    header = _PYPROJECT_INDEX_HEADER if pyproject else _INDEX_HEADER
    lines = text.splitlines(keepends=True)
    starts = [n for n, line in enumerate(lines) if _ANY_HEADER.match(line)]
    for n, start in enumerate(starts):
        if not header.match(lines[start]):
            continue
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        try:
            found = _indexes("".join(lines[start:end]), where, pyproject)
        except ConfigError:
            continue
        if [i.name for i in found] != [name]:
            continue
        # Cut the header and its keys; comments after the last key (often about the next
        # table) stay, as do blank lines, collapsed below.
        cut = end
        while cut > start + 1 and (not lines[cut - 1].strip()
                                   or lines[cut - 1].lstrip().startswith("#")):
            cut -= 1
        new_lines = lines[:start] + lines[cut:]
        # Do not leave two blank lines where the table was.
        while (start > 0 and start < len(new_lines) and not new_lines[start - 1].strip()
               and not new_lines[start].strip()):
            del new_lines[start]
        while new_lines and not new_lines[-1].strip():
            new_lines.pop()
        new = "".join(new_lines)
        if new and not new.endswith("\n"):
            new += "\r\n" if "\r\n" in text else "\n"
        try:
            after = _indexes(new, where, pyproject)
        except ConfigError:
            break
        if after == [i for i in before if i.name != name]:
            return new
        break
    raise ConfigError(where, f"cannot remove index {name!r} safely as text (is it written as "
                      "an inline table or array?); not changed", "remove it by hand")


def _indexes(text: str, where: str, pyproject: bool = False) -> list[Index]:
    return parse_text(text, where, pyproject).indexes


# ---------------------------------------------------------------------------
# writing


def write_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path``: a reader sees the old file or the new one, never a mix.

    The text goes to a new temporary file in the same directory (same file system), is
    flushed to disk, gets the old file's permissions (a new file: 0o666 minus the umask), and
    then replaces ``path`` in one step (``os.replace``). A symlinked config file is written
    through to its target. ``exclusive``: create ``path``, FileExistsError if it exists (a hard
    link, which unlike os.replace never overwrites). Two writers at once: the last one wins,
    and each file read is still whole. Nothing is left behind on failure.
    """
    # A new file is created exactly at ``path``: never through a (dangling) symlink.
    target = Path(path) if exclusive else Path(os.path.realpath(path))
    tmp = atomic.stage(target, text)
    try:
        if not exclusive:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)  # fails if the file exists, unlike os.replace
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_many_atomic(texts: Sequence[tuple[Path, str]],
                      before_replace: Callable[[int], None] | None = None) -> None:
    """Write several files so that a failure leaves each one whole, old or new.

    Every new text is staged first (as ``write_atomic`` does); a failure while staging leaves
    every file as it was. Then each replaces its file in one step. ``before_replace(n)`` runs
    before the n-th replace (tests inject a crash there).
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in texts:
            target = Path(os.path.realpath(path))
            staged.append((atomic.stage(target, text), target))
        for n, (tmp, target) in enumerate(staged):
            if before_replace is not None:
                before_replace(n)
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


# ---------------------------------------------------------------------------
# hints


def url_hints(url: str, env_name: str) -> list[str]:
    """Advice for well-known URL shapes (GitLab's package registry) and unusual URLs."""
    from urllib.parse import urlsplit

    from privpip.config import providers

    path = urlsplit(url).path
    hints = []
    kind = providers.gitlab_kind(url)
    if kind is not None:
        hints.append(
            f"this looks like a GitLab {kind} package registry. GitLab accepts: a personal "
            f"access token (scope read_api) with the default username {DEFAULT_USERNAME}; a deploy "
            "token (scope read_package_registry) with its own username "
            "(--username gitlab+deploy-token-N); in GitLab CI on the same host, the job "
            "token (CI_JOB_TOKEN, user gitlab-ci-token) is used with nothing to configure"
        )
        if kind == "group":
            hints.append("a GitLab group index serves the packages of every project in the "
                         "group; the token must be able to read them")
    elif not path.rstrip("/").endswith("/simple"):
        hints.append("simple index URLs usually end in /simple/; pip needs the simple index, "
                     "not a web page")
    return hints
