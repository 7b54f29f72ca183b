"""`privpip run -- COMMAND`: any command with the credentials in pip's, uv's and netrc's forms."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from privpip import delivery, pipeline, runner
from privpip import target as target_mod
from privpip.completion import complete_index_names
from privpip.errors import UsageError
from privpip.target import Target

_PYTHON_NAME = re.compile(r"^python(?:\d+(?:\.\d+)?)?(?:\.exe)?$")


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100,
                      "ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--index", "-x", "indexes", multiple=True, metavar="NAME",
              shell_complete=complete_index_names,
              help="Use only this configured index (repeatable). Default: all of them.")
@click.option("--python", metavar="PATH",
              help="The Python whose netrc parser reads the credentials (only matters for "
              "tokens with spaces, quotes or backslashes). Default: the active virtual or "
              "conda environment, else COMMAND itself when it is a Python interpreter or a "
              "Python script, else the Python 3.11+ form.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def run(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
        command: tuple[str, ...]) -> None:
    """Run COMMAND with the private indexes and their credentials in its environment.

    \b
    COMMAND gets, for every tool at once:
      pip, pip-tools, build   PIP_INDEX_URL / PIP_EXTRA_INDEX_URL (no credentials in them)
                              and NETRC pointing at a private netrc file with the tokens
      uv                      UV_DEFAULT_INDEX / UV_INDEX (name=url) and
                              UV_INDEX_<NAME>_USERNAME / UV_INDEX_<NAME>_PASSWORD
      anything else           NETRC (curl --netrc, requests, httpx, ...)

    The netrc file is removed when COMMAND ends; COMMAND's exit status becomes privpip's.

    \b
      privpip run -- python -m build
      privpip run -- uv pip install corp-lib
      privpip run -- pip-compile -o requirements.txt requirements.in
    """
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("no COMMAND given", "usage: privpip run [OPTIONS] -- COMMAND [ARGS]...")
    accesses = pipeline.resolve_accesses(session, indexes)
    target = netrc_reader(python, argv, session.env)
    if target is not None:
        session.note(f"netrc reader: {target.python} (from {target.why})")
    elif delivery.needs_target_version(accesses):
        session.note("netrc reader: unknown (no --python, no active environment, COMMAND is not "
                     "Python); tokens with spaces, quotes or backslashes are written in the "
                     "quoted form that Python 3.11+ reads; pass --python for an older Python")
    uv_env = delivery.uv_variables(accesses, with_credentials=True)
    status = pipeline.run_with_netrc(session, accesses, argv, target, extra_env=uv_env)
    runner.exit_with(status)


def netrc_reader(python: str | None, argv: Sequence[str], env: Mapping[str, str]) -> Target | None:
    """The Python that will most likely parse the netrc: --python, the active environment,
    or COMMAND when it is an interpreter or a script with a Python shebang; None if unknown."""
    if python:
        return target_mod.find(python, env)
    if env.get("VIRTUAL_ENV") or env.get("CONDA_PREFIX"):
        found = target_mod.find(None, env)
        if found.why != "PATH":
            return found
    program = shutil.which(argv[0], path=env.get("PATH")) if os.sep not in argv[0] else argv[0]
    if program is None:
        return None
    if _PYTHON_NAME.match(Path(argv[0]).name):
        return Target(program, "COMMAND")
    interpreter = _shebang_python(Path(program), env)
    return Target(interpreter, f"the #! line of {argv[0]}") if interpreter else None


def _shebang_python(script: Path, env: Mapping[str, str]) -> str | None:
    try:
        with script.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if words and Path(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        found = shutil.which(words[0], path=env.get("PATH")) if words else None
        words = [found] if found else []
    if words and _PYTHON_NAME.match(Path(words[0]).name) and Path(words[0]).exists():
        return words[0]
    return None


# ---------------------------------------------------------------------------
# `privpip install --installer uv`


def find_uv(env: Mapping[str, str]) -> str:
    """The uv executable: on PATH, else the one the `uv` package installed next to privpip."""
    found = shutil.which("uv", path=env.get("PATH"))
    if found:
        return found
    try:
        from uv import find_uv_bin  # the PyPI `uv` package

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    raise UsageError(
        "--installer uv: uv is not installed (no `uv` on PATH)",
        "install it (`pipx install uv`, `pip install uv`, or see https://docs.astral.sh/uv/), "
        "or use --installer pip",
    )


def install_with_uv(session: pipeline.Session, accesses: Sequence[delivery.Access],
                    target: Target, args: Sequence[str]) -> int:
    """`uv pip install --python TARGET ARGS...`: uv's index variables, the token in a netrc."""
    argv = [find_uv(session.env), "pip", "install", "--python", target.python, *args]
    return pipeline.run_uv(session, accesses, argv)
