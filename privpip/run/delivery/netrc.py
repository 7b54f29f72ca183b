"""netrc: the private netrc file (mode 0600) through which pip, uv and others get the tokens.

The netrc file is parsed by the *target* interpreter's netrc module (pip's vendored requests
reads it): Python 3.11+ reads quoted values with backslash escapes, older ones do not, so the
form of a value depends on which Python will read it (``netrc_reader``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from privpip.config import Index
from privpip.core import identity
from privpip.core.tokens import token_problem
from privpip.errors import UnsafeCredential
from privpip.run.delivery import Access

if TYPE_CHECKING:
    from privpip.run.target import Target

_PYTHON_NAME = re.compile(r"^python(?:\d+(?:\.\d+)?)?(?:\.exe)?$")


def check_no_host_clash(accesses: Sequence[Access]) -> None:
    """netrc (and so pip) finds credentials per host name: one host, one credential."""
    by_host: dict[str, Access] = {}
    for access in accesses:
        cred = access.credential
        if cred is None:
            continue
        host = access.index.netrc_host
        # One host however written: DNS ignores case and a trailing dot, and so may a redirect.
        other = by_host.setdefault(identity.normal_host(host), access)
        if other.credential is not None and (
            other.credential.username != cred.username or other.credential.token != cred.token
        ):
            raise UnsafeCredential(
                f"indexes {other.index.name!r} and {access.index.name!r} are both on {host} "
                "but have different credentials; pip looks credentials up by host name, so one "
                "of them would silently get the other's token (pip issue 10902)",
                "use one token that can read both (for GitLab: a group-level index, or a "
                "personal or group deploy token), or choose one with --index NAME",
            )


def netrc_value(value: str, what: str, index: Index, target_version: tuple[int, int] | None) -> str:
    """``value`` written so that the target Python's netrc parser reads back exactly it.

    Python 3.11+ reads quoted values with backslash escapes; older versions split on
    whitespace and take every other printable ASCII character literally. ``target_version``
    is None when the value is portable and the version was not needed.
    """
    problem = token_problem(value)
    if problem == "control":
        raise UnsafeCredential(
            f"the {what} for index {index.name!r} contains a control character",
            "tokens are printable text; check how the value was copied",
        )
    if problem is not None:
        raise UnsafeCredential(
            f"the {what} for index {index.name!r} contains a non-ASCII character, which "
            "HTTP basic authentication as used by pip cannot carry reliably",
            "registry tokens are ASCII; check how the value was copied",
        )
    if is_portable(value):
        return value
    if target_version is None or target_version >= (3, 11):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if " " in value:
        version = ".".join(map(str, target_version))
        raise UnsafeCredential(
            f"the {what} for index {index.name!r} contains a space, which pip on the target "
            f"environment (Python {version}) cannot read from a netrc file: Python before 3.11 "
            "splits netrc values on whitespace",
            "use a target environment with Python 3.11 or newer (--python), or a token "
            "without spaces",
        )
    return value  # Python < 3.11 takes '"' and '\' literally.


def is_portable(value: str) -> bool:
    """Read identically by every netrc parser: printable ASCII without space, '"' or '\\'."""
    return all(32 < ord(c) < 127 and c not in '"\\' for c in value)


def needs_target_version(accesses: Sequence[Access]) -> bool:
    return any(
        a.credential is not None
        and not (is_portable(a.credential.username) and is_portable(a.credential.token.reveal()))
        for a in accesses
    )


def netrc_text(
    accesses: Sequence[Access], target_version: tuple[int, int] | None, existing: str = ""
) -> str:
    """One entry per host, the user's own netrc (kept), then the same entries again.

    Python's netrc (pip, requests) lets the last entry of a host win; curl and most C
    programs take the first match, and the user's `default` entry matches every host. Ours
    in both places win in both.
    """
    check_no_host_clash(accesses)
    ours = _netrc_entries(accesses, target_version)
    if not existing.strip():
        return "\n".join(ours) + "\n"
    return "\n".join([*ours, "", existing.rstrip("\n"), "", *ours]) + "\n"


def _netrc_entries(accesses: Sequence[Access], target_version: tuple[int, int] | None
                   ) -> list[str]:
    lines = []
    written: set[str] = set()
    for access in accesses:
        cred = access.credential
        if cred is None or access.index.netrc_host in written:
            continue
        written.add(access.index.netrc_host)
        login = netrc_value(cred.username, "username", access.index, target_version)
        password = netrc_value(cred.token.reveal(), "token", access.index, target_version)
        lines.append(f"machine {access.index.netrc_host}\n\tlogin {login}\n\tpassword {password}")
    return lines


def users_netrc(env: Mapping[str, str]) -> str:
    """The netrc the user already has ($NETRC or ~/.netrc), so its entries keep working."""
    home = Path(env.get("HOME", "~")).expanduser()
    path = Path(env["NETRC"]) if env.get("NETRC") else home / ".netrc"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def write_private(directory: Path, name: str, text: str) -> Path:
    """Create ``directory/name`` with mode 0600 from the first byte (never create-then-chmod)."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def netrc_environment(accesses: Sequence[Access], env: Mapping[str, str], private_dir: Path,
                      target_version: tuple[int, int] | None) -> dict[str, str]:
    """NETRC (and PRIVPIP_NETRC, for privpip's git credential helper) when any index has a
    credential: a private netrc with privpip's entries around the user's own (netrc_text)."""
    if not any(a.credential is not None for a in accesses):
        return {}
    text = netrc_text(accesses, target_version, users_netrc(env))
    path = str(write_private(private_dir, "netrc", text))
    return {"NETRC": path, "PRIVPIP_NETRC": path}


def netrc_reader(python: str | None, argv: Sequence[str], env: Mapping[str, str]) -> Target | None:
    """The Python that will most likely parse the netrc: --python, the active environment,
    or COMMAND when it is an interpreter or a script with a Python shebang; None if unknown."""
    import shutil

    from privpip.run import target as target_mod
    from privpip.run.target import Target

    if python:
        return target_mod.find(python, env)
    if env.get("VIRTUAL_ENV") or env.get("CONDA_PREFIX"):
        found = target_mod.find(None, env)
        if found.why != "PATH":
            return found
    program = shutil.which(argv[0], path=env.get("PATH")) if os.sep not in argv[0] else argv[0]
    if program is None:
        return None
    if _PYTHON_NAME.match(Path(argv[0]).name):
        return Target(program, "COMMAND")
    interpreter = _shebang_python(Path(program), env)
    return Target(interpreter, f"the #! line of {argv[0]}") if interpreter else None


def _shebang_python(script: Path, env: Mapping[str, str]) -> str | None:
    import shutil

    try:
        with script.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if words and Path(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        found = shutil.which(words[0], path=env.get("PATH")) if words else None
        words = [found] if found else []
    if words and _PYTHON_NAME.match(Path(words[0]).name) and Path(words[0]).exists():
        return words[0]
    return None
