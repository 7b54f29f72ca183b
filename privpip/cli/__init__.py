"""The command line: the root group, which builds the run's Context (the one place), and the
table of commands (each imported only when it runs). The entry point, main(), and the one place
where errors become messages and exit codes are in privpip.launch."""

from __future__ import annotations

import os
import sys

import click

from privpip import __version__
from privpip.cli.options import CONTEXT, TO_PIP, accept_global_options

# name: (module in privpip.cli, attribute, the one-line help `privpip --help` shows without
# importing the module; "" for a hidden command). A test checks that each matches the
# command's own short help, so it cannot go stale.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "install": ("install", "install",
                "pip install, with the private indexes and their credentials."),
    "pip": ("pip", "pip", "Any pip command (download, wheel, index, lock, ...), authenticated."),
    "env": ("env", "env", "Print PIP_*/UV_* variables with credentials, for a shell or CI step."),
    "login": ("login", "login", "Check a token for index NAME and store it in the OS keyring."),
    "logout": ("login", "logout", "Remove the token `privpip login NAME` stored in the OS "
               "keyring or privpip's token file."),
    "status": ("status", "status",
               "Show each configured index and where its credential comes from."),
    "init": ("init", "init", "Write a starter privpip.toml, with comments explaining each key."),
    "index": ("index", "index",
              "Add or remove an index in the project's config file (comments are kept)."),
    "audit": ("audit", "audit",
              "Report every package an index owns that also exists on the public index."),
    "run": ("run", "run",
            "Run COMMAND with the private indexes and their credentials in its environment."),
    "upload": (
        "upload", "upload",
        "Upload wheels and sdists to a private index with twine (`python -m twine upload`).",
    ),
    "scan": ("scan", "scan", "Find index and git-host tokens written into a project's files."),
    "migrate": ("migrate", "migrate",
                "Move the tokens `privpip scan` finds into privpip's config and the keyring."),
    "serve": ("serve", "serve", "Serve the private indexes as one local index on loopback."),
    "completion": ("completion", "completion",
                   "Print the shell completion script (bash, zsh, fish)."),
    "token": ("token", "token", "Print the token of index NAME on stdout, for a pipe."),
    "trust": ("trust", "trust",
              "Trust a project config file, so its token-command and token-env take effect."),
    "git-credential": ("git_credential", "git_credential", ""),
}


class LazyGroup(click.Group):
    """A group whose COMMANDS are imported on first use, not at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        import importlib

        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(f"privpip.cli.{module}"), attr)
        if name not in TO_PIP:
            accept_global_options(command)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's lookup, and for a name that is no command the closest one (`instal`)."""
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-") \
                and not ctx.resilient_parsing:
            from privpip.config.model import did_you_mean

            shown = [n for n, (_, _, short) in COMMANDS.items() if short]
            ctx.fail(f"No such command {name!r}{did_you_mean(name, shown)}.")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, _, short) in sorted(COMMANDS.items()) if short]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """click.version_option's output, without its gettext lookup at import time."""
    if value and not ctx.resilient_parsing:
        click.echo(f"privpip, version {__version__}", color=ctx.color)
        ctx.exit()


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
@click.option(
    "--config", "config_path", metavar="PATH", envvar="PRIVPIP_CONFIG",
    help="Config file to use instead of searching for privpip.toml / pyproject.toml "
    "from the current directory upwards.  [env: PRIVPIP_CONFIG]",
)
@click.option("-v", "--verbose", is_flag=True, help="Say which config, target and credential "
              "source each index uses (never the token).")
@click.option("--no-input", is_flag=True, envvar="PRIVPIP_NO_INPUT",
              help="Never prompt; fail instead when a token is missing.  [env: PRIVPIP_NO_INPUT]")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool, no_input: bool) -> None:
    """Install from private Python package indexes without writing a token into a file.

    The project commits privpip.toml (index names and URLs, never secrets); each index's
    token comes from, in order: PRIVPIP_INDEX_<NAME>_TOKEN, the index's token-env
    variables, the OS keyring (service = index URL), privpip's token file (where
    `login` found no keyring), the index's token-command (or its
    provider's CLI: aws, gcloud, az), the GitLab CI job token (inside GitLab CI, same
    host), or a hidden prompt on a terminal.

    \b
      privpip install mypackage     pip install, authenticated
      privpip pip download foo      any pip command
      eval "$(privpip env)"         export PIP_*/UV_* variables into a shell
    """
    # The order of sources above is credentials.INDEX_SOURCES (a test compares them); it is
    # written out here because importing that module would slow down `privpip --help`.
    from pathlib import Path

    from privpip.context import Context

    # ctx.obj comes in as what privpip.launch passed: pip's interpreter started ahead, if any.
    ctx.obj = Context(
        env=dict(os.environ),
        cwd=Path.cwd(),
        config_path=config_path,
        verbose=verbose,
        interactive=not no_input and sys.stdin is not None and sys.stdin.isatty(),
        pip_ahead=ctx.obj,
        confirm=_confirm,
    )


def _confirm(question: str) -> bool:
    return click.confirm(question, default=False, err=True)


@cli.result_callback()
@click.pass_context
def _exit_status(ctx: click.Context, status: int | None, /, **_params: object) -> None:
    """A command returns its exit status (privpip.errors' table, or its child's): click's
    main ends with it, run by privpip.launch (which returns it) or by click's test runner."""
    ctx.exit(status or 0)
