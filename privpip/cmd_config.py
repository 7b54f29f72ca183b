"""`privpip init` and `privpip index add/remove`: write the config file, keeping its comments."""

from __future__ import annotations

from pathlib import Path

import click

from privpip import config, config_edit
from privpip.cli import CONTEXT
from privpip.completion import complete_index_names
from privpip.errors import ConfigError, UsageError
from privpip.pipeline import Session


@click.command(context_settings=CONTEXT)
@click.option("--pyproject", is_flag=True,
              help="Add a [tool.privpip] table to ./pyproject.toml instead of writing "
              "./privpip.toml.")
@click.pass_obj
def init(session: Session, pyproject: bool) -> None:
    """Write a starter privpip.toml, with comments explaining each key.

    Never overwrites: an existing privpip.toml (or [tool.privpip] table) is left alone.

    \b
      privpip init
      privpip init --pyproject
    """
    own = session.cwd / config.PROJECT_FILE
    pyproject_file = session.cwd / config.PYPROJECT_FILE
    if pyproject:
        if not pyproject_file.is_file():
            raise UsageError(f"there is no {config.PYPROJECT_FILE} in this directory",
                             "run `privpip init` (without --pyproject) to write privpip.toml")
        if own.exists():
            raise UsageError(f"{config.PROJECT_FILE} exists here and is read instead of "
                             f"[tool.privpip] in {config.PYPROJECT_FILE}; nothing was written",
                             f"use {config.PROJECT_FILE}, or remove it first")
        text = config_edit.init_text(pyproject_file)
        config_edit.replace(pyproject_file, text)
        written = f"a [tool.privpip] table to {config.PYPROJECT_FILE}"
    else:
        if own.exists():
            raise UsageError(f"{config.PROJECT_FILE} already exists; it was not overwritten",
                             "edit it, or add an index with `privpip index add NAME URL`")
        if pyproject_file.is_file() and config_edit.has_privpip_table(
                config_edit.read(pyproject_file)):
            raise UsageError(f"{config.PYPROJECT_FILE} here already has a [tool.privpip] "
                             f"table; a {config.PROJECT_FILE} would hide it; nothing was written",
                             "add indexes there with `privpip index add NAME URL`")
        try:
            config_edit.create(own, config_edit.init_text(own))
        except FileExistsError:
            raise UsageError(f"{config.PROJECT_FILE} already exists; it was not "
                             "overwritten") from None
        written = config.PROJECT_FILE
    click.echo(f"privpip: wrote {written}")
    click.echo("next:\n"
               "  privpip index add NAME URL --default   the index that replaces PyPI\n"
               "  privpip login NAME                     store its token in the keyring\n"
               "  privpip status --check                 check every index's credential")


@click.group(context_settings=CONTEXT)
def index() -> None:
    """Add or remove an index in the project's config file (comments are kept).

    The file is the one privpip reads: --config PATH / PRIVPIP_CONFIG, else the nearest
    privpip.toml or pyproject.toml with [tool.privpip] from the current directory up.
    """


@index.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.argument("url")
@click.option("--default", "is_default", is_flag=True,
              help="This index replaces PyPI (pip --index-url). Otherwise it is an extra index.")
@click.option("--username", "-u", metavar="USER",
              help="HTTP basic-auth username (default: __token__).")
@click.option("--token-env", "token_env", multiple=True, metavar="VAR",
              help="Also read the token from this environment variable (repeatable), "
              "e.g. CI_JOB_TOKEN.")
@click.option("--no-auth", is_flag=True, help="The index needs no credential (auth = false).")
@click.pass_obj
def index_add(session: Session, name: str, url: str, is_default: bool, username: str | None,
              token_env: tuple[str, ...], no_auth: bool) -> None:
    """Append an [[index]] table for NAME at URL to the config file.

    \b
      privpip index add corp https://pypi.example.com/simple/ --default
      privpip index add gl https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple \\
          --username gitlab+deploy-token-7
    """
    path = _config_file(session)
    fields: dict[str, object] = {"name": name, "url": url}
    if is_default:
        fields["default"] = True
    if username:
        fields["username"] = username
    if token_env:
        fields["token-env"] = token_env[0] if len(token_env) == 1 else list(token_env)
    if no_auth:
        fields["auth"] = False
    text, added = config_edit.add_index(path, fields)
    config_edit.replace(path, text)
    role = "default" if added.default else "extra"
    click.echo(f"privpip: added index {added.name} ({role}) to {config._label(path)}")
    for hint in config_edit.url_hints(added.url, added.env_name):
        click.echo(f"  hint: {hint}", err=True)
    if added.auth:
        click.echo(f"next: privpip login {added.name}   (or set "
                   f"PRIVPIP_INDEX_{added.env_name}_TOKEN)")


@index.command("remove", context_settings=CONTEXT)
@click.argument("name", shell_complete=complete_index_names)
@click.pass_obj
def index_remove(session: Session, name: str) -> None:
    """Remove the [[index]] table named NAME from the config file.

    A token stored with `privpip login NAME` stays in the keyring: run
    `privpip logout NAME` first to remove it too.
    """
    path = _config_file(session)
    text = config_edit.remove_index(path, name)
    config_edit.replace(path, text)
    click.echo(f"privpip: removed index {name} from {config._label(path)}")


def _config_file(session: Session) -> Path:
    if session.config_path:
        path = Path(session.config_path)
        if not path.is_file():
            raise ConfigError(str(path), "no such config file",
                              "create it with `privpip init`")
        return path
    found = config.find_project_file(session.cwd)
    if found is None:
        raise ConfigError("", f"no {config.PROJECT_FILE} (or {config.PYPROJECT_FILE} with "
                          "[tool.privpip]) in this directory or above",
                          "create one with `privpip init` (or `privpip init --pyproject`)")
    return found
