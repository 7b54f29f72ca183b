"""Editing config files as text: the starter file, adding and removing one [[index]] table.

A file is never re-serialized, so its comments and layout survive: a new table is appended
as text produced by tomli-w, a removed table is cut out line by line. Every result is parsed
back with privpip.config and compared with what was asked before it atomically replaces
the file (temporary file in the same directory + os.replace).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from privpip import config
from privpip.config import Index
from privpip.errors import ConfigError

_DOC = """\
# Each index's token comes from, in order:
#   1. the environment variable PRIVPIP_INDEX_<NAME>_TOKEN (NAME upper-cased, every
#      other character replaced by "_"; e.g. PRIVPIP_INDEX_CORP_TOKEN),
#   2. the variables listed in the index's token-env,
#   3. the OS keyring, where `privpip login NAME` stores it,
#   4. a hidden prompt, when privpip runs on a terminal.
#
# Add an index with `privpip index add NAME URL [--default]`, or write a table by hand:
#
# {header}
# name = "corp"          # required; letters, digits, ".", "_", "-"; used in commands
#                        # and in PRIVPIP_INDEX_<NAME>_TOKEN
# url = "https://pypi.example.com/simple/"
#                        # required; the PEP 503 simple index, never with user:token@ in it
#                        # (http:// only for localhost)
# default = true         # optional, default false; true replaces PyPI (pip --index-url);
#                        # at most one index; the others are extra indexes
# username = "__token__" # optional; the HTTP basic-auth user (a deploy token's own name,
#                        # or gitlab-ci-token for CI_JOB_TOKEN); default __token__
# token-env = ["CI_JOB_TOKEN"]
#                        # optional; more variables to read the token from, in order
# auth = true            # optional; false for an index that needs no credential
"""

STARTER = (
    "# privpip.toml: the private package indexes this project installs from.\n"
    "#\n"
    "# Commit this file: it holds index names and URLs, never a token.\n"
    + _DOC.format(header="[[index]]")
)

PYPROJECT_STARTER = (
    "[tool.privpip]\n"
    "# The private package indexes this project installs from (read by privpip).\n"
    "# This table holds index names and URLs, never a token.\n"
    + _DOC.format(header="[[tool.privpip.index]]")
)

_INDEX_HEADER = re.compile(r"^\s*\[\[\s*index\s*\]\]\s*(#.*)?$")
_PYPROJECT_INDEX_HEADER = re.compile(
    r"^\s*\[\[\s*tool\s*\.\s*privpip\s*\.\s*index\s*\]\]\s*(#.*)?$"
)
_ANY_HEADER = re.compile(r"^\s*\[")
_PRIVPIP_TABLE = re.compile(r"^\s*\[\[?\s*\"?tool\"?\s*\.\s*\"?privpip\"?\s*[\].]", re.MULTILINE)


def is_pyproject(path: Path) -> bool:
    return path.name == config.PYPROJECT_FILE


def has_privpip_table(text: str) -> bool:
    """Whether a pyproject.toml text has a [tool.privpip] (or [[tool.privpip.index]]) table."""
    return bool(_PRIVPIP_TABLE.search(text))


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
    label = config._label(path)
    if is_pyproject(path):
        text = read(path)
        if has_privpip_table(text):
            raise ConfigError(label, "already has a [tool.privpip] table; not changed",
                              "add an index with `privpip index add NAME URL`")
        new = _appended(text, PYPROJECT_STARTER)
        config.parse_text(new, label, pyproject=True)
        return new
    config.parse_text(STARTER, label)
    return STARTER


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
    label = config._label(path)
    text = read(path)
    before = config.parse_text(text, label, pyproject)
    name = fields["name"]
    for existing in before:
        if existing.name == name:
            raise ConfigError(label, f"already has an index named {name!r}; not changed",
                              f"remove it first with `privpip index remove {name}`, "
                              "or pick another name")
        if fields.get("default") and existing.default:
            raise ConfigError(
                label, f"index {existing.name!r} is already the default; not changed",
                "only one index can replace PyPI; add this one without --default as an extra "
                f"index, or `privpip index remove {existing.name}` first",
            )
    block = table_text(fields, pyproject)
    try:
        after = config.parse_text(_appended(text, block), label, pyproject)
        (wanted,) = config.parse_text(block, label, pyproject)
    except ConfigError as exc:
        raise ConfigError("", f"{exc.message}; {label} was not changed", exc.hint) from None
    if after != [*before, wanted]:
        raise ConfigError(label, f"adding index {name!r} as text would not load back as "
                          "asked (is the index list written as an inline array?); not changed",
                          "add the [[index]] table by hand")
    return _appended(text, block), wanted


def remove_index(path: Path, name: str) -> str:
    """The new text of ``path`` without the [[index]] table named ``name``."""
    pyproject = is_pyproject(path)
    label = config._label(path)
    text = read(path)
    before = config.parse_text(text, label, pyproject)
    if name not in {i.name for i in before}:
        raise ConfigError(label, f"no index named {name!r}"
                          f"{config.did_you_mean(name, [i.name for i in before])}",
                          "configured here: " + (", ".join(i.name for i in before) or "none"))
    header = _PYPROJECT_INDEX_HEADER if pyproject else _INDEX_HEADER
    lines = text.splitlines(keepends=True)
    starts = [n for n, line in enumerate(lines) if _ANY_HEADER.match(line)]
    for n, start in enumerate(starts):
        if not header.match(lines[start]):
            continue
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        try:
            found = config.parse_text("".join(lines[start:end]), label, pyproject)
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
            after = config.parse_text(new, label, pyproject)
        except ConfigError:
            break
        if after == [i for i in before if i.name != name]:
            return new
        break
    raise ConfigError(label, f"cannot remove index {name!r} safely as text (is it written as "
                      "an inline table or array?); not changed", "remove it by hand")


# ---------------------------------------------------------------------------
# writing


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace(path: Path, text: str) -> None:
    """Atomically replace ``path`` (or the file a symlink points at), keeping its mode."""
    import stat

    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(target.stat().st_mode)
    _write_then(target, text, mode, lambda tmp: os.replace(tmp, target))


def create(path: Path, text: str) -> None:
    """Atomically create ``path``; FileExistsError if it exists (never overwritten)."""
    def link(tmp: str) -> None:
        try:
            os.link(tmp, path)  # fails if path exists, unlike os.replace
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        os.unlink(tmp)

    _write_then(path, text, 0o666 & ~_umask(), link)


def _write_then(path: Path, text: str, mode: int, finish: Any) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        finish(tmp)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------------------
# hints


_GITLAB = re.compile(
    r"/api/v4/(?P<kind>projects|groups)/[^/]+/(?:-/)?packages/pypi/simple/?$"
)


def url_hints(url: str, env_name: str) -> list[str]:
    """Advice for well-known URL shapes (GitLab's package registry) and unusual URLs."""
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    hints = []
    match = _GITLAB.search(path)
    if match:
        kind = "project" if match.group("kind") == "projects" else "group"
        hints.append(
            f"this looks like a GitLab {kind} package registry. GitLab accepts: a personal "
            "access token (scope read_api) with the default username __token__; a deploy "
            "token (scope read_package_registry) with its own username "
            "(--username gitlab+deploy-token-N); in GitLab CI, the job token: add "
            f"--token-env CI_JOB_TOKEN and set PRIVPIP_INDEX_{env_name}_USERNAME=gitlab-ci-token "
            "in the job"
        )
        if kind == "group":
            hints.append("a GitLab group index serves the packages of every project in the "
                         "group; the token must be able to read them")
    elif not path.rstrip("/").endswith("/simple"):
        hints.append("simple index URLs usually end in /simple/; pip needs the simple index, "
                     "not a web page")
    return hints
