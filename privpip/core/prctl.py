"""Linux's prctl(2), called through ``_ctypes`` (CPython's C module) rather than ``ctypes``.

``import ctypes`` builds its Python layer of types at import, about 2 ms before privpip can
read a token (launch.keep_memory_private) and again before each child starts (run.runner);
the C module alone costs a tenth of that. The call is the one ctypes makes for
``CDLL(None).prctl(option, arg, 0, 0, 0)`` without argtypes: every argument passed as a C
int, the result read as one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def resolve() -> Callable[[int, int], int] | None:
    """prctl(option, arg, 0, 0, 0) looked up now, to call later: also in a child between
    fork and exec (a Popen preexec_fn), where nothing may be looked up or imported. None where
    there is no prctl to call (not Linux, or a libc without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import _ctypes
        import os

        # typeshed has no call_function, and no None (the program itself) for dlopen
        call, dlopen = getattr(_ctypes, "call_function"), getattr(_ctypes, "dlopen")  # noqa: B009
        address = _ctypes.dlsym(dlopen(None, os.RTLD_NOW), "prctl")
    except (ImportError, OSError, AttributeError):
        return None

    def prctl(option: int, arg: int) -> int:
        return int(call(address, (option, arg, 0, 0, 0)))

    return prctl


def prctl(option: int, arg: int) -> int | None:
    """prctl(option, arg, 0, 0, 0): its result (0 on success, -1 on failure), or None where
    there is no prctl to call."""
    function = resolve()
    return None if function is None else function(option, arg)
