"""`privpip run -- COMMAND`: any command with the credentials in pip's, uv's and netrc's forms."""

from __future__ import annotations

import click

from privpip.cli.options import PASSTHROUGH, index_option, python_option
from privpip.context import Context
from privpip.errors import UsageError


@click.command(context_settings=PASSTHROUGH)
@index_option()
@python_option(
              help="The Python whose netrc parser reads the credentials (only matters for "
              "tokens with spaces, quotes or backslashes). Default: the active virtual or "
              "conda environment, else COMMAND itself when it is a Python interpreter or a "
              "Python script, else the Python 3.11+ form.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def run(ctx: Context, indexes: tuple[str, ...], python: str | None,
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
    from privpip import pipeline, runner
    from privpip.delivery.netrc import needs_target_version, netrc_reader
    from privpip.delivery.uv import uv_variables

    accesses = pipeline.resolve_accesses(ctx, indexes)
    target = netrc_reader(python, argv, ctx.env)
    if target is not None:
        ctx.note(f"netrc reader: {target.python} (from {target.why})")
    elif needs_target_version(accesses):
        ctx.note("netrc reader: unknown (no --python, no active environment, COMMAND is not "
                     "Python); tokens with spaces, quotes or backslashes are written in the "
                     "quoted form that Python 3.11+ reads; pass --python for an older Python")
    uv_env = uv_variables(accesses, with_credentials=True)
    from privpip.diagnose import after_failure, check_typed_tokens

    check_typed_tokens(ctx, accesses)
    status = pipeline.run_with_netrc(ctx, accesses, argv, target, extra_env=uv_env)
    after_failure(ctx, accesses, status)
    runner.exit_with(status)
