"""`privpip install PIP_ARGS...`: pip install (or uv pip install), authenticated."""

from __future__ import annotations

import click

from privpip.cli.options import PASSTHROUGH, PassThrough, pip_options
from privpip.config import Delivery, Installer
from privpip.context import Context


@click.command(cls=PassThrough, context_settings=PASSTHROUGH,
               short_help="pip install, with the private indexes and their credentials.")
@pip_options
@click.option("--installer", type=click.Choice(["pip", "uv"]), default=None,
              envvar="PRIVPIP_INSTALLER",
              help="Install with `pip install` or `uv pip install --python TARGET`. Default: "
              "the config's `installer` key, else pip.  [env: PRIVPIP_INSTALLER]")
@click.argument("pip_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def install(ctx: Context, indexes: tuple[str, ...], python: str | None,
            allow_public: tuple[str, ...], delivery: Delivery | None,
            installer: Installer | None, skip: tuple[str, ...],
            pip_args: tuple[str, ...]) -> int:
    """Run `pip install PIP_ARGS...` with the private indexes and their credentials.

    privpip's own options come first; everything after them goes to the installer unchanged:

    \b
      privpip install -r requirements.txt
      privpip install --index corp --python .venv -- corp-lib==1.2
      privpip install git+https://gitlab.example.com/group/dep.git@v1.2.3
      privpip install --installer uv -r requirements.txt

    pip talks only to a per-run index on 127.0.0.1 that holds the tokens: each name comes
    from the first index in order that has it (private first, PyPI last; never a merge), a
    package an index owns (its `packages` key) only from that index, dependencies included,
    and every other index pip would ask (pip.conf, PIP_INDEX_URL, -i / --extra-index-url) is
    routed through it. With --delivery netrc, an owned name that the public index also has
    is refused instead.

    git+https requirements on a host with a [[git]] table get their token from privpip
    through git's credential helper protocol, never in the URL (git 2.31+).
    """
    from privpip.run import pipeline

    return pipeline.run_pip(ctx, indexes, python, ["install", *pip_args], allow_public,
                            installer, delivery, skip)
