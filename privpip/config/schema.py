"""Parsing and validating one config file's text into Index / GitHost specs and settings.

This is the only module that reads TOML. Files hold names and URLs, never secrets: a value
that looks like a known token is refused. Every key has one validator: (raw value, where)
-> typed value, raising ValueError with the message shown after the key's path.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

from privpip import identity, providers, tokens
from privpip.config.model import (
    DEFAULT_TOKEN_TIMEOUT,
    DELIVERIES,
    INSTALLERS,
    PYPROJECT_FILE,
    GitHost,
    Index,
    Installer,
    Settings,
    did_you_mean,
)
from privpip.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Parsed", "Settings", "parse_text", "read_file", "tomllib", "validate_url"]

T = TypeVar("T")
# (raw TOML value, where) -> the parsed value; raises ValueError with the message to show.
Validator = Callable[[object, str], object]
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Parsed(NamedTuple):
    """What one config file says."""

    indexes: list[Index]
    settings: Settings
    git_hosts: list[GitHost]


def token_commands(path: Path, env: Mapping[str, str]) -> list[tuple[str, ...]]:
    """The token commands of ``path`` as it is now (for its trust record: the files they
    name are part of it); none for a file privpip cannot load, which runs nothing."""
    try:
        parsed = read_file(path, env)
    except ConfigError:
        return []
    return [i.token_command for i in parsed.indexes if i.token_command]


def read_file(path: Path, env: Mapping[str, str] | None = None) -> Parsed:
    """The [[index]] tables, top-level settings and [[git]] tables of one file."""
    from privpip.config.discovery import label as label_of

    label = label_of(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(label, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(label, f"cannot read: {exc.strerror}") from None
    parsed = parse_text(text, label, path.name == PYPROJECT_FILE, env)
    # The link's own directory for a symlinked file: what a command names is looked up, and
    # trusted (privpip.trust.pinned_files), beside the file the user chose.
    directory = str(Path(os.path.abspath(path)).parent)
    return parsed._replace(indexes=[i._replace(directory=directory) for i in parsed.indexes])


def parse_text(text: str, label: str, pyproject: bool = False,
               env: Mapping[str, str] | None = None) -> Parsed:
    """Indexes, top-level settings and git hosts of one file's text (``label`` names it)."""
    env = env or {}
    if not pyproject:
        _refuse_literal_tokens_in_text(text, label)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line L, column C)".
        raise ConfigError(label, f"invalid TOML: {exc}") from None
    prefix = ""
    if pyproject:
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(label, "tool: must be a table ([tool.privpip] lives inside it)")
        table = tool.get("privpip")
        if table is None:
            return Parsed([], Settings(), [])
        prefix = "tool.privpip."
        if not isinstance(table, dict):
            raise ConfigError(label, "tool.privpip: must be a table")
        data = table
        _refuse_literal_tokens_in_values(data, label, prefix)
        # Then comments too, of privpip's own tables only: other tools' tables are theirs.
        _refuse_literal_tokens_in_text(_privpip_tables(text), label)
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                label,
                f"{prefix}{key}: unknown key{did_you_mean(key, list(_TOP_KEYS))}",
                "known top-level keys: " + ", ".join(_TOP_KEYS),
            )
    settings = Settings()
    try:
        if "public-index" in data:
            settings = settings._replace(public_index=_url(data["public-index"],
                                                           f"{prefix}public-index"))
    except ValueError as exc:
        raise ConfigError(label, f"{prefix}public-index: {exc}") from None
    try:
        if "installer" in data:
            settings = settings._replace(installer=_installer(data["installer"],
                                                              f"{prefix}installer"))
    except ValueError as exc:
        raise ConfigError(label, f"{prefix}installer: {exc}") from None
    if "delivery" in data:
        if data["delivery"] not in DELIVERIES:
            raise ConfigError(label, f"{prefix}delivery: must be one of "
                              f"{', '.join(map(repr, DELIVERIES))}, not {data['delivery']!r}")
        settings = settings._replace(delivery=data["delivery"])
    if "index-strategy" in data:
        from privpip.localindex.model import STRATEGIES

        if data["index-strategy"] not in STRATEGIES:
            raise ConfigError(label, f"{prefix}index-strategy: must be one of "
                              f"{', '.join(map(repr, STRATEGIES))}, not "
                              f"{data['index-strategy']!r}")
        settings = settings._replace(index_strategy=data["index-strategy"])
    raw = data.get("index", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(label, f"{prefix}index: must be an array of tables ([[index]])")
    indexes = [_parse_index(t, label, f"{prefix}index[{n}]", env) for n, t in enumerate(raw)]
    _check_together(indexes, label, prefix)
    raw_git = data.get("git", [])
    if not isinstance(raw_git, list) or not all(isinstance(t, dict) for t in raw_git):
        raise ConfigError(label, f"{prefix}git: must be an array of tables ([[git]])")
    gits = [_parse_git(t, label, f"{prefix}git[{n}]") for n, t in enumerate(raw_git)]
    _refuse_duplicates([g.host for g in gits], label, f"{prefix}git", "host", "git host")
    return Parsed(indexes, settings, gits)


def check_index_arguments(fields: Mapping[str, object], labels: Mapping[str, str]) -> None:
    """Validate index keys typed on the command line (``privpip index add``), before any file is
    read: an error names the argument (``labels``: key -> "argument URL", "--username", ...),
    not a key path in a file that never held the value."""
    from privpip.errors import UsageError

    name = fields.get("name")
    for key, value in fields.items():
        label = labels.get(key, key)
        try:
            _INDEX_KEYS[key][1](value, label)
        except _CredentialsInUrl:
            parts = urlsplit(str(value))
            clean = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
            user = (f" --username {parts.username}" if parts.password and parts.username
                    and parts.username != identity.DEFAULT_USERNAME
                    and "username" not in fields else "")
            raise UsageError(
                f"{label} has a credential in it (user:token@); a token on the command line "
                "ends up in your shell history and must not go into a config file",
                f"add the index without it, then store the token: `privpip index add {name} "
                f"{clean}{user}` and `privpip login {name}`",
            ) from None
        except ValueError as exc:
            raise UsageError(f"{label}: {exc}") from None


def validate_url(value: object, where: str) -> str:
    """An index URL given on the command line (e.g. audit --public-index); ValueError if bad."""
    return _url(value, where)


def _refuse_literal_tokens_in_text(text: str, label: str) -> None:
    match = tokens.PATTERN.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise ConfigError(f"{label}:{line}", _literal_token_message(tokens.prefix(match)),
                          _FIX_LITERAL)


def _privpip_tables(text: str) -> str:
    """The lines of pyproject.toml's [tool.privpip...] tables; other lines blanked, so line
    numbers stay right."""
    header = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]")
    inside = False
    out = []
    for line in text.split("\n"):
        match = header.match(line)
        if match:
            name = match.group(1).replace('"', "").replace("'", "").replace(" ", "")
            inside = name == "tool.privpip" or name.startswith("tool.privpip.")
        out.append(line if inside else "")
    return "\n".join(out)


