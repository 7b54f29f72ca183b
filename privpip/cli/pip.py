"""`privpip pip PIP_ARGS...`: any pip command, authenticated."""

from __future__ import annotations

import click

from privpip.cli.options import PASSTHROUGH, PassThrough, pip_options
from privpip.config import Delivery
from privpip.context import Context


@click.command(cls=PassThrough, context_settings=PASSTHROUGH,
               short_help="Any pip command (download, wheel, index, lock, ...), authenticated.")
@pip_options
@click.argument("pip_args", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def pip(ctx: Context, indexes: tuple[str, ...], python: str | None,
        allow_public: tuple[str, ...], delivery: Delivery | None, skip: tuple[str, ...],
        pip_args: tuple[str, ...]) -> int:
    """Run any pip command (download, wheel, index versions, lock, ...) authenticated.

    \b
      privpip pip download corp-lib -d dist/
      privpip pip index versions corp-lib
    """
    from privpip.run import pipeline

    return pipeline.run_pip(ctx, indexes, python, list(pip_args), allow_public,
                            installer="pip", delivery=delivery, skip=skip)
