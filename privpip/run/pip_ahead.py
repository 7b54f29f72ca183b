"""pip started ahead: the target interpreter imports pip while privpip reads its config.

`privpip install` needs some 30 ms (config, credentials, the local index's socket) before it
knows pip's command and environment, and pip then needs over 100 ms to import itself before
it does anything. So the fast path (privpip.launch) starts the target interpreter first, on
privpip/run/pip_ahead_child.py, which imports pip's command line and waits on a pipe; when privpip
runs ``[PYTHON, "-m", "pip", ...]`` (runner.run), it hands the arguments and the environment
over instead of starting a new process, and pip goes on as ``python -m pip`` would.

Started only for an interpreter known to run the child: privpip's own, or a virtual
environment whose pyvenv.cfg declares Python 3.8 or newer (not a wrapper script, whose
output could not be taken back). The interpreter starts with privpip's environment minus
the variables privpip delivers (no token among them); the child checks that nothing else
changed by hand-over time, or becomes a fresh ``python -m pip``. Not handed over (an
error, another installer, another command), it is killed before it has done anything a
user could see.

This module and the ones it imports use nothing beyond os and sys: everything imported
before the child starts delays pip. The child is started with os.posix_spawn, not
subprocess (whose import, with locale, re and threading, is some 10 ms), with the file
descriptors Popen(close_fds=True) would leave it (0, 1, 2 and the pipe); it asks for
PR_SET_PDEATHSIG itself, as runner._die_with_us does for the children privpip starts.
"""

from __future__ import annotations

import os
import sys

from privpip.run.pip_ahead_child import encode, started_environment

TYPE_CHECKING = False  # not typing's: this module is imported before pip starts
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip_ahead_child.py")


def guess(argv: Sequence[str], env: Mapping[str, str]) -> PipAhead | None:
    """For ``privpip install ...`` (``argv`` after the program name): start the interpreter
    pip will most likely run in, before click and the config are read; None when pip is not
    likely to run.

    Only a guess at which interpreter to start, never a parse: click reads the line
    afterwards, and runner.run hands over only when it starts exactly ``[this python, "-m",
    "pip", ...]``; otherwise the started interpreter is killed, which costs time and nothing
    else. So the guess looks only for the two options that pick the interpreter, anywhere
    before ``--`` (it does not know which options take a value); what it cannot see (the
    config's `installer` key, pip's own ``--python`` after a requirement) costs a discard.
    tests/e2e/test_pip_ahead.py holds that the hand-over happens on the usual lines.
    """
    if argv[:1] != ["install"] or "_PRIVPIP_COMPLETE" in env:
        return None
    words = list(argv[1:])
    words = words[: words.index("--")] if "--" in words else words
    python, installer = None, env.get("PRIVPIP_INSTALLER")
    for at, word in enumerate(words):
        name, eq, value = word.partition("=")
        value = value if eq else (words[at + 1] if at + 1 < len(words) else "")
        if name == "--python":
            python = value
        elif name == "--installer":
            installer = value
        elif name in ("-h", "--help"):
            return None
    if installer == "uv":
        return None
    from privpip.errors import PrivpipError
    from privpip.run.target import find

    try:
        python = find(python, env).python
    except PrivpipError:
        return None  # click and the pipeline report it, in their place
    return PipAhead.start(python, env)


class Child:
    """The started interpreter, as runner.run uses a subprocess.Popen: wait, poll, signals."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdout: None = None  # its output goes where privpip's goes

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # never a signal to a reaped pid another process may reuse
            os.kill(self.pid, signum)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)


class PipAhead:
    """A target interpreter importing pip, waiting for its command on a pipe."""

    def __init__(self, python: str, child: Child, pipe: int) -> None:
        self.python = python
        self.child = child
        self._pipe: int | None = pipe

    @classmethod
    def start(cls, python: str, env: Mapping[str, str]) -> PipAhead | None:
        """Start ``python`` on the child script; None where that cannot be done safely."""
        if not hasattr(os, "posix_spawn") or not _runs_the_child(python):
            return None
        read, write = os.pipe()
        try:
            os.set_inheritable(read, True)
            closing = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds() if fd != read]
            pid = os.posix_spawn(python, [python, _CHILD, str(read), str(os.getpid())],
                                 started_environment(dict(env)), file_actions=closing)
        except OSError:
            os.close(write)
            return None
        finally:
            os.close(read)
        return cls(python, Child(pid), write)

    def fits(self, argv: Sequence[str]) -> bool:
        """Whether ``argv`` is this interpreter running pip, and it still waits for it."""
        return (self._pipe is not None and list(argv[:3]) == [self.python, "-m", "pip"]
                and self.child.poll() is None)

    def take(self, argv: Sequence[str], env: Mapping[str, str]) -> Child | None:
        """Hand pip's arguments and environment over: the waiting interpreter runs
        ``argv`` now. None when it does not fit ``argv`` or died meanwhile."""
        if not self.fits(argv):
            return None
        pipe = self._pipe
        assert pipe is not None
        self._pipe = None
        try:
            data = memoryview(encode(list(argv[3:]), dict(env)))
            while data:
                data = data[os.write(pipe, data):]
        except OSError:  # it ended before reading: reap it, pip starts the usual way
            self.child.wait()
            return None
        finally:
            os.close(pipe)
        return self.child

    def discard(self) -> None:
        """Not needed after all: end it (it has only imported pip) and reap it."""
        if self._pipe is None:
            return
        os.close(self._pipe)
        self._pipe = None
        self.child.kill()
        self.child.wait()


def _runs_the_child(python: str) -> bool:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return True
    from privpip.run.target import Target

    version = Target(python, "").venv_version()
    return version is not None and version >= (3, 8)


def inherited_fds() -> list[int]:
    """This process's inheritable descriptors above 2: a child started by subprocess would
    not get them (close_fds), so this one does not either. OSError: they cannot be listed."""
    fds = []
    for name in os.listdir("/proc/self/fd" if sys.platform.startswith("linux") else "/dev/fd"):
        try:
            if int(name) > 2 and os.get_inheritable(int(name)):
                fds.append(int(name))
        except OSError:  # closed meanwhile (listdir's own descriptor among them)
            continue
    return fds
