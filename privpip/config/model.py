"""The config's immutable model: Index, GitHost and Config (names and URLs, never a secret)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from privpip.core import identity
from privpip.core.identity import DEFAULT_USERNAME, name_key
from privpip.errors import ConfigError

PROJECT_FILE = "privpip.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_PUBLIC_INDEX = "https://pypi.org/simple/"
DEFAULT_TOKEN_TIMEOUT = 60.0

Installer = Literal["pip", "uv"]
INSTALLERS: tuple[Installer, ...] = ("pip", "uv")
# How pip and uv get the credentials: the per-run local index, or a private netrc.
Delivery = Literal["local", "netrc"]
DELIVERIES: tuple[Delivery, ...] = ("local", "netrc")
# How the local index looks up a name no index owns (privpip.localindex.routing).
IndexStrategy = Literal["first-index", "unsafe-best-match"]


class Settings(NamedTuple):
    """The top-level keys of one file (None: not written there)."""

    public_index: str | None = None
    installer: Installer | None = None
    delivery: Delivery | None = None
    index_strategy: IndexStrategy | None = None


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
    # The project file that alone names this URL: a token from a variable is sent here only
    # once that file is trusted ("": the URL is in the user's own config, or CI trusts all).
    needs_trust: str = ""
    # The directory of the file that names the index: its token-command runs there.
    directory: str = ""

    @property
    def env_name(self) -> str:
        """NAME as it appears in PRIVPIP_INDEX_<NAME>_TOKEN (uv's rule)."""
        return name_key(self.name)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def netrc_host(self) -> str:
        return identity.netrc_host(self.url)


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
        return name_key(self.host)

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
    installer: Installer | None = None  # top-level `installer`; None: not set
    delivery: Delivery | None = None  # top-level `delivery`; None: not set
    index_strategy: IndexStrategy = "first-index"  # top-level `index-strategy`

    def select(self, names: tuple[str, ...] | list[str] = ()) -> tuple[Index, ...]:
        """The indexes to use: all of them, or the named ones in config order."""
        if not self.indexes and self.git_hosts and not names:
            return ()  # only git hosts: pip keeps its own index, git gets the credentials
        if not self.indexes:
            raise ConfigError(
                "",
                "no private index is configured",
                "for this project: `privpip init`, then `privpip index add NAME URL`; for "
                "every directory: `privpip index add --user NAME URL`; or pass --config PATH",
            )
        if not names:
            return self.indexes
        known = {i.name: i for i in self.indexes}
        keys = {name_key(i.name) for i in self.indexes}
        for name in names:
            if name_key(name) not in keys:
                # Named on the command line (--index NAME, or login/logout NAME), not in a file.
                raise ConfigError(
                    "",
                    f"no index named {name!r}{did_you_mean(name, known)}",
                    "configured: " + ", ".join(known),
                )
        wanted = {name_key(n) for n in names}
        return tuple(i for i in self.indexes if name_key(i.name) in wanted)

    def get(self, name: str) -> Index:
        return self.select([name])[0]


def did_you_mean(word: str, candidates: Mapping[str, object] | list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def label(path: Path) -> str:
    """How messages name a config file: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
