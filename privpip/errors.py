"""privpip's error types (every failure a user can act on is a PrivpipError with a hint) and
the one table of the statuses privpip exits with."""

from __future__ import annotations

# The exit statuses of privpip's own making, one name each; docs/troubleshooting.md ("Exit
# codes") lists the same ones (tests/unit/test_docs.py compares them). Besides these, `install`,
# `pip`, `run` and `upload` pass on their child's status, and die of their child's signal
# (runner.exit_with). pip uses 0-4, 23 and 120, uv and twine 0-2: 70 and 77 stay clear of them.
OK = 0
FAILED = 1  # a failure the user can act on; also `scan` found a token, `status --check` failed
USAGE = 2  # a bad config file or command line (click's usage errors have this status too)
INTERNAL = 70  # a bug in privpip: sysexits' EX_SOFTWARE
NO_CREDENTIAL = 77  # no source had a credential (`status`: for a selected index): EX_NOPERM
CANNOT_EXECUTE = 126  # `run`: COMMAND found but not executable, as shells say
NOT_FOUND = 127  # `run`: COMMAND not found, as shells say
INTERRUPTED = 130  # Ctrl-C or an aborted prompt while privpip itself ran (128 + SIGINT)
EXIT_STATUSES = (OK, FAILED, USAGE, INTERNAL, NO_CREDENTIAL, CANNOT_EXECUTE, NOT_FOUND,
                 INTERRUPTED)

TYPE_CHECKING = False  # not typing's: this module is imported before pip starts ahead
if TYPE_CHECKING:
    from typing import Literal

    KeyringCause = Literal["no-backend", "forced", "locked", "timeout", "error"]


class PrivpipError(Exception):
    """A failure the user can fix; shown as one message plus a hint, never a traceback."""

    exit_code = FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(PrivpipError):
    """The configuration is missing, malformed or unsafe."""

    exit_code = USAGE

    def __init__(self, where: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.where = where


class UsageError(PrivpipError):
    """The command line asks for something that cannot be done."""

    exit_code = USAGE


class CredentialNotFound(PrivpipError):
    """No source had a credential for an index; lists every source tried."""

    exit_code = NO_CREDENTIAL

    def __init__(self, index: str, tried: list[tuple[str, str]], hint: str) -> None:
        lines = [f"no credential for index {index!r}; tried:"]
        lines += [f"  - {source}: {reason}" for source, reason in tried]
        super().__init__("\n".join(lines), hint)
        self.index = index
        self.tried = tried


class CannotRun(PrivpipError):
    """A child command could not be started: not found, or not executable."""

    def __init__(self, message: str, hint: str | None = None, not_found: bool = True) -> None:
        super().__init__(message, hint)
        self.exit_code = NOT_FOUND if not_found else CANNOT_EXECUTE


class KeyringUnavailable(PrivpipError):
    """The OS keyring is missing, locked, broken or did not answer in time.

    ``cause`` says which, for the fix: "no-backend" (keyring has nothing that keeps a token:
    its fail or null backend; `privpip login` then uses privpip's token file), "forced"
    (PYTHON_KEYRING_BACKEND names a backend that cannot be used here), "locked", "timeout",
    or "error" (any other failure of the backend).
    """

    def __init__(self, message: str, hint: str | None = None,
                 cause: KeyringCause = "error") -> None:
        super().__init__(message, hint)
        self.cause: KeyringCause = cause


class UnsafeCredential(PrivpipError):
    """A credential cannot be delivered to the target tool without being mangled."""


class TokenCommandFailed(PrivpipError):
    """An index's token-command could not be run, failed, timed out or printed no token."""
