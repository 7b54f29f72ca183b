"""Turning resolved credentials into what one tool reads: env vars, a private netrc, URLs.

pip gets credential-free index URLs plus a private netrc (``NETRC``): pip passes its index
URLs to the child pip that installs build dependencies on its command line, so a token in a
URL would be visible in ``ps``; a netrc file is not. ``privpip env`` is the one place that
prints URLs with credentials, because printing them is its purpose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from privpip.config import Index, env_key
from privpip.credentials import Credential
from privpip.errors import UnsafeCredential


class Access:
    """One index together with the credential resolved for it (None: no auth). Read-only."""

    __slots__ = ("index", "credential")
    index: Index
    credential: Credential | None

    def __init__(self, index: Index, credential: Credential | None) -> None:
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "credential", credential)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Access is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Access) and (other.index, other.credential) == (
            self.index, self.credential)

    def __hash__(self) -> int:
        return hash((self.index, self.credential))

    def __repr__(self) -> str:
        return f"Access(index={self.index.name!r}, credential={self.credential!r})"


def url_with_credentials(access: Access) -> str:
    """The index URL with ``user:token@`` in it, percent-encoded; the token in the password slot."""
    url = access.index.url
    cred = access.credential
    if cred is None:
        return url
    parts = urlsplit(url)
    userinfo = quote(cred.username, safe="") + ":" + quote(cred.token.reveal(), safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def split_default(accesses: Sequence[Access]) -> tuple[Access | None, list[Access]]:
    default = next((a for a in accesses if a.index.default), None)
    return default, [a for a in accesses if a is not default]


# ---------------------------------------------------------------------------
# pip


def pip_variables(accesses: Sequence[Access], with_credentials: bool) -> dict[str, str]:
    """PIP_INDEX_URL (for the default index) and PIP_EXTRA_INDEX_URL (the rest, in order)."""
    default, extras = split_default(accesses)
    render = url_with_credentials if with_credentials else (lambda a: a.index.url)
    out: dict[str, str] = {}
    if default is not None:
        out["PIP_INDEX_URL"] = render(default)
    if extras:
        out["PIP_EXTRA_INDEX_URL"] = " ".join(render(a) for a in extras)
    return out


def uv_variables(accesses: Sequence[Access], with_credentials: bool = True) -> dict[str, str]:
    """UV_DEFAULT_INDEX / UV_INDEX as name=url, credentials in UV_INDEX_<NAME>_USERNAME/PASSWORD."""
    default, extras = split_default(accesses)
    out: dict[str, str] = {}
    if default is not None:
        out["UV_DEFAULT_INDEX"] = f"{default.index.name}={default.index.url}"
    if extras:
        out["UV_INDEX"] = " ".join(f"{a.index.name}={a.index.url}" for a in extras)
    if with_credentials:
        for access in accesses:
            if access.credential is not None:
                key = env_key(access.index.name)
                out[f"UV_INDEX_{key}_USERNAME"] = access.credential.username
                out[f"UV_INDEX_{key}_PASSWORD"] = access.credential.token.reveal()
    return out


# ---------------------------------------------------------------------------
# netrc


def check_no_host_clash(accesses: Sequence[Access]) -> None:
    """netrc (and so pip) finds credentials per host name: one host, one credential."""
    by_host: dict[str, Access] = {}
    for access in accesses:
        cred = access.credential
        if cred is None:
            continue
        host = access.index.netrc_host
        other = by_host.setdefault(host, access)
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
    for char in value:
        if ord(char) < 32 or ord(char) == 127:
            raise UnsafeCredential(
                f"the {what} for index {index.name!r} contains a control character",
                "tokens are printable text; check how the value was copied",
            )
        if ord(char) > 127:
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
    """The user's own netrc (kept), then one entry per host; later entries win in netrc."""
    check_no_host_clash(accesses)
    lines = [existing.rstrip("\n"), ""] if existing.strip() else []
    written: set[str] = set()
    for access in accesses:
        cred = access.credential
        if cred is None or access.index.netrc_host in written:
            continue
        written.add(access.index.netrc_host)
        login = netrc_value(cred.username, "username", access.index, target_version)
        password = netrc_value(cred.token.reveal(), "token", access.index, target_version)
        lines.append(f"machine {access.index.netrc_host}\n\tlogin {login}\n\tpassword {password}")
    return "\n".join(lines) + "\n"


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


def without_token_variables(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without privpip's own PRIVPIP_INDEX_<NAME>_TOKEN variables.

    pip reads the token from the netrc; nothing it runs (build backends, setup.py) needs the
    variable, and a backend that prints its environment would print the token. Variables named
    by ``token-env`` stay: they belong to the user or the CI system, which may rely on them.
    """
    return {k: v for k, v in env.items()
            if not (k.startswith("PRIVPIP_INDEX_") and k.endswith("_TOKEN"))}


def pip_environment(
    accesses: Sequence[Access],
    env: Mapping[str, str],
    private_dir: Path,
    target_version: tuple[int, int] | None,
    interactive: bool,
) -> dict[str, str]:
    """The environment for a pip (or anything reading NETRC) child: credential-free URLs + netrc."""
    child = without_token_variables(env)
    ours = pip_variables(accesses, with_credentials=False)
    if "PIP_EXTRA_INDEX_URL" in ours and env.get("PIP_EXTRA_INDEX_URL"):
        # Keep extra indexes the user set in the environment, after ours.
        urls = ours["PIP_EXTRA_INDEX_URL"].split()
        urls += [u for u in env["PIP_EXTRA_INDEX_URL"].split() if u not in urls]
        ours["PIP_EXTRA_INDEX_URL"] = " ".join(urls)
    child.update(ours)
    if any(a.credential is not None for a in accesses):
        text = netrc_text(accesses, target_version, users_netrc(env))
        child["NETRC"] = str(write_private(private_dir, "netrc", text))
        child["PRIVPIP_NETRC"] = child["NETRC"]  # for privpip's git credential helper
    if not interactive:
        # pip asks "User for host:" on a 401 and dies with EOFError without a terminal.
        child.setdefault("PIP_NO_INPUT", "1")
    return child


# ---------------------------------------------------------------------------
# twine


def twine_variables(access: Access, repository_url: str) -> dict[str, str]:
    """TWINE_REPOSITORY_URL / _USERNAME / _PASSWORD: twine reads them, so argv stays clean."""
    out = {"TWINE_REPOSITORY_URL": repository_url, "TWINE_NON_INTERACTIVE": "1"}
    if access.credential is not None:
        out["TWINE_USERNAME"] = access.credential.username
        out["TWINE_PASSWORD"] = access.credential.token.reveal()
    return out
