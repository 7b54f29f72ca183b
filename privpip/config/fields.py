"""The field rules of privpip's config files: one validator per key, (raw TOML value, where)
-> typed value, raising ValueError with the message shown after the key's path; the keys of
an [[index]] and a [[git]] table, and the validated values read back with their types."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from privpip.config import providers
from privpip.config.model import INSTALLERS, Installer, did_you_mean
from privpip.core import identity

T = TypeVar("T")
# (raw TOML value, where) -> the parsed value; raises ValueError with the message to show.
Validator = Callable[[object, str], object]
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_url(value: object, where: str) -> str:
    """An index URL given on the command line (e.g. audit --public-index); ValueError if bad."""
    return index_url(value, where)


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
    if not NAME.match(value):
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


def index_url(raw: object, where: str, what: str = "a PEP 503 simple index, e.g. https://host/simple/"
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
        raise CredentialsInUrl("must not have credentials (user:password@) in it")
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
    return index_url(value, where, "an upload endpoint, e.g. "
                "https://gitlab.example.com/api/v4/projects/42/packages/pypi")


def installer(value: object, where: str) -> Installer:
    for installer in INSTALLERS:
        if value == installer:
            return installer
    raise ValueError(f"must be one of {', '.join(map(repr, INSTALLERS))}, not {value!r}")


class CredentialsInUrl(ValueError):
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


SHORTHAND_FIELD = "shorthand."
INDEX_KEYS: dict[str, tuple[str, Validator]] = {
    # TOML key: (dataclass field, validator)
    "name": ("name", _name),
    "url": ("url", index_url),
    "username": ("username", _username),
    "default": ("default", _bool),
    "token-env": ("token_env", _env_names),
    "auth": ("auth", _bool),
    "provider": ("provider", _provider),
    "token-command": ("token_command", _token_command),
    "token-timeout": ("token_timeout", _seconds),
    "packages": ("packages", _packages),
    # Shorthand keys: turned into `url` by providers.expand.
    **{key: (SHORTHAND_FIELD + key, _shorthand) for key in providers.SHORTHAND_KEYS},
    "upload-url": ("upload_url", _upload_url),
}
# The top-level keys; each is parsed in parse_text.
TOP_KEYS = ("index", "git", "public-index", "installer", "delivery", "index-strategy")


def _git_host(value: object, where: str) -> str:
    """A host name (or IP address, IPv6 in brackets), optionally with :port; lower-cased."""
    value = _str(value, where)
    shape = "must be a host name, optionally with :port (e.g. gitlab.example.com), "
    if "://" in value or "/" in value:
        raise ValueError(shape + "not a URL")
    if "@" in value:
        raise CredentialsInUrl()
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


GIT_KEYS: dict[str, tuple[str, Validator]] = {
    "host": ("host", _git_host),
    "username": ("username", _username),
    "token-env": ("token_env", _env_names),
}


class Typed:
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
