"""Running the child: signals reach it, its exit status becomes ours, temporary files go away."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from privpip.errors import CannotRun

if TYPE_CHECKING:
    import subprocess

    from privpip.run.pip_ahead import Child, PipAhead

_FORWARDED = [s for s in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, s)]
_TERMINATING = [s for s in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, s)]
_PREFIX = "privpip-"


def _not_ignored(names: list[str]) -> list[int]:
    """The signals among ``names`` that privpip was not started with ignored.

    A signal ignored on entry stays ignored, as a shell leaves it for the commands it runs:
    a background job of a non-interactive shell ignores SIGINT, `nohup` ignores SIGHUP. So
    privpip neither acts on such a signal nor passes it on, and its child inherits it ignored
    (privpip does not reset it to the default): a Ctrl-C meant for the foreground job, or the
    terminal's hang-up, leaves the whole run alone, as it would leave `pip` run the same way.
    """
    return [getattr(signal, name) for name in names
            if signal.getsignal(getattr(signal, name)) != signal.SIG_IGN]


class _Terminated(BaseException):
    """A terminating signal arrived while privpip held secrets on disk: clean up, then die."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, _frame: object) -> None:
    raise _Terminated(signum)


@contextmanager
def private_dir(env: Mapping[str, str]) -> Iterator[Path]:
    """A 0700 directory for secrets, on tmpfs ($XDG_RUNTIME_DIR) if there is one; always removed.

    Its name holds privpip's pid, so that a later run can remove what a privpip killed by
    SIGKILL (or a crash of the machine's power) left behind: directories of dead pids are
    removed first. SIGTERM, SIGHUP and SIGQUIT become an exception from here on, before
    anything secret is written, so the directory goes away also when one arrives before the
    child runs (`git --version`, the target's Python version); privpip then dies by that
    signal as it would have.
    """
    base = env.get("XDG_RUNTIME_DIR")
    if not (base and os.path.isdir(base) and os.access(base, os.W_OK)):
        base = None
    previous = {}
    for signum in _not_ignored(_TERMINATING):
        try:
            previous[signum] = signal.signal(signum, _raise)
        except ValueError:  # not the main thread: no handlers, no change
            break
    try:
        path = _make_private_dir(Path(base) if base else None)
        remove_stale(path.parent)
        try:
            yield path
        finally:
            _remove(path)
    except _Terminated as exc:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        exit_with(-exc.signum)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _make_private_dir(base: Path | None) -> Path:
    """tempfile.mkdtemp's 0700 directory with an unguessable name, in ``base`` or where
    mkdtemp would put it, without tempfile's imports (random, shutil with bz2 and lzma)."""
    if base is not None:
        return _mkdir_in(base)
    # tempfile.gettempdir's own order of candidates; tempfile only if none of them works.
    names = [os.environ.get(var, "") for var in ("TMPDIR", "TEMP", "TMP")]
    if os.name == "posix":
        names += ["/tmp", "/var/tmp", "/usr/tmp"]  # noqa: S108 - mkdir 0700, random name
    for name in filter(None, names):
        try:
            return _mkdir_in(Path(os.path.abspath(name)))
        except OSError:
            continue
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))


def _mkdir_in(base: Path) -> Path:
    for _ in range(100):
        path = base / f"{_PREFIX}{os.getpid()}-{os.urandom(8).hex()}"
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free name for a private directory in {base}")


