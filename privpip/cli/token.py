"""`privpip token NAME`: one index's token on stdout, for a tool that takes neither keyring nor
a netrc file."""

from __future__ import annotations

import sys

import click

from privpip.cli.options import CONTEXT
from privpip.context import Context


@click.command(context_settings=CONTEXT,
               short_help="Print the token of index NAME on stdout, for a pipe.")
@click.argument("name")
@click.option("--show", is_flag=True,
              help="Print the token even when stdout is a terminal.")
@click.pass_obj
def token(ctx: Context, name: str, show: bool) -> None:
    """Print the token privpip would use for index NAME on stdout, and nothing else.

    For a tool that asks neither keyring nor a netrc file (like `gh auth token`):

    \b
      privpip token corp | gh secret set CORP_PYPI_TOKEN
      CORP_TOKEN="$(privpip token corp)" some-tool

    The token comes from the same sources, in the same order and under the same trust
    rules as for `privpip install`, but never from a prompt. To keep it off your screen,
    privpip refuses to print it to a terminal unless --show is given.
    """
    from privpip.errors import UsageError
    from privpip.run import pipeline

    if sys.stdout.isatty() and not show:
        raise UsageError("not printing the token to a terminal",
                         f"pipe it into the tool that needs it (`privpip token {name} | ...`), "
                         "or pass --show to see it")
    access = pipeline.resolve_accesses(ctx, [name], prompt=False)[0]
    if access.credential is None:
        raise UsageError(f"index {name!r} has auth = false: it has no token")
    # color=True: click.echo would otherwise strip what looks like an ANSI escape sequence
    # from a token when stdout is not a terminal.
    click.echo(access.credential.token.reveal(), color=True)
