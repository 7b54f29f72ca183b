"""Finding and parsing privpip's config files into frozen, validated Index and GitHost specs.

This is the only module that reads TOML. Files hold names and URLs, never secrets.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from privpip import providers
from privpip.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PROJECT_FILE = "privpip.toml"
PYPROJECT_FILE = "pyproject.toml"
USER_FILE = "config.toml"
DEFAULT_USERNAME = "__token__"
DEFAULT_PUBLIC_INDEX = "https://pypi.org/simple/"
DEFAULT_TOKEN_TIMEOUT = 60.0

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


class Index(NamedTuple):
    """One named private index, as written in a config file (credential-free)."""

    name: str
    url: str
    username: str = DEFAULT_USERNAME
    default: bool = False
    token_env: tuple[str, ...] = ()
    auth: bool = True
    upload_url: str | None = None
    origin: str = ""
    provider: str = "generic"
    # The command whose stdout is the token: the index's token-command, else the provider's.
    token_command: tuple[str, ...] = ()
    token_command_is_default: bool = False
    token_timeout: float = DEFAULT_TOKEN_TIMEOUT
    # PEP 503-normalized names or globs of the packages this index owns (dependency confusion).
    packages: tuple[str, ...] = ()

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


# Usernames git hosts expect with a token when the [[git]] table sets none (see the README).
GIT_USERNAMES = {
    "github.com": "x-access-token",
    "bitbucket.org": "x-token-auth",
}
GIT_DEFAULT_USERNAME = "oauth2"  # GitLab's convention; GitLab and GitHub accept it with a PAT


class GitHost(NamedTuple):
    """One [[git]] table: a host whose git+https URLs get a credential through privpip."""

    host: str  # lower-case host name, with ":port" when one was written
    username: str | None = None  # None: the index's username on reuse, else the host's default
    token_env: tuple[str, ...] = ()
    origin: str = ""

    @property
    def hostname(self) -> str:
        return urlsplit("//" + self.host).hostname or ""

    @property
    def port(self) -> int | None:
        return urlsplit("//" + self.host).port

    @property
    def env_name(self) -> str:
        """HOST as it appears in PRIVPIP_GIT_<HOST>_TOKEN."""
        return env_key(self.host)

    @property
    def default_username(self) -> str:
        return self.username or GIT_USERNAMES.get(self.hostname, GIT_DEFAULT_USERNAME)


class Config(NamedTuple):
    indexes: tuple[Index, ...]
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()
    # The public index that squatters publish to; checked by `install` and `audit`.
    public_index: str = DEFAULT_PUBLIC_INDEX
    git_hosts: tuple[GitHost, ...] = ()
    installer: str | None = None  # top-level `installer`: "pip" or "uv"; None: not set

    def select(self, names: tuple[str, ...] | list[str] = ()) -> tuple[Index, ...]:
        """The indexes to use: all of them, or the named ones in config order."""
        if not self.indexes and self.git_hosts and not names:
            return ()  # only git hosts: pip keeps its own index, git gets the credentials
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
                # Named on the command line (--index NAME, or login/logout NAME), not in a file.
                raise ConfigError(
                    "",
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
    """$PRIVPIP_USER_CONFIG, else config.toml in the user config directory.

    On Linux and the BSDs that directory is the XDG one, computed here as platformdirs does:
    importing platformdirs costs more start-up time than everything else `privpip env` does.
    """
    if env.get("PRIVPIP_USER_CONFIG"):
        return Path(env["PRIVPIP_USER_CONFIG"])
    if sys.platform not in ("win32", "darwin"):
        xdg = env.get("XDG_CONFIG_HOME", "").strip()
        home = Path(env.get("HOME") or Path.home())
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
        return base / "privpip" / USER_FILE
    import platformdirs

    return Path(platformdirs.user_config_dir("privpip", appauthor=False)) / USER_FILE


def load(cwd: Path, env: Mapping[str, str], explicit: str | None = None,
         search: bool = True) -> Config:
    """Load the project file (or ``explicit`` / $PRIVPIP_CONFIG) and the user file.

    ``search=False`` skips looking for a project file from ``cwd`` upwards (the git
    credential helper runs in directories git chose, such as a fresh clone).
    """
    explicit = explicit or env.get("PRIVPIP_CONFIG") or None
    project: Path | None
    if explicit:
        project = Path(explicit)
        if not project.is_file():
            raise ConfigError(explicit, "no such config file")
    else:
        project = find_project_file(cwd) if search else None
    user = user_config_file(env)

    indexes: list[Index] = []
    gits: list[GitHost] = []
    files: list[Path] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if project is not None:
        found, settings, gits = _parse_file(project, env)
        indexes += found
        files.append(project)
    if user.is_file() and (project is None or user.resolve() != project.resolve()):
        names = {i.name for i in indexes}
        has_default = any(i.default for i in indexes)
        found, user_settings, user_gits = _parse_file(user, env)
        for key, value in user_settings.items():
            if key in settings and settings[key] != value:
                notes.append(f"{user}: {key} = {value!r} is overridden by {project}")
            settings.setdefault(key, value)
        hosts = {g.host for g in gits}
        for git in user_gits:
            if git.host in hosts:
                notes.append(f"{user}: git host {git.host!r} is overridden by {project}")
                continue
            gits.append(git)
        for index in found:
            if index.name in names:
                notes.append(f"{user}: index {index.name!r} is overridden by {project}")
                continue
            if index.default and has_default:
                notes.append(f"{user}: index {index.name!r} is used as an extra index, "
                             f"because {project} sets the default")
                index = _replace(index, default=False)
            indexes.append(index)
        files.append(user)
    return Config(tuple(indexes), tuple(files), tuple(notes),
                  public_index=settings.get("public_index", DEFAULT_PUBLIC_INDEX),
                  git_hosts=tuple(gits), installer=settings.get("installer"))


def _replace(index: Index, **changes: Any) -> Index:
    return index._replace(**changes)


# ---------------------------------------------------------------------------
# parsing and validation


def parse_file(path: Path, env: Mapping[str, str] | None = None) -> list[Index]:
    return _parse_file(path, env or {})[0]


_Parsed = tuple[list[Index], dict[str, Any], list["GitHost"]]


def _parse_file(path: Path, env: Mapping[str, str]) -> _Parsed:
    """The [[index]] tables, top-level settings and [[git]] tables of one file."""
    label = _label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(label, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(label, f"cannot read: {exc.strerror}") from None
    return _parse(text, label, path.name == PYPROJECT_FILE, env)


def parse_text(text: str, label: str, pyproject: bool = False,
               env: Mapping[str, str] | None = None) -> list[Index]:
    return _parse(text, label, pyproject, env or {})[0]


def parse_text_full(text: str, label: str, pyproject: bool = False,
                    env: Mapping[str, str] | None = None) -> tuple[list[Index], list[GitHost]]:
    """The [[index]] and [[git]] tables of one file's text."""
    indexes, _settings, gits = _parse(text, label, pyproject, env or {})
    return indexes, gits


