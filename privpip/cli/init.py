"""`privpip init`: write a starter config (privpip.toml, or a [tool.privpip] table)."""

from __future__ import annotations

import click

from privpip.cli.options import CONTEXT
from privpip.config import PROJECT_FILE, PYPROJECT_FILE, has_privpip_table
from privpip.config import edit as config_edit
from privpip.context import Context
from privpip.errors import UsageError


@click.command(context_settings=CONTEXT)
@click.option("--pyproject", is_flag=True,
              help="Add a [tool.privpip] table to ./pyproject.toml instead of writing "
              "./privpip.toml.")
@click.option("--user", is_flag=True,
              help="Write your user config file instead (for indexes you use outside any "
              "project; its directory is created).  [file: $PRIVPIP_USER_CONFIG, else "
              "~/.config/privpip/config.toml on Linux]")
@click.pass_obj
def init(ctx: Context, pyproject: bool, user: bool) -> None:
    """Write a starter privpip.toml, with comments explaining each key.

    Never overwrites: an existing privpip.toml (or [tool.privpip] table) is left alone.

    \b
      privpip init
      privpip init --pyproject
      privpip init --user             your own indexes, outside any project
    """
    if user:
        _init_user(ctx, pyproject)
        return
    own = ctx.cwd / PROJECT_FILE
    pyproject_file = ctx.cwd / PYPROJECT_FILE
    if pyproject:
        if not pyproject_file.is_file():
            raise UsageError(f"there is no {PYPROJECT_FILE} in this directory",
                             "run `privpip init` (without --pyproject) to write privpip.toml")
        if own.exists():
            raise UsageError(f"{PROJECT_FILE} exists here and is read instead of "
                             f"[tool.privpip] in {PYPROJECT_FILE}; nothing was written",
                             f"use {PROJECT_FILE}, or remove it first")
        text = config_edit.init_text(pyproject_file)
        config_edit.write_atomic(pyproject_file, text)
        written = f"a [tool.privpip] table to {PYPROJECT_FILE}"
    else:
        if own.exists():
            raise UsageError(f"{PROJECT_FILE} already exists; it was not overwritten",
                             "edit it, or add an index with `privpip index add NAME URL`")
        if pyproject_file.is_file() and has_privpip_table(
                config_edit.read(pyproject_file)):
            raise UsageError(f"{PYPROJECT_FILE} here already has a [tool.privpip] "
                             f"table; a {PROJECT_FILE} would hide it; nothing was written",
                             "add indexes there with `privpip index add NAME URL`")
        try:
            config_edit.write_atomic(own, config_edit.init_text(own), exclusive=True)
        except FileExistsError:
            raise UsageError(f"{PROJECT_FILE} already exists; it was not "
                             "overwritten") from None
        # You wrote it: trusted, so that a token you export reaches the indexes you add
        # (`privpip index add` keeps a trusted file trusted). A clone's file needs `trust`.
        from privpip.config import trust

        trust.trust(own, ctx.env, ())  # the starter file runs nothing
        written = PROJECT_FILE
    click.echo(f"privpip: wrote {written}")
    click.echo("next:\n"
               "  privpip index add NAME URL --default   the index that replaces PyPI\n"
               "  privpip index add NAME URL [--packages 'corp-*']\n"
               "                                         an extra index, asked before PyPI; "
               "--packages:\n"
               "                                         the only source of those names\n"
               "  privpip login NAME                     store its token in the keyring\n"
               "  privpip status --check                 check every index's credential")


def _init_user(ctx: Context, pyproject: bool) -> None:
    from privpip.config import label, user_config_file

    if pyproject:
        raise UsageError("--user and --pyproject name different files", "drop one of them")
    path = user_config_file(ctx.env)
    if path.exists():
        raise UsageError(f"{path} already exists; it was not overwritten",
                         "add an index with `privpip index add --user NAME URL`")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        config_edit.write_atomic(path, config_edit.user_starter(), exclusive=True)
    except FileExistsError:
        raise UsageError(f"{path} already exists; it was not overwritten") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}",
                         "set PRIVPIP_USER_CONFIG to a file in a writable directory") from None
    click.echo(f"privpip: wrote {label(path)}")
    click.echo("next:\n"
               "  privpip index add --user NAME URL --default   the index that replaces PyPI\n"
               "  privpip login NAME                            store its token in the keyring\n"
               "  privpip status --check                        check every index's credential")
