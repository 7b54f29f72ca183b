"""`privpip audit`: which names the private indexes own that someone holds on the public index."""

from __future__ import annotations

import click

from privpip.cli.options import CONTEXT, index_option
from privpip.context import Context


@click.command(context_settings=CONTEXT)
@index_option("Audit only this configured index (repeatable). Default: all of them.")
@click.option("--public-index", metavar="URL", default=None,
              help="The public index to ask. Default: the config's public-index, else "
              "https://pypi.org/simple/.")
@click.pass_obj
def audit(ctx: Context, indexes: tuple[str, ...], public_index: str | None) -> int:
    """Report every package an index owns that also exists on the public index.

    An index owns the names its `packages` key matches, or, without that key, every name its
    simple page lists. For each, the public index is asked for /simple/NAME/:

    \b
      safe    owned, and the public index has no such name
      danger  owned, and someone holds the name on the public index (versions shown):
              `pip --extra-index-url` would install theirs if it is newer
      note    listed by the index but not matched by `packages` (not checked)

    Exit status: 0 all safe, 1 danger found, 2 an index or the public index could not be read.
    """
    from privpip import audit as audit_mod

    return audit_mod.run(ctx, indexes, public_index, click.echo)
