"""`privpip index add/remove/list`: edit the [[index]] tables of a config file (comments kept),
or list every index with the file it comes from."""

from __future__ import annotations

import os
from pathlib import Path

import click

from privpip import config
from privpip.cli.completion import complete_index_names
from privpip.cli.options import CONTEXT
from privpip.config import edit as config_edit
from privpip.config.schema import check_index_arguments
from privpip.context import Context
from privpip.core.identity import DEFAULT_USERNAME
from privpip.core.secret import redact
from privpip.errors import ConfigError

USER_HELP = ("Edit your user config file instead of the project's (created when missing): "
             "for an index you use outside any project.  [file: $PRIVPIP_USER_CONFIG, else "
             "~/.config/privpip/config.toml on Linux]")


@click.group(context_settings=CONTEXT)
def index() -> None:
    """Add or remove an index in the project's config file (comments are kept).

    The file is the one privpip reads: --config PATH / PRIVPIP_CONFIG, else the nearest
    privpip.toml or pyproject.toml with [tool.privpip] from the current directory up;
    with --user, your user config file. `privpip index list` shows every index in use.
    """


# How `index add` names each key in an error: its argument, not a key path of a file.
_ARGUMENTS = {"name": "argument NAME", "url": "argument URL", "username": "--username",
              "token-env": "--token-env", "default": "--default", "auth": "--no-auth",
              "packages": "--packages"}


@index.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.argument("url")
@click.option("--default", "is_default", is_flag=True,
              help="This index replaces PyPI (pip --index-url). Otherwise it is an extra index.")
@click.option("--username", "-u", metavar="USER",
              help=f"HTTP basic-auth username (default: {DEFAULT_USERNAME}).")
@click.option("--token-env", "token_env", multiple=True, metavar="VAR",
              help="Also read the token from this environment variable (repeatable), "
              "e.g. CI_JOB_TOKEN.")
@click.option("--no-auth", is_flag=True, help="The index needs no credential (auth = false).")
@click.option("--packages", "packages", multiple=True, metavar="PATTERN",
              help="A package name or glob this index owns, e.g. 'corp-*' (repeatable; the "
              "`packages` key): those names come only from this index, and it is asked for "
              "nothing else, so that other names install while it is down.")
@click.option("--user", "user", is_flag=True, help=USER_HELP)
@click.pass_obj
def index_add(ctx: Context, name: str, url: str, is_default: bool, username: str | None,
              token_env: tuple[str, ...], no_auth: bool, packages: tuple[str, ...],
              user: bool) -> None:
    """Append an [[index]] table for NAME at URL to the config file.

    \b
      privpip index add corp https://pypi.example.com/simple/ --default
      privpip index add gl https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple \\
          --username gitlab+deploy-token-7
      privpip index add --user corp https://pypi.example.com/simple/ --default
      privpip index add corp https://pypi.example.com/simple/ --packages 'corp-*'

    \b
    Without --packages, each name comes from the first index in order that has it (extra
    indexes first, PyPI last): a private name is never taken from a later index. With it,
    those names come only from this index, and other names never ask it.
    """
    path = _user_file(ctx, create=True) if user else _config_file(ctx)
    fields: dict[str, object] = {"name": name, "url": url}
    if is_default:
        fields["default"] = True
    if username:
        fields["username"] = username
    if token_env:
        fields["token-env"] = token_env[0] if len(token_env) == 1 else list(token_env)
    if no_auth:
        fields["auth"] = False
    if packages:
        fields["packages"] = list(packages)
    check_index_arguments(fields, _ARGUMENTS)
    text, added = config_edit.add_index(path, fields)
    _write_keeping_trust(ctx, path, text)
    role = "default" if added.default else "extra"
    click.echo(f"privpip: added index {added.name} ({role}) to {config.label(path)}")
    for hint in config_edit.url_hints(added.url, added.env_name):
        click.echo(f"  hint: {hint}", err=True)
    if added.auth:
        click.echo(f"next: privpip login {added.name}   (or set "
                   f"PRIVPIP_INDEX_{added.env_name}_TOKEN)")


@index.command("remove", context_settings=CONTEXT)
@click.argument("name", shell_complete=complete_index_names)
@click.option("--user", "user", is_flag=True, help="Edit your user config file instead of "
              "the project's.")
@click.pass_obj
def index_remove(ctx: Context, name: str, user: bool) -> None:
    """Remove the [[index]] table named NAME from the config file.

    A token stored with `privpip login NAME` stays in the keyring: run
    `privpip logout NAME` first to remove it too.
    """
    path = _user_file(ctx, create=False) if user else _config_file(ctx)
    text = config_edit.remove_index(path, name)
    _write_keeping_trust(ctx, path, text)
    click.echo(f"privpip: removed index {name} from {config.label(path)}")