def parse_document(text: str, label: str, pyproject: bool = False,
                   env: Mapping[str, str] | None = None) -> tuple[list[Index], dict[str, Any]]:
    """The [[index]] tables and the validated top-level settings (e.g. ``installer``)."""
    indexes, settings, _gits = _parse(text, label, pyproject, env or {})
    return indexes, settings


def _parse(text: str, label: str, pyproject: bool, env: Mapping[str, str]) -> _Parsed:
    """Indexes, top-level settings (dataclass field -> value) and git hosts of one file."""
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
            return [], {}, []
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
    settings: dict[str, Any] = {}
    for key, value in data.items():
        entry = _TOP_KEYS[key]
        if entry is not None:
            attr, check = entry
            try:
                settings[attr] = check(value, f"{prefix}{key}")
            except ValueError as exc:
                raise ConfigError(label, f"{prefix}{key}: {exc}") from None
    raw = data.get("index", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(label, f"{prefix}index: must be an array of tables ([[index]])")
    indexes = [_parse_index(t, label, f"{prefix}index[{n}]", env) for n, t in enumerate(raw)]
    _check_together(indexes, label, prefix)
    raw_git = data.get("git", [])
    if not isinstance(raw_git, list) or not all(isinstance(t, dict) for t in raw_git):
        raise ConfigError(label, f"{prefix}git: must be an array of tables ([[git]])")
    gits = [_parse_git(t, label, f"{prefix}git[{n}]") for n, t in enumerate(raw_git)]
    seen: dict[str, int] = {}
    for n, git in enumerate(gits):
        if git.host in seen:
            raise ConfigError(
                label,
                f"{prefix}git[{n}].host: duplicate git host {git.host!r} "
                f"(also {prefix}git[{seen[git.host]}])",
            )
        seen[git.host] = n
    return indexes, settings, gits


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


def _url(raw: Any, where: str, what: str = "a PEP 503 simple index, e.g. https://host/simple/"
         ) -> str:
    value = _str(raw, where)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _CredentialsInUrl("must not have credentials (user:password@) in it")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL of {what}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"uses http:// to {parts.hostname}, so the token would travel in clear text; "
            "use https:// (http:// is accepted only for loopback addresses)"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value


def _upload_url(value: Any, where: str) -> str:
    return _url(value, where, "an upload endpoint, e.g. "
                "https://gitlab.example.com/api/v4/projects/42/packages/pypi")


INSTALLERS = ("pip", "uv")


def _installer(value: Any, where: str) -> str:
    if value not in INSTALLERS:
        raise ValueError(f"must be one of {', '.join(map(repr, INSTALLERS))}, not {value!r}")
    return str(value)


class _CredentialsInUrl(ValueError):
    pass


validate_url = _url  # for command-line URLs (e.g. audit --public-index)


def _provider(value: Any, where: str) -> str:
    value = _str(value, where)
    if value not in providers.PROVIDERS:
        raise ValueError(
            f"unknown provider {value!r}{did_you_mean(value, list(providers.PROVIDERS))}; "
            "choose one of: " + ", ".join(providers.PROVIDERS)
        )
    return str(value)


def _token_command(value: Any, where: str) -> tuple[str, ...]:
    """A list of arguments, or one string split like a POSIX shell would (never run by one)."""
    if isinstance(value, str):
        import shlex

        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot be split into arguments ({exc})") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise ValueError("must be a list of strings, e.g. [\"gcloud\", \"auth\", "
                         "\"print-access-token\"]")
    if not argv or not argv[0]:
        raise ValueError("must name a command")
    if any("\0" in arg for arg in argv):
        raise ValueError("must not contain NUL bytes")
    return tuple(argv)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number of seconds")
    if not 0 < value <= 3600:
        raise ValueError("must be more than 0 and at most 3600 seconds")
    return float(value)


_PACKAGE_PATTERN = re.compile(r"^[A-Za-z0-9._*?\[\]!-]+$")


def _packages(value: Any, where: str) -> tuple[str, ...]:
    from packaging.utils import canonicalize_name

    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(v, str) for v in names):
        raise ValueError("must be a list of package names or globs, e.g. [\"corp-*\"]")
    out = []
    for name in names:
        if not name or not _PACKAGE_PATTERN.match(name):
            raise ValueError(f"{name!r} is not a package name or glob (letters, digits, "
                             "'.', '_', '-', and the glob characters * ? [ ])")
        out.append(canonicalize_name(name))
    return tuple(dict.fromkeys(out))


