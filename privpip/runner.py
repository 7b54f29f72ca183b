"""Running the child: signals reach it, its exit status becomes ours, temporary files go away."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from privpip.errors import CannotRun

_FORWARDED = [s for s in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, s)]


@contextmanager
def private_dir(env: Mapping[str, str]) -> Iterator[Path]:
    """A 0700 directory for secrets, on tmpfs ($XDG_RUNTIME_DIR) if there is one; always removed."""
    base = env.get("XDG_RUNTIME_DIR")
    if not (base and os.path.isdir(base) and os.access(base, os.W_OK)):
        base = None
    path = Path(tempfile.mkdtemp(prefix="privpip-", dir=base))  # mkdtemp makes it 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(
    argv: Sequence[str],
    env: Mapping[str, str],
    on_output: Callable[[str], None] | None = None,
) -> int:
    """Run ``argv`` and return its exit status; a child killed by signal N gives -N.

    With ``on_output``, the child's stdout and stderr (merged) are read line by line and
    handed to it instead of going to the terminal, so a caller can show and inspect them.

    SIGTERM, SIGHUP and SIGQUIT sent to privpip are passed on. SIGINT is passed on only when
    privpip is not in the terminal's foreground process group: a Ctrl-C at the terminal
    already reached the child, and a second one would interrupt its clean-up.
    """
    try:
        child: subprocess.Popen[Any]
        if on_output is None:
            child = subprocess.Popen(list(argv), env=dict(env))
        else:
            child = subprocess.Popen(
                list(argv), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace", bufsize=1,
            )
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise CannotRun(f"cannot run {argv[0]}: {exc.strerror}",
                        "check the command's name and PATH" if missing else
                        "check that the file is an executable program", not_found=missing,
                        ) from None

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and _terminal_sent_it():
            return
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {}
    for name in _FORWARDED:
        signum = getattr(signal, name)
        previous[signum] = signal.signal(signum, forward)
    try:
        if on_output is not None and child.stdout is not None:
            with child.stdout:
                for line in child.stdout:
                    on_output(cast(str, line))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # pragma: no cover - handler replaced above
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _terminal_sent_it() -> bool:
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


def exit_with(status: int) -> None:
    """Exit like the child did: re-raise its fatal signal on ourselves, else its status."""
    if status < 0:
        signum = -status
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL and SIGSTOP have no handler to reset
        try:
            os.kill(os.getpid(), signum)
        except OSError:
            pass
        raise SystemExit(128 + signum)
    raise SystemExit(status)
