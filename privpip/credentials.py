"""Resolving one index's credential from its sources, in order, remembering where it came from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from privpip.config import Index
from privpip.errors import CredentialNotFound, KeyringUnavailable, UnsafeCredential
from privpip.secret import Secret, redact


@dataclass(frozen=True)
class Credential:
    username: str
    token: Secret
    source: str  # e.g. "env:PRIVPIP_INDEX_CORP_TOKEN", "keyring", "prompt"


class Store(Protocol):
    def get(self, service: str, username: str) -> str | None: ...


Prompt = Callable[[Index, str], str]


def token_var(index: Index) -> str:
    return f"PRIVPIP_INDEX_{index.env_name}_TOKEN"


def username_var(index: Index) -> str:
    return f"PRIVPIP_INDEX_{index.env_name}_USERNAME"


def keyring_service(index: Index) -> str:
    """The keyring service name: the credential-free index URL exactly as configured."""
    return index.url


def resolve(
    index: Index,
    env: Mapping[str, str],
    store: Store | None,
    prompt: Prompt | None,
    no_prompt_reason: str = "stdin is not a terminal",
) -> Credential | None:
    """The first credential found for ``index``; None for an index with ``auth = false``.

    Order: PRIVPIP_INDEX_<NAME>_TOKEN, the index's token-env variables, the keyring,
    then a hidden prompt (only when ``prompt`` is given).
    """
    if not index.auth:
        return None
    username = env.get(username_var(index)) or index.username
    tried: list[tuple[str, str]] = []

    for var in (token_var(index), *index.token_env):
        value = env.get(var)
        if value:
            return _credential(index, username, value, f"env:{var}")
        tried.append((f"env:{var}", "set but empty" if value == "" else "not set"))

    if store is None:
        tried.append(("keyring", "disabled"))
    else:
        try:
            value = store.get(keyring_service(index), username)
        except KeyringUnavailable as exc:
            tried.append(("keyring", exc.message))
        else:
            if value:
                return _credential(index, username, value, "keyring")
            tried.append(("keyring", f"no entry for {redact(index.url)} and user {username!r}"))

    if prompt is not None:
        value = prompt(index, username)
        if value:
            return _credential(index, username, value, "prompt")
        tried.append(("prompt", "nothing entered"))
    else:
        tried.append(("prompt", no_prompt_reason))

    raise CredentialNotFound(
        index.name,
        tried,
        f"run `privpip login {index.name}`, or set {token_var(index)}",
    )


def _credential(index: Index, username: str, value: str, source: str) -> Credential:
    """A Credential, unless a value is not text: undecodable bytes in an environment variable
    arrive as lone surrogates, which no URL, netrc or shell output can carry."""
    for what, text in (("username", username), (f"token (from {source})", value)):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnsafeCredential(
                f"the {what} for index {index.name!r} is not valid UTF-8 text",
                "tokens are printable ASCII; check how the value was set",
            ) from None
    return Credential(username, Secret(value), source)


def prompt_on_terminal(index: Index, username: str) -> str:
    import getpass

    return getpass.getpass(f"Token for {index.name} ({redact(index.url)}, user {username}): ")