@index.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def index_list(ctx: Context, as_json: bool) -> None:
    """List every index (and [[git]] host) privpip uses here, with the file it comes from.

    The project file and your user file are merged: a project index hides a user index of
    the same name, and the notes below the table say so.

    \b
      privpip index list
      privpip index list --json
    """
    import sys

    from privpip.cli.status import SCHEMA_VERSION, config_files
    from privpip.ui import terminal

    cfg = ctx.config
    files = config_files(cfg, ctx.env)
    if as_json:
        import json

        out = {
            "schema_version": SCHEMA_VERSION,
            "config_files": [{"path": os.path.abspath(p), "scope": s} for p, s in files],
            "indexes": [{"name": i.name, "url": redact(i.url),
                         "role": "default" if i.default else "extra",
                         "packages": list(i.packages), "file": i.origin}
                        for i in cfg.indexes],
            "git_hosts": [{"host": g.host, "username": g.default_username, "file": g.origin}
                          for g in cfg.git_hosts],
            "notes": list(cfg.notes),
        }
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    lines: list[terminal.Line] = [[("config: ", ""), (f"{config.label(p)} ({s})", "")]
                                  for p, s in files]
    if not files:
        user = config.user_config_file(ctx.env)
        lines.append([(f"no config file here, and no {user}", "")])
    limit = terminal.width(ctx.env, sys.stdout)
    if cfg.indexes:
        rows: list[list[terminal.Cell]] = [
            [(i.name, "bold"), (redact(i.url), ""), ("default" if i.default else "extra", ""),
             (" ".join(i.packages) or "-", ""), (i.origin, "")]
            for i in cfg.indexes]
        lines += terminal.layout(["NAME", "URL", "ROLE", "PACKAGES", "FILE"], rows, limit,
                                 wrap=1)
    if cfg.git_hosts:
        rows = [[(g.host, "bold"), (g.default_username, ""), (g.origin, "")]
                for g in cfg.git_hosts]
        lines += terminal.layout(["GIT HOST", "USERNAME", "FILE"], rows, limit)
    if not cfg.indexes and not cfg.git_hosts:
        lines.append([("no index is configured; add one with `privpip index add NAME URL` "
                       "(or --user for your user file)", "")])
    lines += [[(note, "")] for note in cfg.notes]
    terminal.echo_lines(lines, ctx.env)


def _user_file(ctx: Context, create: bool) -> Path:
    """The user config file; created (with its directory and a commented header) for add."""
    if ctx.config_path:
        from privpip.errors import UsageError

        raise UsageError("--user and --config (or PRIVPIP_CONFIG) name different files",
                         "drop one of them; PRIVPIP_USER_CONFIG chooses another user file")
    path = config.user_config_file(ctx.env)
    if path.is_file():
        return path
    if not create:
        raise ConfigError(str(path), "no such config file",
                          "add an index to it with `privpip index add --user NAME URL`")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        config_edit.write_atomic(path, config_edit.user_starter(), exclusive=True)
    except FileExistsError:
        pass  # written meanwhile by another privpip: use it
    except OSError as exc:
        raise ConfigError(str(path), f"cannot create: {exc.strerror}",
                          "set PRIVPIP_USER_CONFIG to a file in a writable directory") from None
    return path


def _write_keeping_trust(ctx: Context, path: Path, text: str) -> None:
    """Write ``text``; a file the user trusted stays trusted: the change is the user's own."""
    from privpip.config import trust
    from privpip.config.schema import token_commands

    before = path.read_bytes()
    config_edit.write_atomic(path, text)
    if trust.keep_after_edit(path, before, ctx.env, token_commands(path, ctx.env)):
        ctx.note(f"{path}: still trusted (privpip trust)")


def _config_file(ctx: Context) -> Path:
    if ctx.config_path:
        path = Path(ctx.config_path)
        if not path.is_file():
            raise ConfigError(str(path), "no such config file",
                              "create it with `privpip init`")
        return path
    found = config.find_project_file(ctx.cwd, ctx.env)
    if found is None:
        raise ConfigError("", f"no {config.PROJECT_FILE} (or {config.PYPROJECT_FILE} with "
                          "[tool.privpip]) in this directory or above",
                          "create one with `privpip init` (or `privpip init --pyproject`); "
                          "outside a project, add --user to use your user config file")
    return found
