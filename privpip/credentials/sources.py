"""The ordered list of the places a token comes from (indexes and git hosts), the credential
they give, and the checks every token passes (`checked`); `--help`, the starter file and the
README are checked against INDEX_SOURCES."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple

from privpip.config.model import Index
from privpip.core.secret import MIN_LENGTH, Secret, redact
from privpip.core.tokens import token_problem
from privpip.errors import (
    CredentialNotFound,
    TokenCommandFailed,
    UnsafeCredential,
)

SourceKind = Literal["env", "token-env", "keyring", "file", "token-command", "ci-job-token",
                     "prompt", "index"]


class Source(NamedTuple):
    """One place a token can come from, with the words each document uses for it."""

    kind: SourceKind
    help: str  # a phrase of `privpip --help`
    starter: str  # the starter file's lines (privpip init)
    readme: str  # what the README's numbered item for it contains


ENV = Source("env", "PRIVPIP_INDEX_<NAME>_TOKEN",
             "the environment variable PRIVPIP_INDEX_<NAME>_TOKEN (NAME upper-cased, every\n"
             "other character replaced by \"_\"; e.g. PRIVPIP_INDEX_CORP_TOKEN),",
             "`PRIVPIP_INDEX_<NAME>_TOKEN`")


TOKEN_ENV = Source("token-env", "the index's token-env variables",
                   "the variables listed in the index's token-env,", "`token-env` variables")


KEYRING = Source("keyring", "the OS keyring (service = index URL)",
                 "the OS keyring, where `privpip login NAME` stores it,", "the OS keyring")


FILE = Source("file", "privpip's token file (where `login` found no keyring)",
              "privpip's token file, where `privpip login NAME` keeps a token on a machine\n"
              "without a keyring (unencrypted),",
              "privpip's token file")


TOKEN_COMMAND = Source("token-command",
                       "the index's token-command (or its provider's CLI: aws, gcloud, az)",
                       "the index's token-command, or its provider's CLI (aws, gcloud, az),",
                       "`token-command`")


CI_JOB_TOKEN = Source("ci-job-token", "the GitLab CI job token (inside GitLab CI, same host)",
                      "the GitLab CI job token, inside GitLab CI, for an index on its host,",
                      "the GitLab CI job token")


PROMPT = Source("prompt", "a hidden prompt on a terminal",
                "a hidden prompt, when privpip runs on a terminal.", "a hidden prompt")


SAME_HOST_INDEX = Source("index", "an index on the same host", "", "")


# The order of the lookup. Git hosts share the first three steps with indexes.
INDEX_SOURCES: tuple[Source, ...] = (ENV, TOKEN_ENV, KEYRING, FILE, TOKEN_COMMAND, CI_JOB_TOKEN,
                                     PROMPT)


GIT_SOURCES: tuple[Source, ...] = (*INDEX_SOURCES[:3], SAME_HOST_INDEX)


class Credential(NamedTuple):
    username: str
    token: Secret
    source: str  # e.g. "env:PRIVPIP_INDEX_CORP_TOKEN", "keyring", "command:aws", "prompt"


Prompt = Callable[[Index, str], str]


# (argv, timeout in seconds, environment) -> the token; raises TokenCommandFailed.
# argv, timeout, environment, directory (None: the current one) -> the token
CommandRunner = Callable[[Sequence[str], float, Mapping[str, str], str | None], str]


class CommandNotFound(TokenCommandFailed):
    """The token command's program is not on PATH."""


class GitCredentialNotFound(CredentialNotFound):
    """No source had a credential for a git host; lists every source tried."""

    def __init__(self, host: str, tried: list[tuple[str, str]], hint: str) -> None:
        super().__init__(host, tried, hint)
        lines = [f"no credential for git host {host}; tried:"]
        lines += [f"  - {source}: {reason}" for source, reason in tried]
        self.message = "\n".join(lines)
        self.args = (self.message,)


def describe_source(source: str, env: Mapping[str, str]) -> str:
    """A credential's source for `-v`: the token file's path with it (status shows "file")."""
    if source == "file":
        from privpip.credentials import filestore

        return f"file {filestore.path(env)}"
    return source


def checked(whose: str, user: str, value: str, source: str) -> Credential:
    """A Credential, unless a value is not text: undecodable bytes in an environment variable
    arrive as lone surrogates, which no URL, netrc or shell output can carry."""
    for what, text in (("username", user), (f"token (from {source})", value)):
        if token_problem(text) == "not-text":
            raise UnsafeCredential(
                f"the {what} for {whose} is not valid UTF-8 text",
                "tokens are printable ASCII; check how the value was set",
            )
    if len(value) < MIN_LENGTH:  # too short to scrub from messages, and no registry's token
        raise UnsafeCredential(
            f"the token for {whose} (from {source}) is only {len(value)} character(s) long, "
            "which is suspicious: no registry issues tokens that short, and privpip cannot "
            "hide one from its messages",
            "check the value (a placeholder, or a cut-off copy?); it is not shown here",
        )
    return Credential(user, Secret(value), source)


def ask_token(index: Index, user: str) -> str:
    """The hidden prompt for ``index``'s token (login and the lookup both use it)."""
    import getpass

    return getpass.getpass(f"Token for {index.name} ({redact(index.url)}, user {user}): ")