def _shorthand(value: Any, where: str) -> str:
    # Ids may be written as TOML integers (project = 42, owner = 111122223333).
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return _str(value, where)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_SHORTHAND_FIELD = "shorthand."
_INDEX_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    # TOML key: (dataclass field, validator)
    "name": ("name", _name),
    "url": ("url", _url),
    "username": ("username", _username),
    "default": ("default", _bool),
    "token-env": ("token_env", _env_names),
    "auth": ("auth", _bool),
    "provider": ("provider", _provider),
    "token-command": ("token_command", _token_command),
    "token-timeout": ("token_timeout", _seconds),
    "packages": ("packages", _packages),
    # Shorthand keys: turned into `url` by providers.expand.
    **{key: (_SHORTHAND_FIELD + key, _shorthand) for key in providers.SHORTHAND_KEYS},
    "upload-url": ("upload_url", _upload_url),
}
# Top-level keys: (dataclass field, validator), or None for tables parsed on their own.
_TOP_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]] | None] = {
    "index": None,
    "git": None,
    "public-index": ("public_index", _url),
    "installer": ("installer", _installer),
}


def _git_host(value: Any, where: str) -> str:
    """A host name (or IP address, IPv6 in brackets), optionally with :port; lower-cased."""
    value = _str(value, where)
    shape = "must be a host name, optionally with :port (e.g. gitlab.example.com), "
    if "://" in value or "/" in value:
        raise ValueError(shape + "not a URL")
    if "@" in value:
        raise _CredentialsInUrl()
    if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", value) or ".." in value:
        raise ValueError(f"{shape}not {value!r}")
    try:
        parts = urlsplit("//" + value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shape}not {value!r} ({exc})") from None
    hostname = parts.hostname or ""
    if not hostname or value.endswith(":") or port == 0:
        raise ValueError(shape + f"not {value!r}")
    if ":" in hostname:
        import ipaddress

        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            raise ValueError(f"{shape}not {value!r}") from None
        hostname = f"[{hostname}]"
    elif not re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", hostname):
        raise ValueError(f"{shape}not {value!r}")
    return hostname if port is None else f"{hostname}:{port}"


