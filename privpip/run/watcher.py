"""The watcher between privpip and COMMAND (`privpip run`, Linux): what COMMAND started ends
even when privpip is killed by SIGKILL.

privpip (runner.Watcher) starts ``PYTHON -I -S`` on this module (main(), with the arguments
MESSAGE_FD REPORT_FD PRIVPIP_PID MASK) with an empty environment and its terminating signals,
SIGCHLD and PRIVPIP_DIED blocked (so that none is lost, or fatal, while this interpreter
starts). This process:

- becomes the subreaper of what it starts (PR_SET_CHILD_SUBREAPER): a process whose parent
  dies below it (the `sleep` of `sh -c 'sleep 300 & ...'` once `sh` is gone) is re-parented
  here, not to init, so it can still be found and ended;
- asks for PRIVPIP_DIED when privpip dies (PR_SET_PDEATHSIG; a SIGKILL of privpip included),
  and checks privpip's pid after asking, so a privpip already gone is not missed;
- reads COMMAND's argv and environment from MESSAGE_FD (pip_ahead_child's format) and starts
  COMMAND as subprocess would: fork (this process has one thread), PR_SET_PDEATHSIG(SIGKILL)
  in the child so that COMMAND dies with this process, SIGPIPE and SIGXFSZ at their default,
  privpip's signal mask (MASK), PATH searched in COMMAND's environment, only fds 0, 1 and 2.
  It stays in privpip's process group, with privpip's working directory and the signal
  dispositions privpip had (one ignored on entry stays ignored);
- reports on REPORT_FD: b"0" once COMMAND runs, else the errno of its execve;
- relays to COMMAND what privpip sends it (SIGINT, SIGTERM, SIGHUP, SIGQUIT whose sender is
  privpip); a signal from elsewhere (the terminal's Ctrl-C, which reached COMMAND's process
  group already) is not passed on a second time;
- when COMMAND ends, exits as COMMAND did (its exit code, or death by the same signal, with no
  core file of its own), leaving COMMAND's background processes to privpip, as before;
- when privpip dies first: SIGKILL to COMMAND (what PR_SET_PDEATHSIG gave COMMAND before),
  SIGTERM to every other process below it, SIGKILL to what is left after two seconds; exit.

Standard library only, and little of it (os, signal, sys), plus two modules of privpip that
import nothing else of it: pip_ahead_child (the pipe's format) and core/prctl (prctl through
_ctypes): it runs on every `privpip run`, and what it imports is start-up time. privpip
imports ``end_descendants`` from here, so the rule of what "below" means lives in one place.
"""

from __future__ import annotations

import os
import signal
import sys
import time

TYPE_CHECKING = False  # not typing's: its import is start-up time
if TYPE_CHECKING:
    from collections.abc import Callable

# The signal PR_SET_PDEATHSIG sends when privpip dies: one nothing else sends by chance. Any
# arrival is checked against getppid(), so a stray one changes nothing.
PRIVPIP_DIED = signal.SIGRTMIN
FORWARDED = [getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
             if hasattr(signal, s)]
# What privpip blocks when it starts the watcher (runner._start_watched).
BLOCKED = {*FORWARDED, signal.SIGCHLD, PRIVPIP_DIED}
GRACE = 2.0


def descendants(root: int) -> list[int]:
    """The live processes below ``root`` (from /proc; zombies have ended and are left out)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 1 and fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found: list[int] = []
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items()
                    if parent in frontier and pid != root and pid not in found}
        found += sorted(frontier)
    return found


def end_descendants(root: int, signum: int, grace: float = GRACE, reap: bool = False) -> None:
    """``signum`` to every process below ``root``, then SIGKILL to what is left after
    ``grace`` seconds (what is re-parented meanwhile included). With ``reap`` (``root`` is
    the caller, which owns no other child), the caller's children are reaped as they end."""
    for sig in (signum, signal.SIGKILL):
        left = descendants(root)
        for pid in left:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            time.sleep(0.02)
            if reap:
                _reap_all()
            left = descendants(root)
        if not left:
            return


