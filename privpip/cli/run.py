"""`privpip run -- COMMAND`: any command with the credentials in pip's, uv's and netrc's forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from privpip.cli.options import (
    PASSTHROUGH,
    PassThrough,
    delivery_option,
    index_option,
    python_option,
    skip_index_option,
)
from privpip.config import Delivery
from privpip.context import Context
from privpip.errors import UsageError

if TYPE_CHECKING:
    from privpip.run.runner import Watcher


@click.command(cls=PassThrough, context_settings=PASSTHROUGH)
@index_option()
@delivery_option
@skip_index_option
@python_option(
              help="The Python whose netrc parser reads the credentials (only matters for "
              "tokens with spaces, quotes or backslashes). Default: the active virtual or "
              "conda environment, else COMMAND itself when it is a Python interpreter or a "
              "Python script, else the Python 3.11+ form.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def run(ctx: Context, indexes: tuple[str, ...], delivery: Delivery | None,
        skip: tuple[str, ...], python: str | None, command: tuple[str, ...]) -> int:
    """Run COMMAND with the private indexes and their credentials in its environment.

    \b
    COMMAND gets a per-run index on 127.0.0.1 that holds the tokens and routes each
    package to the index that owns it (it stops when COMMAND ends):
      pip, build, tox         PIP_INDEX_URL = the local index (no credential in it) and
                              NETRC pointing at a private netrc with its per-run credential
      uv                      UV_DEFAULT_INDEX = the local index, per-run credential inside
    No upstream token reaches COMMAND. When COMMAND is pip (pip, pip3.X, python -m pip) or
    uv pip, its index options (-i, --extra-index-url, --default-index, --index, in
    requirement files too) are routed or refused as `privpip pip` does. Tools that write
    index URLs into a lock file (uv lock/sync/add/run, pip-compile, pip lock, Poetry, PDM,
    pipenv, hatch) default to
    --delivery netrc, so the lock file holds the real URLs. With netrc, COMMAND gets the indexes
    themselves: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, UV_DEFAULT_INDEX / UV_INDEX and
    UV_INDEX_<NAME>_USERNAME / _PASSWORD, and NETRC with the tokens (curl --netrc, ...).

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
    from privpip.run.runner import Watcher

    # The watcher (Linux) ends what COMMAND started even when privpip is killed; started now,
    # its interpreter's start-up overlaps the work below.
    watcher = Watcher.start()
    try:
        return _run(ctx, indexes, delivery, skip, python, argv, watcher)
    finally:
        if watcher is not None:
            watcher.discard()  # nothing when it was handed over


def _run(ctx: Context, indexes: tuple[str, ...], delivery: Delivery | None,
         skip: tuple[str, ...], python: str | None, argv: list[str],
         watcher: Watcher | None) -> int:
    from privpip.core import pipargs
    from privpip.run import pipeline
    from privpip.run.delivery.netrc import needs_target_version, netrc_reader
    from privpip.run.delivery.uv import uv_variables

    how = pipeline.choose_delivery(ctx, delivery, argv)
    accesses = pipeline.resolve_accesses(ctx, indexes)
    # pip and `uv pip` are read as `privpip pip` reads pip (their own arguments); another
    # COMMAND's whole line only for git's delivery. One reading, for every step below.
    found = pipargs.installer_args_at(argv)
    start = found[0] if found is not None else len(argv)
    walk = pipargs.walk(argv[start:] if found is not None else argv, ctx.cwd)
    if how == "local":
        # pip's and uv pip's index options are taken over (or refused), their requirement
        # files read through private copies.
        if found is not None and found[1] == "uv" and any(
                a == "--config-file" or a.startswith("--config-file=") for a in argv):
            raise UsageError("uv --config-file: privpip cannot route the indexes of a file "
                             "given on uv's command line",
                             "set UV_CONFIG_FILE instead (privpip reads it as uv does)")
        at = walk.command_at if found is not None else None
        routed = pipeline.route(ctx, accesses, walk if found is not None else None,
                                argv[start + at] if at is not None else "install",
                                None, pip=True, uv=True, skip=skip)
        return pipeline.run_local(
            ctx, accesses, routed, [*argv[:start], *routed.args], walk, pip=True, uv=True,
            installs_into=pipeline.command_installs_into(ctx, python, argv),
            # Another COMMAND's own options (find-links) are not read.
            from_pages=found is not None, watcher=watcher)
    target = netrc_reader(python, argv, ctx.env)
    if target is not None:
        ctx.note(f"netrc reader: {target.python} (from {target.why})")
    elif needs_target_version(accesses):
        ctx.note("netrc reader: unknown (no --python, no active environment, COMMAND is not "
                     "Python); tokens with spaces, quotes or backslashes are written in the "
                     "quoted form that Python 3.11+ reads; pass --python for an older Python")
    uv_env = uv_variables(accesses, with_credentials=True)
    from privpip.checks.diagnose import after_failure, check_typed_tokens

    check_typed_tokens(ctx, accesses)
    status = pipeline.run_with_netrc(ctx, accesses, argv, walk, target, extra_env=uv_env,
                                     watcher=watcher)
    after_failure(ctx, accesses, status)
    return status
