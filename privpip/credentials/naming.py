"""The names a credential is looked up by: the PRIVPIP_INDEX_<NAME>_* and PRIVPIP_GIT_<HOST>_*
variables, the keyring services of an index, the username an index uses."""

from __future__ import annotations

from collections.abc import Mapping

from privpip.config.model import GitHost, Index
from privpip.core import identity


def token_var(index: Index) -> str:
    return f"PRIVPIP_INDEX_{index.env_name}_TOKEN"


def username_var(index: Index) -> str:
    return f"PRIVPIP_INDEX_{index.env_name}_USERNAME"


def index_keyring_services(index: Index) -> list[str]:
    """Every keyring service a lookup for ``index`` asks, in order: its own spellings, then
    the host entry (prefetch and the lookup share this, so one batch reads them all)."""
    return [*identity.keyring_services(index.url), identity.host_service(index.url)]


def git_token_var(git: GitHost) -> str:
    return f"PRIVPIP_GIT_{git.env_name}_TOKEN"


def git_username_var(git: GitHost) -> str:
    return f"PRIVPIP_GIT_{git.env_name}_USERNAME"


def username(index: Index, env: Mapping[str, str]) -> str:
    """The username for ``index``: PRIVPIP_INDEX_<NAME>_USERNAME, else the config's (whose
    default is the provider's). login, logout, status and the lookup all ask this."""
    return env.get(username_var(index)) or index.username


def env_token_var(index: Index, env: Mapping[str, str]) -> str | None:
    """The variable that supplies ``index``'s token right now, if any (it beats the keyring)."""
    for var in (token_var(index), *index.token_env):
        if env.get(var):
            return var
    return None


def refuses_token_file(env: Mapping[str, str]) -> bool:
    """PRIVPIP_NO_INSECURE_FALLBACK (`login --no-insecure-fallback`) is set to a true value,
    as click reads a flag's variable."""
    return env.get("PRIVPIP_NO_INSECURE_FALLBACK", "").strip().lower() in (
        "1", "true", "t", "yes", "y", "on")
