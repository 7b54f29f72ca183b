"""Linux's prctl(2), called through ``_ctypes`` (CPython's C module) rather than ``ctypes``.

``import ctypes`` builds its Python layer of types at import, about 2 ms before privpip can
read a token (launch.keep_memory_private); the C module alone costs a tenth of that. The call
is the one ctypes makes for ``CDLL(None).prctl(option, arg, 0, 0, 0)`` without argtypes: every
argument passed as a C int, the result read as one.
"""

from __future__ import annotations

import sys

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, arg: int) -> int | None:
    """prctl(option, arg, 0, 0, 0): its result (0 on success, -1 on failure), or None where
    there is no prctl to call (not Linux, or a libc without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import _ctypes
        import os

        # typeshed has no call_function, and no None (the program itself) for dlopen
        call, dlopen = getattr(_ctypes, "call_function"), getattr(_ctypes, "dlopen")  # noqa: B009
        function = _ctypes.dlsym(dlopen(None, os.RTLD_NOW), "prctl")
        return int(call(function, (option, arg, 0, 0, 0)))
    except (ImportError, OSError, AttributeError):
        return None
