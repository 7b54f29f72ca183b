"""The resolver: the sources of sources.INDEX_SOURCES / GIT_SOURCES asked in order, each answer
with its source; a keyring failure means "try the next source"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from privpip.config import providers
from privpip.config.model import Config, GitHost, Index
from privpip.core import identity
from privpip.core.identity import DEFAULT_USERNAME
from privpip.core.secret import Secret, redact
from privpip.credentials.command import run_token_command
from privpip.credentials.naming import (
    git_token_var,
    git_username_var,
    index_keyring_services,
    refuses_token_file,
    token_var,
    username,
)
from privpip.credentials.sources import (
    CommandNotFound,
    CommandRunner,
    Credential,
    GitCredentialNotFound,
    Prompt,
    checked,
)
from privpip.errors import (
    CredentialNotFound,
    KeyringUnavailable,
    PrivpipError,
    TokenCommandFailed,
)

if TYPE_CHECKING:  # only for the type checker: defining a Protocol costs start-up time
    from typing import Protocol

    class Store(Protocol):
        def get(self, service: str, username: str) -> str | None: ...


class Resolver:
    """Finds credentials in the order of INDEX_SOURCES (indexes) or GIT_SOURCES (git hosts).

    ``store`` is the keyring (None: not asked); ``prompt`` asks on a terminal (None: never,
    for ``no_prompt_reason``). A keyring failure means "try the next source".
    """

    def __init__(self, env: Mapping[str, str], store: Store | None,
                 prompt: Prompt | None = None,
                 no_prompt_reason: str = "stdin is not a terminal",
                 run_command: CommandRunner | None = None) -> None:
        self.env = env
        self.store = store
        self.prompt = prompt
        self.no_prompt_reason = no_prompt_reason
        self.run_command = run_command or run_token_command
        self._keyring_failure: KeyringUnavailable | None = None
        self._withheld: dict[str, str] = {}  # index name: a variable not sent (see needs_trust)
        self._trusted: dict[str, bool] = {}  # project file: trusted (asked once per run)

    def prefetch(self, indexes: Sequence[Index] = (), git_hosts: Sequence[GitHost] = ()) -> None:
        """Read, in one keyring batch, the entries of every index and git host whose variables
        (the sources before the keyring) are all empty; ``index`` and ``git_host`` then find
        them read. One batch is one backend load, one thread and one time bound, where a
        lookup per index cost a thread each. A failure here is left for each lookup to report.
        """
        get_many = getattr(self.store, "get_many", None)
        if get_many is None:
            return
        # Every spelling the lookup will ask (index_keyring_services), or each lookup would
        # read its remaining spellings in a batch of its own.
        pairs = [(service, username(i, self.env)) for i in indexes
                 if i.auth and not any(self.env.get(v) for v in (token_var(i), *i.token_env))
                 for service in index_keyring_services(i)]
        pairs += [(identity.git_service(g.host), self._git_user(g)) for g in git_hosts
                  if not any(self.env.get(v) for v in (git_token_var(g), *g.token_env))]
        if pairs:
            try:
                get_many(pairs)
            except KeyringUnavailable:
                pass

    def _file_trusted(self, path: str) -> bool:
        if path not in self._trusted:
            self._trusted[path] = _trusted(path, self.env)
        return self._trusted[path]

    def _git_user(self, git: GitHost) -> str:
        return self.env.get(git_username_var(git)) or git.username or git.default_username

    def index(self, index: Index) -> Credential | None:
        """The first credential found for ``index``; None for an index with ``auth = false``.

        A configured token-command that fails is an error; a provider's default command
        whose program is not installed is skipped.
        """
        if not index.auth:
            return None
        user = username(index, self.env)
        tried: list[tuple[str, str]] = []
        found = self._env_or_keyring((token_var(index), *index.token_env),
                                     identity.keyring_services(index.url), user,
                                     f"index {index.name!r}", tried,
                                     identity.host_service(index.url), index)
        if found is None:
            found = self._file(index, user, tried)
        if found is None:
            found = self._token_command(index, user, tried)
        if found is None:
            found = self._ci_job_token(index, tried)
        if found is None and index.name in self._withheld:
            raise ExportedTokenNotSent(self._withheld[index.name], index)
        if found is None:
            found = self._prompt(index, user, tried)
        if found is not None:
            return found
        from privpip.config import trust

        tried += trust.untrusted_sources(index)  # what an untrusted project file would add
        raise CredentialNotFound(index.name, tried, self.missing_hint(index))

    def missing_hint(self, index: Index) -> str:
        """How to give ``index`` a token, by what the keyring can do here (its cause)."""
        var = token_var(index)
        if index.name in self._withheld:
            import shlex

            return (f"{self._withheld[index.name]} is set but not sent to a URL that only "
                    f"{index.needs_trust} names; if you trust that file, run `privpip trust "
                    f"{shlex.quote(index.needs_trust)}`")
        login = f"`privpip login {index.name}`"
        problem = self._keyring_failure
        ask = getattr(self.store, "problem", None)
        if problem is None and ask is not None:
            problem = ask()
        if problem is None:
            return f"run {login}, or set {var}"
        if problem.cause == "no-backend" and not refuses_token_file(self.env):
            return (f"run {login} (with no keyring here, it keeps the token in privpip's "
                    f"token file), or set {var}")
        if problem.cause == "forced":
            return (f"set {var}, or unset PYTHON_KEYRING_BACKEND (it names a backend that "
                    f"cannot be used here) and run {login}")
        if problem.cause in ("locked", "timeout"):
            return f"unlock the keyring and run {login}, or set {var}"
        from privpip.ui.installed import keyring_backend_hint

        return (f"set {var} (a CI secret, or your shell profile); the keyring cannot keep a "
                f"token here, so to store one: {keyring_backend_hint(self.env)}, or keep it "
                f"in privpip's own file with `privpip login {index.name} --insecure-storage`")

    def git_host(self, git: GitHost, cfg: Config) -> Credential:
        """The first credential found for ``git``: its variables, keyring, an index on its host."""
        explicit_user = self.env.get(git_username_var(git)) or git.username
        user = self._git_user(git)
        tried: list[tuple[str, str]] = []
        # The index on the same host is the fallback; unless privpip's netrc has its token,
        # its keyring entry is read in the same batch.
        same_host = index_on_host(git, cfg) if not self.env.get("PRIVPIP_NETRC") else None
        self.prefetch([same_host] if same_host is not None else [], [git])
        found = self._env_or_keyring((git_token_var(git), *git.token_env),
                                     [identity.git_service(git.host)], user, f"git host {git.host}",
                                     tried)
        if found is not None:
            return found
        found = self._same_host_index(git, cfg, explicit_user, tried)
        if found is not None:
            return found
        raise GitCredentialNotFound(
            git.host, tried,
            f"set {git_token_var(git)}, or store a token with "
            f"`keyring set {identity.git_service(git.host)} {user}`",
        )

    # -- the sources, in order

    def _env_or_keyring(self, variables: Sequence[str], services: Sequence[str], user: str,
                        whose: str, tried: list[tuple[str, str]],
                        host: str | None = None, index: Index | None = None
                        ) -> Credential | None:
        for var in variables:
            value = self.env.get(var)
            if value and index is not None and index.needs_trust \
                    and not self._file_trusted(index.needs_trust):
                tried.append((f"env:{var}", "set, but not sent to an untrusted file's URL"))
                self._withheld.setdefault(index.name, var)
                continue
            if value:
                return checked(whose, user, value, f"env:{var}")
            tried.append((f"env:{var}", "set but empty" if value == "" else "not set"))
        if self.store is None:
            tried.append(("keyring", "disabled"))
            return None
        asked = [*services, *([host] if host else [])]
        get_many = getattr(self.store, "get_many", None)
        try:
            if get_many is not None:
                get_many([(service, user) for service in asked])  # one load, one time-out
            for service in asked:
                value = self.store.get(service, user)
                if value:
                    source = "keyring" if service in services else f"keyring:{service}"
                    return checked(whose, user, value, source)
        except KeyringUnavailable as exc:
            self._keyring_failure = exc
            tried.append(("keyring", exc.message))
            return None
        shared = f" (nor one for host {host}, see `privpip login --for-host`)" if host else ""
        tried.append(("keyring", f"no entry for {redact(services[0])} and user {user!r}{shared}"))
        return None

    def _file(self, index: Index, user: str, tried: list[tuple[str, str]]) -> Credential | None:
        """privpip's token file: it exists only once `login` wrote it (no keyring backend, or
        --insecure-storage)."""
        from privpip.credentials import filestore

        file = filestore.path(self.env)
        if not file.exists():
            return None  # never opted in: nothing to say in the list of sources tried
        try:
            value = (filestore.get(self.env, index.url, user)
                     or filestore.get(self.env, identity.host_service(index.url), user))
        except filestore.FileStoreError as exc:
            tried.append(("file", str(exc)))
            return None
        if value:
            return checked(f"index {index.name!r}", user, value, "file")
        tried.append(("file", f"no entry for {redact(index.url)} and user {user!r} in {file}"))
        return None

    def _token_command(self, index: Index, user: str,
                       tried: list[tuple[str, str]]) -> Credential | None:
        if not index.token_command:
            return None
        program = index.token_command[0]
        from privpip.ui.terminal import spinner  # rich only on a terminal, only now

        try:
            # cloud CLIs take seconds: say what privpip waits for (nothing when piped)
            with spinner(f"running the token command of index {index.name} ({program})",
                         self.env):
                value = self.run_command(index.token_command, index.token_timeout, self.env,
                                         index.directory or None)
        except CommandNotFound as exc:
            if not index.token_command_is_default:
                raise _command_error(index, exc) from None
            tried.append((f"command:{program}", f"{program!r} is not installed (not on PATH)"))
            return None
        except TokenCommandFailed as exc:
            raise _command_error(index, exc) from None
        return checked(f"index {index.name!r}", user, value, f"command:{program}")

    def _ci_job_token(self, index: Index, tried: list[tuple[str, str]]) -> Credential | None:
        job = providers.gitlab_ci_job_token(index.url, self.env)
        if job is not None:
            return checked(f"index {index.name!r}", job[0], job[1], "env:CI_JOB_TOKEN")
        if providers.in_gitlab_ci(self.env) and index.provider == "gitlab":
            tried.append(("env:CI_JOB_TOKEN", f"only used for indexes on CI_SERVER_HOST "
                          f"({self.env.get('CI_SERVER_HOST') or 'not set'}), not {index.host}"))
        return None

    def _prompt(self, index: Index, user: str, tried: list[tuple[str, str]]) -> Credential | None:
        if self.prompt is None:
            tried.append(("prompt", self.no_prompt_reason))
            return None
        value = self.prompt(index, user)
        if value:
            return checked(f"index {index.name!r}", user, value, "prompt")
        tried.append(("prompt", "nothing entered"))
        return None

    def _same_host_index(self, git: GitHost, cfg: Config, explicit_user: str | None,
                         tried: list[tuple[str, str]]) -> Credential | None:
        index = index_on_host(git, cfg)
        if index is None:
            tried.append(("index on the same host", "none configured"))
            return None
        found = _from_privpips_netrc(index, self.env)
        if found is None:
            no_prompt = Resolver(self.env, self.store, None, "git's helper cannot ask",
                                 self.run_command)
            try:
                cred = no_prompt.index(index)
            except CredentialNotFound as exc:
                tried.append((f"index {index.name!r}",
                              "; ".join(f"{s}: {r}" for s, r in exc.tried)))
                return None
            if cred is None:
                return None
            found = cred._replace(source=f"index {index.name} ({cred.source})")
        # DEFAULT_USERNAME is PyPI's convention and means nothing to git; a real username
        # (a GitLab deploy token's, gitlab-ci-token) is needed by git as well.
        user = found.username
        if user == DEFAULT_USERNAME:
            user = git.default_username
        return found._replace(username=explicit_user or user)


def index_on_host(git: GitHost, cfg: Config) -> Index | None:
    """The first index (with auth) on the same host name; its port does not matter (as in netrc)."""
    for index in cfg.indexes:
        if index.auth and identity.same_host(index.host, git.hostname):
            return index
    return None


def _trusted(path: str, env: Mapping[str, str]) -> bool:
    from pathlib import Path

    from privpip.config import trust

    return trust.file_is_trusted(Path(path), env)


class ExportedTokenNotSent(CredentialNotFound):
    """A variable holds a token for an index whose URL only an untrusted project file names."""

    def __init__(self, var: str, index: Index) -> None:
        import shlex

        PrivpipError.__init__(
            self, f"{var} is not sent to {redact(index.url)}: only {index.needs_trust} names "
            f"that URL for index {index.name!r}, and you have not trusted that file",
            f"if the file is yours to trust, run `privpip trust "
            f"{shlex.quote(index.needs_trust)}` (or put the index in your own config)")
        self.index = index.name
        self.tried = [(f"env:{var}", "not sent to an untrusted file's URL")]


def _from_privpips_netrc(index: Index, env: Mapping[str, str]) -> Credential | None:
    """The index's credential from the private netrc privpip wrote for this run, if any.

    pip's environment does not carry PRIVPIP_INDEX_<NAME>_TOKEN (a build backend could print
    it), so a helper started by git under pip finds the index's token where pip does.
    """
    path = env.get("PRIVPIP_NETRC")
    if not path:
        return None
    import netrc

    try:
        entry = netrc.netrc(path).authenticators(index.netrc_host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not entry or not entry[2]:
        return None
    return Credential(entry[0] or index.username, Secret(entry[2]),
                      f"index {index.name} (privpip's netrc)")


def _command_error(index: Index, exc: TokenCommandFailed) -> TokenCommandFailed:
    """``exc`` with the index named and a hint on how to fix it."""
    where = ("the default token command of provider " + repr(index.provider)
             if index.token_command_is_default
             else f"token-command (in {index.origin or 'the config'})")
    fixes = []
    hint = providers.get(index.provider).login_hint
    if hint:
        fixes.append(hint)
    if not isinstance(exc, CommandNotFound):
        fixes.append(f"its own messages, if any, are above; run the command of {where} "
                     "yourself to see why it fails")
    fixes.append(f"or set {token_var(index)} to a token")
    return TokenCommandFailed(
        f"index {index.name!r}: {where} failed: {exc.message}", "; ".join(fixes)
    )
