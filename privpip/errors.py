"""privpip's error types: every failure a user can act on is a PrivpipError with a hint."""

from __future__ import annotations


class PrivpipError(Exception):
    """A failure the user can fix; shown as one message plus a hint, never a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(PrivpipError):
    """The configuration is missing, malformed or unsafe (exit status 2)."""

    exit_code = 2

    def __init__(self, where: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.where = where


class UsageError(PrivpipError):
    """The command line asks for something that cannot be done (exit status 2)."""

    exit_code = 2


# "no credential": sysexits' EX_NOPERM, next to the 70 (EX_SOFTWARE) of an internal error;
# pip's own statuses (0-4, 23, 120) and uv's and twine's (0-2) never use it.
NO_CREDENTIAL = 77


class CredentialNotFound(PrivpipError):
    """No source had a credential for an index; lists every source tried (exit status 77)."""

    exit_code = NO_CREDENTIAL

    def __init__(self, index: str, tried: list[tuple[str, str]], hint: str) -> None:
        lines = [f"no credential for index {index!r}; tried:"]
        lines += [f"  - {source}: {reason}" for source, reason in tried]
        super().__init__("\n".join(lines), hint)
        self.index = index
        self.tried = tried


class CannotRun(PrivpipError):
    """A child command could not be started: 127 when not found, 126 otherwise, as shells do."""

    def __init__(self, message: str, hint: str | None = None, not_found: bool = True) -> None:
        super().__init__(message, hint)
        self.exit_code = 127 if not_found else 126


class KeyringUnavailable(PrivpipError):
    """The OS keyring is missing, locked, broken or did not answer in time."""


class UnsafeCredential(PrivpipError):
    """A credential cannot be delivered to the target tool without being mangled."""


class TokenCommandFailed(PrivpipError):
    """An index's token-command could not be run, failed, timed out or printed no token."""
