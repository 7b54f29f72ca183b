"""The target interpreter's end of pip started ahead (privpip/run/pip_ahead.py).

privpip runs ``PYTHON pip_ahead_child.py FD PID`` before it has read its config, with its own
environment minus the variables it delivers (``started_environment``). Meanwhile this file
imports pip's command line, then reads from FD the arguments and the environment privpip
settled on, takes that environment as its own and runs pip as ``python -m pip`` does (runpy,
pip's documented way to run it in-process), so pip's start-up overlaps privpip's.

Only variables privpip delivers may differ between start and hand-over: pip reads them once
it runs, never while its modules are imported. Anything else that differs, or a pip whose
command line could not be imported, makes this process a fresh ``python -m pip`` (execve).
End of file before any byte: privpip did not need it; exit 0 without a word.

Runs on the target's Python, 3.8 or newer: standard library only, nothing from privpip.
"""

import os
import sys

# What privpip sets or removes for pip: prefixes of variable names, and NETRC itself.
_DELIVERED_PREFIXES = ("PIP_", "UV_", "GIT_", "PRIVPIP_")


def delivered(key):  # type: (str) -> bool
    """Whether privpip may set or remove ``key`` for pip at hand-over time."""
    return key == "NETRC" or key.startswith(_DELIVERED_PREFIXES)


def started_environment(env):  # type: (dict[str, str]) -> dict[str, str]
    """The environment the interpreter starts with: ``env`` without the delivered variables
    (privpip's PRIVPIP_INDEX_<NAME>_TOKEN among them)."""
    return {key: value for key, value in env.items() if not delivered(key)}


def encode(args, env):  # type: (list[str], dict[str, str]) -> bytes
    """``args`` and ``env`` as NUL-separated fields: the number of arguments first."""
    fields = [str(len(args)).encode()] + [os.fsencode(arg) for arg in args]
    fields += [os.fsencode(key) + b"=" + os.fsencode(value) for key, value in env.items()]
    return b"\0".join(fields)


def decode(data):  # type: (bytes) -> tuple[list[bytes], dict[bytes, bytes]]
    fields = data.split(b"\0")
    count = int(fields[0])
    args = fields[1:1 + count]
    env = dict(field.split(b"=", 1) for field in fields[1 + count:])
    return args, env


def read_all(fd):  # type: (int) -> bytes
    """Everything until end of file, then the descriptor closed (also the watcher's and
    runner.Watcher's reader)."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _die_with(parent):  # type: (int) -> None
    """On Linux, SIGKILL when privpip (``parent``) dies, as privpip's other children get
    (runner._die_with_us); gone already: exit now."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
        except (ImportError, OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)


def main():  # type: () -> None
    here = os.path.dirname(os.path.realpath(__file__))
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == here:
        del sys.path[0]  # privpip's directory (its http.py, ...) must not shadow pip's imports
    import signal

    # Until pip runs, a Ctrl-C ends this process without a traceback, as it ends privpip;
    # a SIGINT ignored on entry stays ignored throughout, as for `python -m pip`.
    interruptible = signal.getsignal(signal.SIGINT) != signal.SIG_IGN
    if interruptible:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with(int(sys.argv[2]))
    started_with = dict(os.environb)
    try:
        import pip._internal.cli.main  # noqa: F401 - the import is the work done ahead
        warm = True
    except BaseException:  # noqa: BLE001 - whatever it was, `python -m pip` reports it
        warm = False
    data = read_all(int(sys.argv[1]))
    if not data:
        os._exit(0)
    args, env = decode(data)
    keys = set(started_with) | set(env)
    same = all(started_with.get(key) == env.get(key) for key in keys
               if not delivered(os.fsdecode(key)))
    executable = os.fsencode(sys.executable)
    if not (warm and same):
        os.execve(executable, [executable, b"-m", b"pip"] + args, env)  # noqa: S606
    os.environb.clear()
    os.environb.update(env)
    if interruptible:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # `python -m pip` puts the working directory first on sys.path and pip's __main__ takes
    # it off again; the same here, so that sys.path ends as it would.
    if not getattr(sys.flags, "safe_path", False):
        sys.path.insert(0, os.getcwd())
    sys.argv = [sys.argv[0]] + [os.fsdecode(arg) for arg in args]
    import runpy

    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
