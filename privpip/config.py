"""Finding and parsing privpip's config files into frozen, validated Index specs.

This is the only module that reads TOML. Files hold names and URLs, never secrets.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from privpip.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PROJECT_FILE = "privpip.toml"
PYPROJECT_FILE = "pyproject.toml"
USER_FILE = "config.toml"
DEFAULT_USERNAME = "__token__"

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Literal tokens that must never sit in a committed file: (prefix, what it is).
_TOKEN_KINDS = {
    "glpat-": "a GitLab personal access token",
    "gldt-": "a GitLab deploy token",
    "glcbt-": "a GitLab CI job token",
    "glptt-": "a GitLab pipeline trigger token",
    "gloas-": "a GitLab OAuth application secret",
    "ghp_": "a GitHub personal access token",
    "gho_": "a GitHub OAuth token",
    "ghu_": "a GitHub user-to-server token",
    "ghs_": "a GitHub server-to-server token",
    "ghr_": "a GitHub refresh token",
    "github_pat_": "a GitHub fine-grained personal access token",
    "pypi-AgEI": "a PyPI API token",
    "AKCp": "a JFrog Artifactory API key",
    "AKIA": "an AWS access key",
}
_TOKEN_RE = re.compile(
    "(?<![A-Za-z0-9])(" + "|".join(re.escape(p) for p in _TOKEN_KINDS) + r")[A-Za-z0-9_\-]{12,}"
)


@dataclass(frozen=True)
class Index:
    """One named private index, as written in a config file (credential-free)."""

    name: str
    url: str
    username: str = DEFAULT_USERNAME
    default: bool = False
    token_env: tuple[str, ...] = ()
    auth: bool = True
    origin: str = ""

    @property
    def env_name(self) -> str:
        """NAME as it appears in PRIVPIP_INDEX_<NAME>_TOKEN (uv's rule)."""
        return env_key(self.name)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def netrc_host(self) -> str:
        """The host as requests looks it up in a netrc: the netloc as written, port dropped."""
        netloc = urlsplit(self.url).netloc
        return netloc.split(":")[0] if not netloc.startswith("[") else netloc.split("]")[0] + "]"


@dataclass(frozen=True)
class Config:
    indexes: tuple[Index, ...]
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    def select(self, names: tuple[str, ...] | list[str] = ()) -> tuple[Index, ...]:
        """The indexes to use: all of them, or the named ones in config order."""
        if not self.indexes:
            raise ConfigError(
                "",
                "no private index is configured",
                f"create {PROJECT_FILE} with an [[index]] table (see `privpip --help`), "
                "or pass --config PATH",
            )
        if not names:
            return self.indexes
        known = {i.name: i for i in self.indexes}
        for name in names:
            if name not in known:
                raise ConfigError(
                    "--index",
                    f"no index named {name!r}{did_you_mean(name, known)}",
                    "configured: " + ", ".join(known),
                )
        wanted = set(names)
        return tuple(i for i in self.indexes if i.name in wanted)

    def get(self, name: str) -> Index:
        return self.select([name])[0]


def env_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def did_you_mean(word: str, candidates: Mapping[str, object] | list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------
# finding files


def find_project_file(cwd: Path) -> Path | None:
    """Walk up from ``cwd``: privpip.toml, or a pyproject.toml with [tool.privpip]."""
    for directory in (cwd, *cwd.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_FILE
        if pyproject.is_file() and _has_privpip_table(pyproject):
            return pyproject
    return None


def _has_privpip_table(path: Path) -> bool:
    # A cheap text test first: most pyproject.toml files have no [tool.privpip].
    try:
        return "tool.privpip" in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def user_config_file(env: Mapping[str, str]) -> Path:
    if env.get("PRIVPIP_USER_CONFIG"):
        return Path(env["PRIVPIP_USER_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_dir("privpip", appauthor=False)) / USER_FILE


def load(cwd: Path, env: Mapping[str, str], explicit: str | None = None) -> Config:
    """Load the project file (or ``explicit`` / $PRIVPIP_CONFIG) and the user file."""
    explicit = explicit or env.get("PRIVPIP_CONFIG") or None
    project: Path | None
    if explicit:
        project = Path(explicit)
        if not project.is_file():
            raise ConfigError(explicit, "no such config file")
    else:
        project = find_project_file(cwd)
    user = user_config_file(env)

    indexes: list[Index] = []
    files: list[Path] = []
    notes: list[str] = []
    if project is not None:
        indexes += parse_file(project)
        files.append(project)
    if user.is_file() and (project is None or user.resolve() != project.resolve()):
        names = {i.name for i in indexes}
        has_default = any(i.default for i in indexes)
        for index in parse_file(user):
            if index.name in names:
                notes.append(f"{user}: index {index.name!r} is overridden by {project}")
                continue
            if index.default and has_default:
                notes.append(f"{user}: index {index.name!r} is used as an extra index, "
                             f"because {project} sets the default")
                index = _replace(index, default=False)
            indexes.append(index)
        files.append(user)
    return Config(tuple(indexes), tuple(files), tuple(notes))


def _replace(index: Index, **changes: Any) -> Index:
    import dataclasses

    return dataclasses.replace(index, **changes)


# ---------------------------------------------------------------------------
# parsing and validation


def parse_file(path: Path) -> list[Index]:
    label = _label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(label, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(label, f"cannot read: {exc.strerror}") from None
    return parse_text(text, label, pyproject=path.name == PYPROJECT_FILE)


def parse_text(text: str, label: str, pyproject: bool = False) -> list[Index]:
    if not pyproject:
        _refuse_literal_tokens_in_text(text, label)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, f"invalid TOML: {_toml_message(exc)}") from None
    prefix = ""
    if pyproject:
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(label, "tool: must be a table ([tool.privpip] lives inside it)")
        table = tool.get("privpip")
        if table is None:
            return []
        prefix = "tool.privpip."
        if not isinstance(table, dict):
            raise ConfigError(label, "tool.privpip: must be a table")
        data = table
        _refuse_literal_tokens_in_values(data, label, prefix)
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                label,
                f"{prefix}{key}: unknown key{did_you_mean(key, list(_TOP_KEYS))}",
                "known top-level keys: " + ", ".join(_TOP_KEYS),
            )
    raw = data.get("index", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(label, f"{prefix}index: must be an array of tables ([[index]])")
    indexes = [_parse_index(t, label, f"{prefix}index[{n}]") for n, t in enumerate(raw)]
    _check_together(indexes, label, prefix)
    return indexes


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _toml_message(exc: Exception) -> str:
    # tomllib's message already says "(at line L, column C)".
    return str(exc)


def _refuse_literal_tokens_in_text(text: str, label: str) -> None:
    match = _TOKEN_RE.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise ConfigError(f"{label}:{line}", _literal_token_message(match.group(1)), _FIX_LITERAL)


def _refuse_literal_tokens_in_values(value: Any, label: str, path: str) -> None:
    if isinstance(value, str):
        match = _TOKEN_RE.search(value)
        if match:
            raise ConfigError(
                label, f"{path.rstrip('.')}: {_literal_token_message(match.group(1))}", _FIX_LITERAL
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_literal_tokens_in_values(item, label, f"{path}{key}.")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _refuse_literal_tokens_in_values(item, label, f"{path.rstrip('.')}[{n}].")


def _literal_token_message(prefix: str) -> str:
    return (
        f"contains what looks like {_TOKEN_KINDS[prefix]} ({prefix}…); "
        "config files are committed and must not hold secrets"
    )


_FIX_LITERAL = (
    "remove the token from the file (and revoke it if the file was ever committed or shared); "
    "supply it with PRIVPIP_INDEX_<NAME>_TOKEN, an index's token-env variable, "
    "or `privpip login NAME`"
)


# One validator per key: (raw value, where) -> parsed value. Later keys plug in here.
def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")
    return str(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _name(raw: Any, where: str) -> str:
    value = _str(raw, where)
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid index name: use letters, digits, '.', '_' and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _username(raw: Any, where: str) -> str:
    value = _str(raw, where)
    if ":" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain ':' or control characters (HTTP basic auth)")
    return value


def _env_names(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names):
        raise ValueError("must be an environment variable name or a list of them")
    for name in names:
        if not _ENV_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
    return tuple(names)


def _url(raw: Any, where: str) -> str:
    value = _str(raw, where)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _CredentialsInUrl()
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            "must be an http(s) URL of a PEP 503 simple index, e.g. https://host/simple/"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"uses http:// to {parts.hostname}, so the token would travel in clear text; "
            "use https:// (http:// is accepted only for loopback addresses)"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value


class _CredentialsInUrl(ValueError):
    pass


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_INDEX_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    # TOML key: (dataclass field, validator)
    "name": ("name", _name),
    "url": ("url", _url),
    "username": ("username", _username),
    "default": ("default", _bool),
    "token-env": ("token_env", _env_names),
    "auth": ("auth", _bool),
}
_TOP_KEYS = {"index": None}


def _parse_index(table: dict[str, Any], label: str, where: str) -> Index:
    name = table.get("name")
    shown = f"{where} ({name!r})" if isinstance(name, str) else where
    fields: dict[str, Any] = {"origin": label}
    for key, value in table.items():
        if key not in _INDEX_KEYS:
            raise ConfigError(
                label,
                f"{shown}.{key}: unknown key{did_you_mean(key, list(_INDEX_KEYS))}",
                "known keys of an index: " + ", ".join(_INDEX_KEYS),
            )
        attr, check = _INDEX_KEYS[key]
        try:
            fields[attr] = check(value, f"{where}.{key}")
        except _CredentialsInUrl:
            raise ConfigError(
                label,
                f"{shown}.url: has credentials written into it (user:password@); "
                "config files are committed and must not hold secrets",
                "write the URL without them; put a username in `username = ...` and supply "
                "the token with PRIVPIP_INDEX_<NAME>_TOKEN or `privpip login NAME`",
            ) from None
        except ValueError as exc:
            raise ConfigError(label, f"{shown}.{key}: {exc}") from None
    for required in ("name", "url"):
        if required not in table:
            raise ConfigError(label, f"{shown}: missing required key {required!r}")
    return Index(**fields)


def _check_together(indexes: list[Index], label: str, prefix: str) -> None:
    seen: dict[str, int] = {}
    for n, index in enumerate(indexes):
        if index.name in seen:
            raise ConfigError(
                label,
                f"{prefix}index[{n}].name: duplicate index name {index.name!r} "
                f"(also {prefix}index[{seen[index.name]}])",
            )
        seen[index.name] = n
    defaults = [f"{prefix}index[{n}] ({i.name!r})" for n, i in enumerate(indexes) if i.default]
    if len(defaults) > 1:
        raise ConfigError(
            label,
            "more than one index sets default = true: " + ", ".join(defaults),
            "the default index replaces PyPI; only one can; make the others extra indexes",
        )


# ---------------------------------------------------------------------------
# writing


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: a reader sees the old file or the new one, never a mix.

    The text goes to a new temporary file in the same directory (same file system), is
    flushed to disk, gets the old file's permissions, and is renamed over ``path`` in one
    step (``os.replace``). A symlinked config file is written through to its target. Two
    writers at once: the last rename wins, and each file read is still whole.
    """
    import os
    import secrets
    import stat

    target = Path(os.path.realpath(path))
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 minus the umask for a new file, exactly as open() would create the real one.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