def _remove(path: Path) -> None:
    """shutil.rmtree(path, ignore_errors=True) for the flat directory privpip writes (its
    netrc); shutil itself only when something made a subdirectory in it."""
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    import shutil

                    shutil.rmtree(path, ignore_errors=True)
                    return
                os.unlink(entry.path)
        os.rmdir(path)
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def remove_stale(base: Path) -> list[Path]:
    """Remove this user's private directories of privpip processes that no longer run.

    Only directories named privpip-<pid>-..., owned by this user, not symlinks, whose pid is
    gone. A pid reused by another live process keeps its directory until that one ends.
    """
    import re
    import stat

    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = re.fullmatch(re.escape(_PREFIX) + r"(\d+)-[^/]+", entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue
        if _alive(int(match.group(1))):
            continue
        _remove(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but another user's (or not ours to ask): keep the directory
    return True


def _become_subreaper() -> bool:
    """PR_SET_CHILD_SUBREAPER: what the child leaves behind when it dies (`sh -c 'a & b'`
    killed mid-way) is re-parented to privpip instead of init, so privpip can still find and
    end it (watcher.end_descendants). The child stays in privpip's process group: Ctrl-C and
    terminal job control work as before."""
    from privpip.core.prctl import PR_SET_CHILD_SUBREAPER, prctl

    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0


def _die_with_us() -> Callable[[], None] | None:
    """On Linux, a function for Popen's preexec_fn: the child gets SIGKILL when privpip dies.

    PR_SET_PDEATHSIG (prctl(2)) fires when the thread that started the child ends, so the
    child is started from privpip's main thread, which lives as long as privpip. A SIGKILL of
    privpip then ends the child too, instead of leaving it running with the private netrc
    (which the next privpip run removes). Grandchildren (pip's build subprocesses) are not
    covered here; `privpip run` starts COMMAND below the watcher instead (Watcher),
    which ends them. prctl is looked up here, before the fork: the child only calls it.
    """
    from privpip.core.prctl import PR_SET_PDEATHSIG, resolve

    prctl = resolve()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # privpip died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def run(
    argv: Sequence[str],
    env: Mapping[str, str],
    on_output: Callable[[str], None] | None = None,
    started: Callable[[], object] | None = None,
    ahead: PipAhead | None = None,
    watcher: Watcher | None = None,
) -> int:
    """Run ``argv`` and return its exit status; a child killed by signal N gives -N.

    ``started`` is called once the child runs: work the child needs only later (the local
    index's server) goes there, beside the child's start-up instead of before it.

    ``ahead``, pip's interpreter started before privpip read its config (privpip.run.pip_ahead),
    runs ``argv`` when it is ``[that python, "-m", "pip", ...]``; otherwise it is discarded.

    With ``on_output``, the child's stdout and stderr (merged) are read line by line and
    handed to it instead of going to the terminal, so a caller can show and inspect them.

    SIGTERM, SIGHUP and SIGQUIT sent to privpip are passed on. SIGINT is passed on only when
    privpip is not in the terminal's foreground process group: a Ctrl-C at the terminal
    already reached the child, and a second one would interrupt its clean-up. A signal
    privpip was started with ignored is neither passed on nor reset (_not_ignored).

    With a ``watcher`` (`privpip run`, on Linux), COMMAND runs below privpip/run/watcher.py,
    a small process that ends what COMMAND started when privpip itself is killed by SIGKILL
    (Watcher); otherwise nothing changes.
    """
    child: subprocess.Popen[Any] | Child | None = None
    pending: list[int] = []
    ending: list[int] = []  # the terminating signals privpip was sent

    def forward(signum: int, _frame: object) -> None:
        if signum != signal.SIGINT:
            ending.append(signum)
        if signum == signal.SIGINT and _terminal_sent_it():
            return
        if child is None:  # still starting: passed on as soon as it runs
            pending.append(signum)
            return
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    # The handlers come before the child: a signal sent once the child runs (it may already
    # have answered the caller) must reach it, not end privpip alone.
    previous = {}
    for signum in _not_ignored(_FORWARDED):
        previous[signum] = signal.signal(signum, forward)
    subreaper = _become_subreaper()
    report: int | None = None
    try:
        taken = ahead.take(argv, env) if ahead is not None and on_output is None else None
        if ahead is not None and taken is None:
            ahead.discard()
        if watcher is not None and taken is None and subreaper and on_output is None:
            child, report = watcher.hand_over(argv, env)
        else:
            if watcher is not None:
                watcher.discard()
            child = taken if taken is not None else _start(argv, env, on_output)
        for signum in pending:
            forward(signum, None)
        if started is not None:
            started()
        if report is not None:
            _watched_started(report, argv, child)
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
        if ending and subreaper:
            # Told to end: nothing COMMAND started may outlive the run (`sh -c 'a & b'`).
            from privpip.run.watcher import end_descendants

            end_descendants(os.getpid(), ending[0])
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(argv: Sequence[str], env: Mapping[str, str],
           on_output: Callable[[str], None] | None) -> subprocess.Popen[Any]:
    import subprocess  # only commands that run a child need it

    try:
        preexec = _die_with_us()
        if on_output is None:
            return subprocess.Popen(list(argv), env=dict(env), preexec_fn=preexec)
        return subprocess.Popen(
            list(argv), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", bufsize=1, preexec_fn=preexec,
        )
    except OSError as exc:
        raise _cannot_run(argv, exc) from None


def _cannot_run(argv: Sequence[str], exc: OSError) -> CannotRun:
    missing = isinstance(exc, FileNotFoundError)
    return CannotRun(f"cannot run {argv[0]}: {exc.strerror}",
                     "check the command's name and PATH" if missing else
                     "check that the file is an executable program", not_found=missing)


# Imported, not run as a script: its compiled form is then read from __pycache__ (a script
# is compiled anew on every start). After the standard library on sys.path: no shadowing.
_HERE = os.path.dirname(os.path.abspath(__file__))
_WATCHER_MAIN = f"import sys; sys.path.append({_HERE!r}); import watcher; watcher.main()"


class Watcher:
    """privpip/run/watcher.py, started early; COMMAND's argv and environment handed over
    later (runner.run), so that its interpreter's start-up (some 10 ms) overlaps privpip's own
    work instead of delaying COMMAND.

    Its own interpreter (``-I -S``: no site, no privpip, no click; the module imported under
    its own name from its directory, put last on sys.path), started with
    os.posix_spawn (privpip may have threads by then: no fork in privpip), an empty
    environment (privpip's own may hold exported tokens; COMMAND's comes on the pipe), the
    descriptors Popen(close_fds=True) would leave COMMAND plus its two pipes, and privpip's
    signal mask plus watcher.BLOCKED, so that a signal sent while it starts waits for it. The
    dispositions it inherits are privpip's at its start: one privpip was started with ignored
    stays ignored, every other is at its default, as Popen's COMMAND had them. It is privpip's
    child in privpip's process group, so signals reach it as they reached COMMAND: privpip
    sends it what it passes on (Child.send_signal), and the watcher relays that to COMMAND.
    Never handed over (privpip stopped on an error first), it reads end of file and exits.
    """

    def __init__(self, child: Child, message: int, report: int) -> None:
        self.child = child
        self._message: int | None = message
        self._report = report

    @classmethod
    def start(cls) -> Watcher | None:
        """None where it cannot run (not Linux, no interpreter to start): COMMAND then starts
        as before."""
        if not (sys.platform.startswith("linux") and sys.executable
                and hasattr(os, "posix_spawn")):
            return None
        from privpip.run.pip_ahead import Child, inherited_fds
        from privpip.run.watcher import BLOCKED

        mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])  # privpip's own: COMMAND's too
        message, message_w = os.pipe()
        report_r, report = os.pipe()
        try:
            os.set_inheritable(message, True)
            os.set_inheritable(report, True)
            closing = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()
                       if fd not in (message, report)]
            pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-I", "-S", "-c", _WATCHER_MAIN, str(message), str(report),
                 str(os.getpid()), ",".join(str(int(s)) for s in sorted(mask))],
                {}, file_actions=closing, setsigmask=mask | BLOCKED)
        except OSError:
            os.close(message_w)
            os.close(report_r)
            return None
        finally:
            os.close(message)
            os.close(report)
        return cls(Child(pid), message_w, report_r)

    def hand_over(self, argv: Sequence[str], env: Mapping[str, str]) -> tuple[Child, int]:
        """Send COMMAND's argv and environment: (the watcher, the descriptor on which it says
        whether COMMAND started, for _watched_started)."""
        from privpip.run.pip_ahead_child import encode

        message = self._message
        assert message is not None
        self._message = None
        try:
            data = memoryview(encode(list(argv), dict(env)))
            while data:
                data = data[os.write(message, data):]
        except OSError:
            pass  # it ended before reading all: its exit status tells (_watched_started)
        finally:
            os.close(message)
        return self.child, self._report

    def discard(self) -> None:
        """Not handed over: it reads end of file and exits; reaped here."""
        if self._message is None:
            return
        os.close(self._message)
        self._message = None
        os.close(self._report)
        self.child.wait()


def _watched_started(report: int, argv: Sequence[str], child: Child | subprocess.Popen[Any],
                     ) -> None:
    """Wait for the watcher's word: COMMAND runs, or CannotRun as _start raises it. Nothing
    said (the watcher ended first): the run's status is the watcher's."""
    from privpip.run.pip_ahead_child import read_all

    said = read_all(report)
    if said and said != b"0":
        child.wait()
        number = int(said)
        raise _cannot_run(argv, OSError(number, os.strerror(number))) from None


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
