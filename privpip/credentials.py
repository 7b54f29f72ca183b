"""Resolving one index's credential from its sources, in order, remembering where it came from."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from privpip import providers
from privpip.config import Index
from privpip.errors import (
    CredentialNotFound,
    KeyringUnavailable,
    TokenCommandFailed,
    UnsafeCredential,
)
from privpip.secret import Secret, redact


class Credential(NamedTuple):
    username: str
    token: Secret
    source: str  # e.g. "env:PRIVPIP_INDEX_CORP_TOKEN", "keyring", "command:aws", "prompt"


if TYPE_CHECKING:  # only for the type checker: defining a Protocol costs start-up time
    from typing import Protocol

    class Store(Protocol):
        def get(self, service: str, username: str) -> str | None: ...


Prompt = Callable[[Index, str], str]
# (argv, timeout in seconds, environment) -> the token; raises TokenCommandFailed.
CommandRunner = Callable[[Sequence[str], float, Mapping[str, str]], str]


class CommandNotFound(TokenCommandFailed):
    """The token command's program is not on PATH."""


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
    run_command: CommandRunner | None = None,
) -> Credential | None:
    """The first credential found for ``index``; None for an index with ``auth = false``.

    Order: PRIVPIP_INDEX_<NAME>_TOKEN, the index's token-env variables, the keyring, the
    token command (the index's token-command, else its provider's CLI), the GitLab CI job
    token (inside GitLab CI, for an index on the CI server's host), then a hidden prompt
    (only when ``prompt`` is given). A configured token-command that fails is an error; a
    provider's default command whose program is not installed is skipped.
    """
    if not index.auth:
        return None
    username = env.get(username_var(index)) or index.username
    tried: list[tuple[str, str]] = []

    found = from_env_or_keyring((token_var(index), *index.token_env), keyring_service(index),
                                username, f"index {index.name!r}", env, store, tried)
    if found is not None:
        return found

    if index.token_command:
        program = index.token_command[0]
        try:
            value = (run_command or run_token_command)(index.token_command, index.token_timeout,
                                                       env)
        except CommandNotFound as exc:
            if not index.token_command_is_default:
                raise _command_error(index, exc) from None
            tried.append((f"command:{program}", f"{program!r} is not installed (not on PATH)"))
        except TokenCommandFailed as exc:
            raise _command_error(index, exc) from None
        else:
            return Credential(username, Secret(value), f"command:{program}")

    job = providers.gitlab_ci_job_token(index.url, env)
    if job is not None:
        return Credential(job[0], Secret(job[1]), "env:CI_JOB_TOKEN")
    if providers.in_gitlab_ci(env) and index.provider == "gitlab":
        tried.append(("env:CI_JOB_TOKEN", f"only used for indexes on CI_SERVER_HOST "
                      f"({env.get('CI_SERVER_HOST') or 'not set'}), not {index.host}"))

    if prompt is not None:
        value = prompt(index, username)
        if value:
            return checked(f"index {index.name!r}", username, value, "prompt")
        tried.append(("prompt", "nothing entered"))
    else:
        tried.append(("prompt", no_prompt_reason))

    raise CredentialNotFound(
        index.name,
        tried,
        f"run `privpip login {index.name}`, or set {token_var(index)}",
    )


def from_env_or_keyring(
    variables: Sequence[str], service: str, username: str, whose: str,
    env: Mapping[str, str], store: Store | None, tried: list[tuple[str, str]],
) -> Credential | None:
    """The first non-empty variable, else the keyring entry (service, username).

    Shared by indexes and git hosts; every source that had nothing is appended to ``tried``.
    """
    for var in variables:
        value = env.get(var)
        if value:
            return checked(whose, username, value, f"env:{var}")
        tried.append((f"env:{var}", "set but empty" if value == "" else "not set"))
    if store is None:
        tried.append(("keyring", "disabled"))
        return None
    try:
        value = store.get(service, username)
    except KeyringUnavailable as exc:
        tried.append(("keyring", exc.message))
        return None
    if value:
        return checked(whose, username, value, "keyring")
    tried.append(("keyring", f"no entry for {redact(service)} and user {username!r}"))
    return None


def checked(whose: str, username: str, value: str, source: str) -> Credential:
    """A Credential, unless a value is not text: undecodable bytes in an environment variable
    arrive as lone surrogates, which no URL, netrc or shell output can carry."""
    for what, text in (("username", username), (f"token (from {source})", value)):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnsafeCredential(
                f"the {what} for {whose} is not valid UTF-8 text",
                "tokens are printable ASCII; check how the value was set",
            ) from None
    return Credential(username, Secret(value), source)


def prompt_on_terminal(index: Index, username: str) -> str:
    import getpass

    return getpass.getpass(f"Token for {index.name} ({redact(index.url)}, user {username}): ")


def _command_error(index: Index, exc: TokenCommandFailed) -> TokenCommandFailed:
    """``exc`` with the index named and a hint on how to fix it."""
    where = ("the default token command of provider " + repr(index.provider)
             if index.token_command_is_default
             else f"token-command (in {index.origin or 'the config'})")
    fixes = []
    if index.provider in providers.LOGIN_HINTS:
        fixes.append(providers.LOGIN_HINTS[index.provider])
    if not isinstance(exc, CommandNotFound):
        fixes.append(f"its own messages, if any, are above; run the command of {where} "
                     "yourself to see why it fails")
    fixes.append(f"or set {token_var(index)} to a token")
    return TokenCommandFailed(
        f"index {index.name!r}: {where} failed: {exc.message}", "; ".join(fixes)
    )


def run_token_command(argv: Sequence[str], timeout: float, env: Mapping[str, str]) -> str:
    """Run ``argv`` without a shell and return its stdout minus the line ending.

    stdin is closed, stderr goes to ours (the CLI's own error messages are useful), stdout
    is captured and never shown. The command gets its own process group so that a timeout
    or Ctrl-C ends it together with anything it started.
    """
    import os
    import signal
    import subprocess
    from contextlib import suppress

    program = argv[0]
    try:
        child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 env=dict(env), start_new_session=True)
    except FileNotFoundError:
        raise CommandNotFound(f"`{program}` was not found on PATH") from None
    except OSError as exc:
        raise TokenCommandFailed(f"cannot run `{program}`: {exc.strerror}") from None

    def kill() -> None:
        with suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)

    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill()
        with suppress(subprocess.TimeoutExpired):
            child.communicate(timeout=5)
        raise TokenCommandFailed(
            f"`{program}` did not finish within {timeout:g} s (token-timeout)"
        ) from None
    except BaseException:
        kill()
        raise
    if child.returncode < 0:
        raise TokenCommandFailed(f"`{program}` was killed by signal {-child.returncode}")
    if child.returncode != 0:
        raise TokenCommandFailed(f"`{program}` exited with status {child.returncode}")
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenCommandFailed(f"`{program}` printed something that is not UTF-8 text") from None
    token = text.rstrip("\r\n")
    if not token.strip():
        raise TokenCommandFailed(f"`{program}` succeeded but printed no token on stdout")
    if "\n" in token or "\r" in token:
        raise TokenCommandFailed(
            f"`{program}` printed more than one line; a token command must print only the token"
        )
    return token