_GIT_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "host": ("host", _git_host),
    "username": ("username", _username),
    "token-env": ("token_env", _env_names),
}


def _check_keys(table: dict[str, Any], keys: dict[str, tuple[str, Callable[[Any, str], Any]]],
                label: str, where: str, shown: str, what: str, fix: str) -> dict[str, Any]:
    """Validate every key of one table: {dataclass field: value}, or one clear ConfigError."""
    fields: dict[str, Any] = {"origin": label}
    for key, value in table.items():
        if key not in keys:
            raise ConfigError(
                label,
                f"{shown}.{key}: unknown key{did_you_mean(key, list(keys))}",
                f"known keys of {what}: " + ", ".join(keys),
            )
        attr, check = keys[key]
        try:
            fields[attr] = check(value, f"{where}.{key}")
        except _CredentialsInUrl:
            raise ConfigError(
                label,
                f"{shown}.{key}: has credentials written into it (user@ or user:password@); "
                "config files are committed and must not hold secrets",
                fix,
            ) from None
        except ValueError as exc:
            raise ConfigError(label, f"{shown}.{key}: {exc}") from None
    return fields


def _parse_git(table: dict[str, Any], label: str, where: str) -> GitHost:
    host = table.get("host")
    shown = f"{where} ({host!r})" if isinstance(host, str) and "@" not in host else where
    fields = _check_keys(
        table, _GIT_KEYS, label, where, shown, "a git host",
        "write only the host name; put a username in `username = ...` and supply the "
        "token with PRIVPIP_GIT_<HOST>_TOKEN, token-env or the keyring",
    )
    if "host" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'host'")
    return GitHost(**fields)


def _parse_index(table: dict[str, Any], label: str, where: str,
                 env: Mapping[str, str] | None = None) -> Index:
    name = table.get("name")
    shown = f"{where} ({name!r})" if isinstance(name, str) else where
    fields = _check_keys(
        table, _INDEX_KEYS, label, where, shown, "an index",
        "write the URL without them; put a username in `username = ...` and supply "
        "the token with PRIVPIP_INDEX_<NAME>_TOKEN or `privpip login NAME`",
    )
    if "name" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'name'")
    shorthand = {k[len(_SHORTHAND_FIELD):]: fields.pop(k) for k in list(fields)
                 if k.startswith(_SHORTHAND_FIELD)}
    _apply_provider(fields, shorthand, table, label, shown, env or {})
    return Index(**fields)


def _apply_provider(fields: dict[str, Any], shorthand: dict[str, str], table: dict[str, Any],
                    label: str, shown: str, env: Mapping[str, str]) -> None:
    """Fill url (from shorthand), provider (inferred), username and token command (defaults)."""
    if "url" in fields:
        if shorthand:
            raise ConfigError(
                label, f"{shown}: has both `url` and shorthand keys ({', '.join(shorthand)})",
                "write either the full `url` or the provider's shorthand keys, not both",
            )
        fields.setdefault("provider", providers.infer(fields["url"]))
    else:
        provider = fields.get("provider") or providers.provider_from_keys(list(shorthand))
        if provider is None and shorthand:
            raise ConfigError(
                label, f"{shown}: cannot tell the provider from the keys {', '.join(shorthand)}",
                "add provider = \"gitlab\" (or codeartifact, google, azure), or write `url`",
            )
        if provider is None or (provider == "generic" and not shorthand):
            raise ConfigError(
                label, f"{shown}: missing required key 'url'",
                "write url = \"https://host/simple/\", or a provider and its shorthand keys "
                "(e.g. provider = \"gitlab\", host = ..., project = ...)",
            )
        try:
            url = providers.expand(provider, shorthand, env)
            fields["url"] = _url(url, "url")
        except providers.ShorthandError as exc:
            key = f".{exc.key}" if exc.key else ""
            raise ConfigError(label, f"{shown}{key}: {exc}") from None
        except ValueError as exc:
            raise ConfigError(label, f"{shown}: the URL built from the shorthand {exc}") from None
        fields["provider"] = provider
    if "username" not in fields:
        fields["username"] = providers.default_username(fields["provider"])
    if "token_command" not in fields:
        default = providers.default_token_command(fields["provider"], fields["url"])
        if default:
            fields["token_command"] = default
            fields["token_command_is_default"] = True


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
