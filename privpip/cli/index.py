"""`privpip index add/remove`: edit the [[index]] tables of the config file, keeping comments."""

from __future__ import annotations

from pathlib import Path

import click

from privpip import config
from privpip.cli.completion import complete_index_names
from privpip.cli.options import CONTEXT
from privpip.config import edit as config_edit
from privpip.config.schema import check_index_arguments
from privpip.context import Context
from privpip.errors import ConfigError


@click.group(context_settings=CONTEXT)
def index() -> None:
    """Add or remove an index in the project's config file (comments are kept).

    The file is the one privpip reads: --config PATH / PRIVPIP_CONFIG, else the nearest
    privpip.toml or pyproject.toml with [tool.privpip] from the current directory up.
    """


# How `index add` names each key in an error: its argument, not a key path of a file.
_ARGUMENTS = {"name": "argument NAME", "url": "argument URL", "username": "--username",
              "token-env": "--token-env", "default": "--default", "auth": "--no-auth"}


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
def index_add(ctx: Context, name: str, url: str, is_default: bool, username: str | None,
              token_env: tuple[str, ...], no_auth: bool) -> None:
    """Append an [[index]] table for NAME at URL to the config file.

    \b
      privpip index add corp https://pypi.example.com/simple/ --default
      privpip index add gl https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple \\
          --username gitlab+deploy-token-7
    """
    path = _config_file(ctx)
    fields: dict[str, object] = {"name": name, "url": url}
    if is_default:
        fields["default"] = True
    if username:
        fields["username"] = username
    if token_env:
        fields["token-env"] = token_env[0] if len(token_env) == 1 else list(token_env)
    if no_auth:
        fields["auth"] = False
    check_index_arguments(fields, _ARGUMENTS)
    text, added = config_edit.add_index(path, fields)
    config_edit.write_atomic(path, text)
    role = "default" if added.default else "extra"
    click.echo(f"privpip: added index {added.name} ({role}) to {config.label(path)}")
    for hint in config_edit.url_hints(added.url, added.env_name):
        click.echo(f"  hint: {hint}", err=True)
    if added.auth:
        click.echo(f"next: privpip login {added.name}   (or set "
                   f"PRIVPIP_INDEX_{added.env_name}_TOKEN)")


@index.command("remove", context_settings=CONTEXT)
@click.argument("name", shell_complete=complete_index_names)
@click.pass_obj
def index_remove(ctx: Context, name: str) -> None:
    """Remove the [[index]] table named NAME from the config file.

    A token stored with `privpip login NAME` stays in the keyring: run
    `privpip logout NAME` first to remove it too.
    """
    path = _config_file(ctx)
    text = config_edit.remove_index(path, name)
    config_edit.write_atomic(path, text)
    click.echo(f"privpip: removed index {name} from {config.label(path)}")


def _config_file(ctx: Context) -> Path:
    if ctx.config_path:
        path = Path(ctx.config_path)
        if not path.is_file():
            raise ConfigError(str(path), "no such config file",
                              "create it with `privpip init`")
        return path
    found = config.find_project_file(ctx.cwd)
    if found is None:
        raise ConfigError("", f"no {config.PROJECT_FILE} (or {config.PYPROJECT_FILE} with "
                          "[tool.privpip]) in this directory or above",
                          "create one with `privpip init` (or `privpip init --pyproject`)")
    return found
