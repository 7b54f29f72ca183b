"""Running a token command (an index's token-command or its provider's CLI): bounded in time,
its own process group, its stderr shown, its output the token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from privpip.core.secret import MIN_LENGTH, Secret, redact
from privpip.credentials.sources import CommandNotFound
from privpip.errors import (
    TokenCommandFailed,
)


def run_token_command(argv: Sequence[str], timeout: float, env: Mapping[str, str],
                      cwd: str | None = None) -> str:
    """Run ``argv`` without a shell, in ``cwd`` (the directory of the config file that names
    it, so that `scripts/get-token.sh` is the script beside that file, the one its trust
    record pins), and return its stdout minus the line ending.

    stdin is closed, stdout is captured and never shown; stderr (the CLI's own error messages
    are useful) is shown once the command ends, with the token scrubbed: `set -x` or a
    debug flag prints it there, and it is not known until stdout is read. The command gets
    its own process group so that a timeout or Ctrl-C ends it with anything it started.
    """
    import os
    import signal
    import subprocess
    from contextlib import suppress

    program = argv[0]
    # A command that asks keyring (`keyring get ...`) must not reach privpip's own keyring
    # backend, which would run this command again.
    child_env = {**env, "PRIVPIP_KEYRING_PLUGIN": "0"}
    try:
        child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=child_env, start_new_session=True,
                                 cwd=cwd)
    except FileNotFoundError:
        raise CommandNotFound(f"`{program}` was not found on PATH") from None
    except OSError as exc:
        raise TokenCommandFailed(f"cannot run `{program}`: {exc.strerror}") from None

    def kill() -> None:
        with suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)

    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill()
        with suppress(subprocess.TimeoutExpired):
            late_out, late_err = child.communicate(timeout=5)
            show_stderr(late_err, late_out)
        raise TokenCommandFailed(
            f"`{program}` did not finish within {timeout:g} s (token-timeout)"
        ) from None
    except BaseException:
        kill()
        raise
    show_stderr(err, out)
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


def show_stderr(err: bytes | None, out: bytes | None) -> None:
    """A token command's stderr on ours, without what it printed on stdout (its token)."""
    import sys

    if not err:
        return
    text = err.decode("utf-8", "replace")
    printed = (out or b"").decode("utf-8", "replace")
    for candidate in {printed.strip(), *(line.strip() for line in printed.splitlines())}:
        if len(candidate) >= MIN_LENGTH:
            Secret(candidate)  # the redactor scrubs every Secret made, also of a failed command
    sys.stderr.write(redact(text))
    sys.stderr.flush()
