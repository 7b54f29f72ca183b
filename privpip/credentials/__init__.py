"""Credentials: where a token comes from, and where privpip keeps one.

``sources`` (the ordered list of sources, the Credential), ``naming`` (variables, keyring
services, usernames), ``resolver`` (the sources asked in order), ``command`` (running a token
command), ``store`` (the OS keyring, bounded in time), ``filestore`` (privpip's 0600 token
file), ``stored`` (both stores together, for login, logout, status and migrate).
"""

from __future__ import annotations

from privpip.credentials.command import run_token_command, show_stderr
from privpip.credentials.naming import (
    env_token_var,
    git_token_var,
    git_username_var,
    index_keyring_services,
    refuses_token_file,
    token_var,
    username,
    username_var,
)
from privpip.credentials.resolver import ExportedTokenNotSent, Resolver, index_on_host
from privpip.credentials.sources import (
    CI_JOB_TOKEN,
    ENV,
    FILE,
    GIT_SOURCES,
    INDEX_SOURCES,
    KEYRING,
    PROMPT,
    SAME_HOST_INDEX,
    TOKEN_COMMAND,
    TOKEN_ENV,
    CommandNotFound,
    CommandRunner,
    Credential,
    GitCredentialNotFound,
    Prompt,
    Source,
    SourceKind,
    ask_token,
    checked,
    describe_source,
)

__all__ = [
    "CI_JOB_TOKEN", "CommandNotFound", "CommandRunner", "Credential", "ENV",
    "ExportedTokenNotSent", "FILE", "GIT_SOURCES", "GitCredentialNotFound", "INDEX_SOURCES",
    "KEYRING", "PROMPT", "Prompt", "Resolver", "SAME_HOST_INDEX", "Source", "SourceKind",
    "TOKEN_COMMAND", "TOKEN_ENV", "ask_token", "checked", "describe_source", "env_token_var",
    "git_token_var", "git_username_var", "index_keyring_services", "index_on_host",
    "refuses_token_file", "run_token_command", "show_stderr", "token_var", "username",
    "username_var",
]
