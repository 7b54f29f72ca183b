"""Parsing and validating one config file's text into Index / GitHost specs and settings.

This is the only module that reads TOML. Files hold names and URLs, never secrets: a value
that looks like a known token is refused. The rules of each key are in
``config.fields``; this module parses the tables and checks them together.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from privpip.config import providers
from privpip.config.fields import (
    GIT_KEYS,
    INDEX_KEYS,
    SHORTHAND_FIELD,
    TOP_KEYS,
    CredentialsInUrl,
    Typed,
    Validator,
    index_url,
    installer,
    validate_url,
)
from privpip.config.model import (
    DEFAULT_TOKEN_TIMEOUT,
    DELIVERIES,
    PYPROJECT_FILE,
    GitHost,
    Index,
    Settings,
    did_you_mean,
)
from privpip.config.model import (
    label as label_of,
)
from privpip.core import identity, tokens
from privpip.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Parsed", "Settings", "parse_text", "read_file", "tomllib", "validate_url"]


class Parsed(NamedTuple):
    """What one config file says."""

    indexes: list[Index]
    settings: Settings
    git_hosts: list[GitHost]
    # The exact bytes parsed (read_file): trust is decided on these, never on a second read
    # that a change in between (a `git pull` during the run) could make differ.
    content: bytes = b""


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
    label = label_of(path)
    try:
        content = path.read_bytes()
        # Universal newlines, as read_text gives them.
        text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(label, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(label, f"cannot read: {exc.strerror}") from None
    parsed = parse_text(text, label, path.name == PYPROJECT_FILE, env)._replace(content=content)
    # The link's own directory for a symlinked file: what a command names is looked up, and
    # trusted (privpip.config.trust.pinned_files), beside the file the user chose.
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
        if key not in TOP_KEYS:
            raise ConfigError(
                label,
                f"{prefix}{key}: unknown key{did_you_mean(key, list(TOP_KEYS))}",
                "known top-level keys: " + ", ".join(TOP_KEYS),
            )
    settings = Settings()
    try:
        if "public-index" in data:
            settings = settings._replace(public_index=index_url(data["public-index"],
                                                           f"{prefix}public-index"))
    except ValueError as exc:
        raise ConfigError(label, f"{prefix}public-index: {exc}") from None
    try:
        if "installer" in data:
            settings = settings._replace(installer=installer(data["installer"],
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
            INDEX_KEYS[key][1](value, label)
        except CredentialsInUrl:
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
        except CredentialsInUrl:
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
        table, GIT_KEYS, label, where, shown, "a git host",
        "write only the host name; put a username in `username = ...` and supply the "
        "token with PRIVPIP_GIT_<HOST>_TOKEN, token-env or the keyring",
    )
    if "host" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'host'")
    typed = Typed(fields)
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
        table, INDEX_KEYS, label, where, shown, "an index",
        "write the URL without them; put a username in `username = ...` and supply "
        f"the token with {var} or `{login}`",
    )
    if "name" not in table:
        raise ConfigError(label, f"{shown}: missing required key 'name'")
    shorthand = {k[len(SHORTHAND_FIELD):]: str(fields.pop(k)) for k in list(fields)
                 if k.startswith(SHORTHAND_FIELD)}
    _apply_provider(fields, shorthand, label, shown, env or {})
    typed = Typed(fields)
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
            fields["url"] = index_url(url, "url")
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
