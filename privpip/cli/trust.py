"""`privpip trust`: record, list and revoke the project config files the user trusts."""

from __future__ import annotations

import os
from pathlib import Path

import click

from privpip.cli.options import CONTEXT
from privpip.context import Context


@click.command(context_settings=CONTEXT)
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--list", "show", is_flag=True, help="List the trusted files and whether each "
              "still has the content you trusted.")
@click.option("--revoke", is_flag=True, help="Remove the trust record of PATH (default: the "
              "project's config file).")
@click.pass_obj
def trust(ctx: Context, path: str | None, show: bool, revoke: bool) -> None:
    """Trust a project config file, so its token-command and token-env take effect.

    A project file's names and URLs always work; its settings that run a command
    (token-command, a provider's CLI such as aws or gcloud) or send a variable (token-env)
    are ignored until you trust the file's exact content. A changed file needs trusting
    again. Default PATH: the project's privpip.toml (or pyproject.toml with [tool.privpip]).

    With CI=true (GitLab CI, GitHub Actions) or PRIVPIP_TRUST=1 every project file is trusted.

    \b
      privpip trust                 trust the project's config file as it is now
      privpip trust --list
      privpip trust --revoke
    """
    from privpip.config import trust as records
    from privpip.config.schema import read_file
    from privpip.errors import UsageError

    env = ctx.env
    if show:
        if path or revoke:
            raise UsageError("--list takes no PATH and no --revoke")
        found = records.read_records(env)
        if not found:
            click.echo("privpip: no trusted files")
        for name, record in found.items():
            try:
                content = Path(name).read_bytes()
                state = ("trusted" if records.is_trusted(Path(name), content, {})
                         else "changed since trusted (not trusted)")
            except OSError:
                state = "missing"
            pinned = f" (and {len(record['files'])} file(s) its commands name)" \
                if record["files"] else ""
            click.echo(f"{name}  sha256:{record['sha256'][:16]}  {state}{pinned}")
        return
    target = _target(ctx, path)
    if revoke:
        real = records.revoke(target, env)
        click.echo(f"privpip: {real} is no longer trusted")
        return
    parsed = read_file(target, env)  # a file privpip cannot read is not worth trusting
    # The bytes just parsed are the ones trusted, with the commands they name.
    real, record = records.trust(target, env,
                                 [i.token_command for i in parsed.indexes if i.token_command],
                                 parsed.content)
    click.echo(f"privpip: trusted {real} (sha256:{record['sha256'][:16]})")
    for name, sha in record["files"].items():
        if sha is not None:  # a word that names no file is pinned too, but not worth a line
            click.echo(f"  and {name} (sha256:{sha[:16]}), which a command of it runs")
    lines = records.effects(parsed.indexes, parsed.git_hosts, parsed.settings, trusted=True)
    if lines:
        click.echo("from now on, when a token is needed:\n" + "\n".join(lines))
    if records.env_trusts(env):
        click.echo("privpip: note: CI=true or PRIVPIP_TRUST=1 is set, which trusts every "
                   "project file anyway", err=True)


def _target(ctx: Context, path: str | None) -> Path:
    from privpip import config
    from privpip.errors import ConfigError, UsageError

    if path:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such file")
        return Path(path)
    if ctx.config_path:
        return Path(ctx.config_path)
    found = config.find_project_file(ctx.cwd, ctx.env)
    if found is None:
        raise ConfigError("", f"no {config.PROJECT_FILE} (or {config.PYPROJECT_FILE} with "
                          "[tool.privpip]) in this directory or above that privpip may read",
                          "pass the file: privpip trust PATH")
    return found
