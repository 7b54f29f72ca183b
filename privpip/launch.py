"""The console entry point: `privpip install` without importing click when its line is plain.

    privpip install [--index NAME] [--python PATH] [--allow-public NAME]
                    [--delivery local|netrc] [--installer pip|uv] PIP_ARGS...

is by far the most frequent command and the one whose cost adds to pip's on every run (see
benchmarks/README.md): click's import is most of privpip's own start-up. ``plain_install``
reads exactly the forms above, with click's rules for them (options until the first
argument or ``--``, pip's options passed through, ``--opt=value``, ``-xNAME``, the last of a
repeated single option, the environment variables), and answers None for everything else:
global options, ``-h``, a short-option cluster that holds ``-x`` or ``-h`` after another
letter, a missing value, a value outside the choices, an unusual environment. None means
click parses the line, so errors, help and every other command keep click's behaviour.
tests/unit/test_launch.py holds the two parsers to the same result on generated lines.
"""

from __future__ import annotations

import os
import sys

from privpip.errors import PrivpipError

TYPE_CHECKING = False  # not typing's: nothing more is imported before pip starts
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from privpip.pip_ahead import PipAhead

# install's own options (privpip/cli/install.py, cli/options.py: pip_options): flag -> field
_OPTIONS = {"--index": "indexes", "-x": "indexes", "--allow-public": "allow_public",
            "--python": "python", "--delivery": "delivery", "--installer": "installer"}
_CHOICES = {"delivery": ("local", "netrc"), "installer": ("pip", "uv")}
_ENV = {"delivery": "PRIVPIP_DELIVERY", "installer": "PRIVPIP_INSTALLER"}
_SHORT = "xh"  # install's short options: -h, or one inside a cluster, is left to click
# Values of the PRIVPIP_NO_INPUT flag read here; any other value is left to click.
_NO_INPUT = {"": False, "0": False, "false": False, "1": True, "true": True}


class Install:
    """What click would pass to ``install`` and to the root group for one command line.

    A plain class: typing's NamedTuple would import typing (with re, enum, functools) before
    pip can start."""

    __slots__ = _FIELDS = ("config_path", "no_input", "indexes", "python", "allow_public",
                           "delivery", "installer", "pip_args")
    config_path: str | None
    no_input: bool
    indexes: tuple[str, ...]
    python: str | None
    allow_public: tuple[str, ...]
    delivery: str | None
    installer: str | None
    pip_args: tuple[str, ...]

    def __init__(self, *values: object) -> None:
        for field, value in zip(self._FIELDS, values, strict=True):
            setattr(self, field, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, field) for field in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Install) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Install{self._values()!r}"


def plain_install(argv: Sequence[str], env: Mapping[str, str]) -> Install | None:
    """``argv`` (after the program name) as click would parse it, or None: let click do it."""
    if argv[:1] != ["install"] or "_PRIVPIP_COMPLETE" in env:
        return None
    config_path = env.get("PRIVPIP_CONFIG")
    no_input = _NO_INPUT.get(env.get("PRIVPIP_NO_INPUT", "").strip().lower())
    if config_path == "" or no_input is None:
        return None
    single: dict[str, str] = {}
    multiple: dict[str, list[str]] = {"indexes": [], "allow_public": []}
    rest = list(argv[1:])
    passed: list[str] = []  # pip's options before the first argument, in order
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            rest.insert(0, arg)
            break
        if arg.startswith("-x"):  # click: the rest of the word is the value, else the next
            flag, eq, value = "-x", bool(arg[2:]), arg[2:]
        elif not arg.startswith("--"):
            if any(ch in _SHORT for ch in arg[1:]):
                return None  # -h, or -x inside a cluster (-Ux): click's cluster rules
            passed.append(arg)
            continue
        else:
            flag, sep, value = arg.partition("=")
            eq = bool(sep)
        if flag == "--help":
            return None
        field = _OPTIONS.get(flag)
        if field is None:
            passed.append(arg)
            continue
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if field in multiple:
            multiple[field].append(value)
        else:
            single[field] = value
    for field, var in _ENV.items():
        if field not in single and var in env:
            single[field] = env[var]
    if any(field in single and single[field] not in choices
           for field, choices in _CHOICES.items()):
        return None
    return Install(config_path, no_input, tuple(multiple["indexes"]), single.get("python"),
                   tuple(multiple["allow_public"]), single.get("delivery"),
                   single.get("installer"), (*passed, *rest))


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
    parsed = plain_install(sys.argv[1:], os.environ)
    if parsed is None:
        from privpip.cli import cli

        cli.main(prog_name="privpip", standalone_mode=False)
        return
    ahead = _pip_ahead(parsed)
    try:
        from pathlib import Path

        from privpip import pipeline, runner
        from privpip.context import Context

        ctx = Context(env=dict(os.environ), cwd=Path.cwd(), config_path=parsed.config_path,
                      interactive=not parsed.no_input and sys.stdin is not None
                      and sys.stdin.isatty(), pip_ahead=ahead)
        runner.exit_with(pipeline.run_pip(
            ctx, parsed.indexes, parsed.python, ["install", *parsed.pip_args],
            parsed.allow_public, parsed.installer, parsed.delivery))  # type: ignore[arg-type]
    finally:
        if ahead is not None:
            ahead.discard()


def _pip_ahead(parsed: Install) -> PipAhead | None:
    """The target interpreter, started now to import pip while privpip reads its config
    (privpip.pip_ahead); None when pip will not be the installer or the target is unclear."""
    if parsed.installer == "uv":
        return None
    from privpip import target
    from privpip.pip_ahead import PipAhead

    try:
        python = target.find(parsed.python, os.environ).python
    except PrivpipError:
        return None  # the same error comes again, in its place
    return PipAhead.start(python, os.environ)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def guarded(call: Callable[[], None]) -> None:
    """Run ``call``: a user error gets a message and its exit code, a bug exit 70.

    click's own exceptions exist only once click is imported (the fast path never does)."""
    try:
        call()
    except PrivpipError as exc:
        from privpip.secret import redact

        _say(f"privpip: error: {redact(exc.message)}")
        if exc.hint:
            _say(f"  hint: {redact(exc.hint)}")
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        _say("\nprivpip: interrupted")
        raise SystemExit(130) from None
    except Exception as exc:
        click = sys.modules.get("click")
        if click is not None and isinstance(exc, click.exceptions.Abort):
            _say("\nprivpip: aborted")
            raise SystemExit(130) from None
        if click is not None and isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if os.environ.get("PRIVPIP_DEBUG"):
            raise
        from privpip.secret import redact

        _say(f"privpip: internal error: {type(exc).__name__}: {redact(str(exc))}")
        _say("  hint: this is a bug in privpip; rerun with PRIVPIP_DEBUG=1 for a traceback "
             "and report it")
        raise SystemExit(70) from None


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
