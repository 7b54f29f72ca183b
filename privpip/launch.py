"""The console entry point: pip's interpreter started ahead for `privpip install`, then click;
the one place where errors become messages and exit codes, and the exit without the
interpreter's shutdown."""

from __future__ import annotations

import os
import sys

from privpip.errors import INTERNAL, INTERRUPTED, OK, PrivpipError

TYPE_CHECKING = False  # not typing's: nothing more is imported before pip starts
if TYPE_CHECKING:
    from collections.abc import Callable


def main() -> None:
    """Console entry point: run, then exit at once with the status the run gave."""
    try:
        guarded(_run)
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _run() -> None:
    if os.environ.get("_PRIVPIP_COMPLETE", "").startswith("fish"):
        from privpip.cli.completion import use_privpip_fish

        use_privpip_fish()
    ahead = None
    if sys.argv[1:2] == ["install"]:
        # Before click is imported: pip's interpreter imports pip meanwhile (privpip.run.pip_ahead).
        from privpip.run.pip_ahead import guess

        ahead = guess(sys.argv[1:], os.environ)
    keep_memory_private()  # after pip's interpreter: it holds no token (pip_ahead.py)
    try:
        from privpip.cli import cli

        # obj: the root group builds the run's Context with it (privpip.cli.cli)
        status = cli.main(prog_name="privpip", standalone_mode=False, obj=ahead)
    finally:
        if ahead is not None:
            ahead.discard()
    if isinstance(status, int) and status < 0:  # its child's signal: privpip dies of it too
        from privpip.run.runner import exit_with

        exit_with(status)
    raise SystemExit(status or OK)


def keep_memory_private() -> None:
    """On Linux, make privpip not dumpable (prctl PR_SET_DUMPABLE 0) before it reads a token.

    Otherwise any process of the same user, such as a build backend (an sdist's setup.py)
    pip runs during the install or a `privpip run` child, can read the tokens in privpip's
    memory (/proc/PID/mem) and the exported ones in its environment (/proc/PID/environ).
    The kernel then allows that only to root (CAP_SYS_PTRACE); children are dumpable again
    after their execve. The cost: gdb, py-spy or strace cannot attach to a running privpip
    as its own user (start privpip under them, or use root), and no core dump is written.
    """
    from privpip.core.prctl import PR_SET_DUMPABLE, prctl

    prctl(PR_SET_DUMPABLE, 0)  # no prctl (not Linux, a static build): nothing to do


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def guarded(call: Callable[[], None]) -> None:
    """Run ``call``: a user error gets a message and its exit code, a bug exit 70."""
    try:
        call()
    except PrivpipError as exc:
        from privpip.core.secret import redact

        _say(f"privpip: error: {redact(exc.message)}")
        if exc.hint:
            _say(f"  hint: {redact(exc.hint)}")
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        _say("\nprivpip: interrupted")
        raise SystemExit(INTERRUPTED) from None
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.Abort):
            _say("\nprivpip: aborted")
            raise SystemExit(INTERRUPTED) from None
        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if os.environ.get("PRIVPIP_DEBUG"):
            raise
        from privpip.core.secret import redact

        _say(f"privpip: internal error: {type(exc).__name__}: {redact(str(exc))}")
        _say("  hint: this is a bug in privpip; rerun with PRIVPIP_DEBUG=1 for a traceback "
             "and report it")
        raise SystemExit(INTERNAL) from None


def _exit_now(code: object) -> None:
    """Exit without the interpreter's shutdown (~10 ms: module teardown, garbage collection).

    By now the child was reaped and the private files removed (their ``with`` blocks ended).
    Only what cannot be lost stops the shortcut: output that does not flush (a closed pipe)
    and non-daemon threads; then the normal exit keeps Python's own status and messages.
    """
    status = 0 if code is None else code if isinstance(code, int) else None
    threading = sys.modules.get("threading")
    waiting = threading is not None and any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate())
    if status is None or waiting:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        raise SystemExit(code) from None
    os._exit(status & 0xFF)