def _refuse_literal_tokens_in_values(value: object, label: str, path: str) -> None:
    if isinstance(value, str):
        match = tokens.PATTERN.search(value)
        if match:
            raise ConfigError(
                label, f"{path.rstrip('.')}: {_literal_token_message(tokens.prefix(match))}",
                _FIX_LITERAL,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_literal_tokens_in_values(item, label, f"{path}{key}.")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _refuse_literal_tokens_in_values(item, label, f"{path.rstrip('.')}[{n}].")


def _literal_token_message(prefix: str) -> str:
    return (
        f"contains what looks like {tokens.KINDS[prefix]} ({prefix}…); "
        "config files are committed and must not hold secrets"
    )


_FIX_LITERAL = (
    "remove the token from the file (and revoke it if the file was ever committed or shared); "
    "supply it with PRIVPIP_INDEX_<NAME>_TOKEN, an index's token-env variable, "
    "or `privpip login NAME`"
)


# One validator per key: (raw value, where) -> parsed value. Later keys plug in here.
def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")
    return str(value)


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _name(raw: object, where: str) -> str:
    value = _str(raw, where)
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid index name: use letters, digits, '.', '_' and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _username(raw: object, where: str) -> str:
    value = _str(raw, where)
    if ":" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain ':' or control characters (HTTP basic auth)")
    return value


def _env_names(value: object, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names):
        raise ValueError("must be an environment variable name or a list of them")
    for name in names:
        if not _ENV_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
    return tuple(names)


def _url(raw: object, where: str, what: str = "a PEP 503 simple index, e.g. https://host/simple/"
         ) -> str:
    value = _str(raw, where)
    if any(c.isspace() or not c.isprintable() for c in value):  # a netrc `default` otherwise
        raise ValueError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _CredentialsInUrl("must not have credentials (user:password@) in it")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL of {what}")
    if parts.scheme == "http" and not identity.is_loopback(parts.hostname):
        raise ValueError(
            f"uses http:// to {parts.hostname}, so the token would travel in clear text; "
            "use https:// (http:// is accepted only for loopback addresses)"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value


def _upload_url(value: object, where: str) -> str:
    return _url(value, where, "an upload endpoint, e.g. "
                "https://gitlab.example.com/api/v4/projects/42/packages/pypi")


def _installer(value: object, where: str) -> Installer:
    for installer in INSTALLERS:
        if value == installer:
            return installer
    raise ValueError(f"must be one of {', '.join(map(repr, INSTALLERS))}, not {value!r}")


class _CredentialsInUrl(ValueError):
    pass


def _provider(value: object, where: str) -> str:
    value = _str(value, where)
    if value not in providers.PROVIDERS:
        raise ValueError(
            f"unknown provider {value!r}{did_you_mean(value, list(providers.PROVIDERS))}; "
            "choose one of: " + ", ".join(providers.PROVIDERS)
        )
    return str(value)


def _token_command(value: object, where: str) -> tuple[str, ...]:
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


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number of seconds")
    if not 0 < value <= 3600:
        raise ValueError("must be more than 0 and at most 3600 seconds")
    return float(value)


_PACKAGE_PATTERN = re.compile(r"^[A-Za-z0-9._*?\[\]!-]+$")


def _packages(value: object, where: str) -> tuple[str, ...]:
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


def _shorthand(value: object, where: str) -> str:
    # Ids may be written as TOML integers (project = 42, owner = 111122223333).
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return _str(value, where)


_SHORTHAND_FIELD = "shorthand."
_INDEX_KEYS: dict[str, tuple[str, Validator]] = {
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
# The top-level keys; each is parsed in parse_text.
_TOP_KEYS = ("index", "git", "public-index", "installer", "delivery", "index-strategy")


def _git_host(value: object, where: str) -> str:
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


_GIT_KEYS: dict[str, tuple[str, Validator]] = {
    "host": ("host", _git_host),
    "username": ("username", _username),
    "token-env": ("token_env", _env_names),
}


class _Fields:
    """Validated values by model field, read back with their types: the one place where the
    untyped TOML values, already checked by their validators, become typed model fields."""

    def __init__(self, values: dict[str, object]) -> None:
        self.values = values

    def _get(self, field: str, kind: type[T], default: T) -> T:
        value = self.values.get(field, default)
        if not isinstance(value, kind):  # a validator returned the wrong type: a bug
            raise TypeError(f"{field}: {type(value).__name__}, not {kind.__name__}")
        return value

    def text(self, field: str, default: str = "") -> str:
        return self._get(field, str, default)

    def optional_text(self, field: str) -> str | None:
        return self.text(field) if field in self.values else None

    def flag(self, field: str, default: bool) -> bool:
        return self._get(field, bool, default)

    def number(self, field: str, default: float) -> float:
        return self._get(field, float, default)

    def texts(self, field: str) -> tuple[str, ...]:
        return tuple(str(item) for item in self._get(field, tuple, ()))


def _check_keys(table: dict[str, object], keys: dict[str, tuple[str, Validator]], label: str,
                where: str, shown: str, what: str, fix: str) -> dict[str, object]:
    """Validate every key of one table: {model field: value}, or one clear ConfigError."""
    fields: dict[str, object] = {"origin": label}
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


def _parse_git(table: dict[str, object], label: str, where: str) -> GitHost:
    host = table.get("host")
    shown = f"{where} ({host!r})" if isinstance(host, str) and "@" not in host else where
    fields = _check_keys(
        table, _GIT_KEYS, label, where, shown, "a git host",
        "write only the host name; put a username in `username = ...` and supply the "
        "token with PRIVPIP_GIT_<HOST>_TOKEN, token-env or the keyring",
    )
    if "host" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'host'")
    typed = _Fields(fields)
    return GitHost(host=typed.text("host"), username=typed.optional_text("username"),
                   token_env=typed.texts("token_env"), origin=typed.text("origin"))


def _parse_index(table: dict[str, object], label: str, where: str,
                 env: Mapping[str, str] | None = None) -> Index:
    name = table.get("name")
    shown = f"{where} ({name!r})" if isinstance(name, str) else where
    var = (f"PRIVPIP_INDEX_{identity.name_key(name)}_TOKEN" if isinstance(name, str) and name
           else "PRIVPIP_INDEX_<NAME>_TOKEN")
    login = f"privpip login {name}" if isinstance(name, str) and name else "privpip login NAME"
    fields = _check_keys(
        table, _INDEX_KEYS, label, where, shown, "an index",
        "write the URL without them; put a username in `username = ...` and supply "
        f"the token with {var} or `{login}`",
    )
    if "name" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'name'")
    shorthand = {k[len(_SHORTHAND_FIELD):]: str(fields.pop(k)) for k in list(fields)
                 if k.startswith(_SHORTHAND_FIELD)}
    _apply_provider(fields, shorthand, label, shown, env or {})
    typed = _Fields(fields)
    return Index(
        name=typed.text("name"), url=typed.text("url"), username=typed.text("username"),
        default=typed.flag("default", False), token_env=typed.texts("token_env"),
        auth=typed.flag("auth", True), upload_url=typed.optional_text("upload_url"),
        origin=typed.text("origin"), provider=typed.text("provider"),
        token_command=typed.texts("token_command"),
        token_command_is_default=typed.flag("token_command_is_default", False),
        token_timeout=typed.number("token_timeout", DEFAULT_TOKEN_TIMEOUT),
        packages=typed.texts("packages"),
    )


def _apply_provider(fields: dict[str, object], shorthand: dict[str, str], label: str,
                    shown: str, env: Mapping[str, str]) -> None:
    """Fill url (from shorthand), provider (inferred), username and token command (defaults)."""
    if "url" in fields:
        if shorthand:
            raise ConfigError(
                label, f"{shown}: has both `url` and shorthand keys ({', '.join(shorthand)})",
                "write either the full `url` or the provider's shorthand keys, not both",
            )
        fields.setdefault("provider", providers.infer(str(fields["url"])))
    else:
        given = fields.get("provider")
        provider = str(given) if given else providers.provider_from_keys(list(shorthand))
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
    provider_class = providers.get(str(fields["provider"]))
    if "username" not in fields:
        fields["username"] = provider_class.username
    if "token_command" not in fields:
        default = provider_class.token_command(str(fields["url"]))
        if default:
            fields["token_command"] = default
            fields["token_command_is_default"] = True


def _refuse_duplicates(values: list[str], label: str, table: str, key: str, what: str,
                       same: Callable[[str], str] = str) -> None:
    """Each ``key`` of the ``table`` array once (as ``same`` identifies it); the error names
    both places."""
    seen: dict[str, tuple[int, str]] = {}
    for n, value in enumerate(values):
        if same(value) in seen:
            first, spelled = seen[same(value)]
            also = f"{spelled!r}, " if spelled != value else ""
            raise ConfigError(label, f"{table}[{n}].{key}: duplicate {what} {value!r} "
                                     f"(also {also}{table}[{first}])")
        seen[same(value)] = n, value


def _check_together(indexes: list[Index], label: str, prefix: str) -> None:
    # Names are one index when they give one PRIVPIP_INDEX_<NAME>_* variable (Corp, corp).
    _refuse_duplicates([i.name for i in indexes], label, f"{prefix}index", "name",
                       "index name", identity.name_key)
    defaults = [f"{prefix}index[{n}] ({i.name!r})" for n, i in enumerate(indexes) if i.default]
    if len(defaults) > 1:
        raise ConfigError(
            label,
            "more than one index sets default = true: " + ", ".join(defaults),
            "the default index replaces PyPI; only one can; make the others extra indexes",
        )