def _reap_all(command: int = 0) -> int | None:
    """Reap every ended child; ``command``'s wait status when it was among them."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == command:
            status = code


def _start(args: list[bytes], env: dict[bytes, bytes], mask: set[int],
           prctl: Callable[[int, int], int]) -> int:
    """COMMAND's pid, as subprocess.Popen(args, env=env) starts it from privpip; OSError as
    Popen raises it when execve fails."""
    from pip_ahead_child import read_all
    from prctl import PR_SET_PDEATHSIG

    read, write = os.pipe()  # close-on-exec: end of file once COMMAND runs
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child execs or exits
        try:
            os.close(read)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(127)
            for name in ("SIGPIPE", "SIGXFSZ"):  # Python ignores them; Popen restores them
                signal.signal(getattr(signal, name), signal.SIG_DFL)
            for signum in FORWARDED:  # no KeyboardInterrupt here; an ignored one stays so
                if signal.getsignal(signum) != signal.SIG_IGN:
                    signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.execvpe(args[0], args, env)  # noqa: S606 - COMMAND, as the user gave it
        except OSError as exc:
            os.write(write, str(exc.errno or 0).encode())
        finally:
            os._exit(127)
    os.close(write)
    error = read_all(read)
    if error:
        os.waitpid(pid, 0)
        raise OSError(int(error), os.strerror(int(error)))
    return pid


def _watch(command: int, privpip: int, waited: set[int]) -> int:
    """COMMAND's wait status; ends everything below and exits when privpip dies first."""
    while True:
        info = signal.sigwaitinfo(waited)
        if info.si_signo == signal.SIGCHLD:
            status = _reap_all(command)
            if status is not None:
                return status
        elif info.si_signo == PRIVPIP_DIED:
            if os.getppid() != privpip:
                _privpip_died(command)
        elif info.si_pid == privpip:
            os.kill(command, info.si_signo)  # not reaped yet, so the pid is still COMMAND's


def _privpip_died(command: int) -> None:
    try:
        os.kill(command, signal.SIGKILL)
    except OSError:
        pass
    end_descendants(os.getpid(), signal.SIGTERM, reap=True)
    os._exit(128 + signal.SIGKILL)


def _exit_as(status: int) -> None:
    """Exit as COMMAND did: its exit code, or death by its signal."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL and SIGSTOP have no handler to reset
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)
    os._exit(os.waitstatus_to_exitcode(status))


def main() -> None:
    message, report, privpip = (int(arg) for arg in sys.argv[1:4])
    mask = {int(n) for n in sys.argv[4].split(",") if n}
    os.set_inheritable(message, False)
    os.set_inheritable(report, False)
    here = os.path.dirname(os.path.abspath(__file__))
    for directory in (here, os.path.join(os.path.dirname(here), "core")):
        if directory not in sys.path:  # runner.Watcher put the first there already
            sys.path.append(directory)  # after the standard library: it shadows nothing
    from prctl import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, resolve

    prctl = resolve()  # looked up once: _start's forked child only calls it
    # Not dumpable: no core file when it dies of COMMAND's signal, and its memory (COMMAND's
    # environment) is as closed to COMMAND's children as privpip's own.
    if prctl is None or prctl(PR_SET_DUMPABLE, 0) != 0 \
            or prctl(PR_SET_CHILD_SUBREAPER, 1) != 0:
        os._exit(70)  # privpip checked the same calls on itself: never here in practice
    prctl(PR_SET_PDEATHSIG, PRIVPIP_DIED)
    if os.getppid() != privpip:
        os._exit(0)  # privpip is gone already: nothing was started
    from pip_ahead_child import decode, read_all

    data = read_all(message)
    if not data or os.getppid() != privpip:
        os._exit(0)  # privpip ended before it needed COMMAND
    args, env = decode(data)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # queued while blocked, even at the default
    waited = {signal.SIGCHLD, PRIVPIP_DIED} | {
        s for s in FORWARDED if signal.getsignal(s) != signal.SIG_IGN}  # ignored stay ignored
    try:
        command = _start(args, env, mask, prctl)
    except OSError as exc:
        os.write(report, str(exc.errno or 0).encode())
        os._exit(127)
    os.write(report, b"0")
    os.close(report)
    status = _watch(command, privpip, waited)
    if os.getppid() != privpip:  # privpip died as COMMAND ended: its leftovers end too
        end_descendants(os.getpid(), signal.SIGTERM, reap=True)
    _exit_as(status)


if __name__ == "__main__":
    main()
