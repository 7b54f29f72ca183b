"""Signals in the threads apart from the child runner's main thread (the local index's, the
keyring's): a module of its own, so that they need not import the runner."""

from __future__ import annotations

import signal

_MAIN_THREAD_SIGNALS = {getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                        if hasattr(signal, s)}


def leave_signals_to_main_thread() -> None:
    """Block the terminating signals in the calling (non-main) thread, and so in the threads
    it starts. The kernel gives a signal sent to the process to any thread that does not block
    it, and Python runs the handler only in the main thread once that one wakes: a signal
    taken by another thread (the local index's, the keyring's) left the main thread asleep in
    waitpid(), and privpip never passed Ctrl-C or SIGTERM on to pip (runner.run)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
