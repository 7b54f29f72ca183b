"""The click commands: each parses, calls the pipeline, prints. Errors become messages here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from privpip import __version__, shells
from privpip.errors import PrivpipError
from privpip.secret import redact

if TYPE_CHECKING:
    from privpip import pipeline

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PASSTHROUGH = {**CONTEXT, "ignore_unknown_options": True, "allow_interspersed_args": False}

# Commands that live in their own modules, imported only when they run (fast start-up).
LAZY_COMMANDS: dict[str, str] = {
}


class LazyGroup(click.Group):
    """A group whose LAZY_COMMANDS are imported on first use, not at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            import importlib

            module, _, attr = LAZY_COMMANDS[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="privpip")
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
    variables, the OS keyring (service = index URL), or a hidden prompt on a terminal.

    \b
      privpip install mypackage     pip install, authenticated
      privpip pip download foo      any pip command
      eval "$(privpip env)"         export PIP_*/UV_* variables into a shell
    """
    from privpip.pipeline import Session  # not needed for --help: keep it off that path

    ctx.obj = Session(
        env=dict(os.environ),
        cwd=Path.cwd(),
        config_path=config_path,
        verbose=verbose,
        interactive=not no_input and sys.stdin is not None and sys.stdin.isatty(),
    )


F = TypeVar("F", bound=Callable[..., None])


def _pip_options(command: F) -> F:
    command = click.option(
        "--index", "-x", "indexes", multiple=True, metavar="NAME",
        help="Use only this configured index (repeatable). Default: all of them.",
    )(command)
    command = click.option(
        "--python", metavar="PATH",
        help="Target interpreter or environment directory. Default: the active virtual or "
        "conda environment, else python3 on PATH.",
    )(command)
    return command


def _run_pip(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
             pip_args: list[str]) -> None:
    from privpip import pipeline, runner
    from privpip import target as target_mod

    accesses = pipeline.resolve_accesses(session, indexes)
    target = target_mod.find(python, session.env)
    session.note(f"target: {target.python} (from {target.why})")
    status = pipeline.run_with_netrc(session, accesses, [target.python, "-m", "pip", *pip_args],
                                     target)
    runner.exit_with(status)


@cli.command(context_settings=PASSTHROUGH)
@_pip_options
@click.argument("pip_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def install(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
            pip_args: tuple[str, ...]) -> None:
    """Run `pip install PIP_ARGS...` with the private indexes and their credentials.

    privpip's own options come first; everything after them goes to pip unchanged:

    \b
      privpip install -r requirements.txt
      privpip install --index corp --python .venv -- corp-lib==1.2
    """
    _run_pip(session, indexes, python, ["install", *pip_args])


@cli.command(context_settings=PASSTHROUGH)
@_pip_options
@click.argument("pip_args", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def pip(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
        pip_args: tuple[str, ...]) -> None:
    """Run any pip command (download, wheel, index versions, lock, ...) authenticated.

    \b
      privpip pip download corp-lib -d dist/
      privpip pip index versions corp-lib
    """
    _run_pip(session, indexes, python, list(pip_args))


@cli.command(context_settings=CONTEXT)
@click.option("--shell", "shell", type=click.Choice(shells.SHELLS), default=None,
              help="Syntax to print. Default: from $SHELL.")
@click.option("--index", "-x", "indexes", multiple=True, metavar="NAME",
              help="Only this configured index (repeatable).")
@click.option("--unset", is_flag=True, help="Print the commands that remove the variables.")
@click.pass_obj
def env(session: pipeline.Session, shell: str | None, indexes: tuple[str, ...],
        unset: bool) -> None:
    """Print PIP_INDEX_URL / PIP_EXTRA_INDEX_URL and uv's UV_* variables, with credentials.

    For a shell or a CI step that cannot run through privpip:

    \b
      eval "$(privpip env)"                     bash, zsh, sh
      privpip env --shell fish | source
      privpip env --shell powershell | Invoke-Expression
      privpip env --shell dotenv > .env         (keep .env out of git)

    The output contains tokens: it is meant to be evaluated, not shown or stored.
    Prefer `privpip install` / `privpip pip`, which never put a token in a URL.
    """
    from privpip import delivery, pipeline

    shell = shell or shells.detect(session.env)
    if unset:
        cfg = session.load_config()
        names = ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX"]
        for index in cfg.select(indexes):
            names += [f"UV_INDEX_{index.env_name}_USERNAME", f"UV_INDEX_{index.env_name}_PASSWORD"]
        click.echo(shells.unset(shell, names), nl=False)
        return
    accesses = pipeline.resolve_accesses(session, indexes)
    variables = delivery.pip_variables(accesses, with_credentials=True)
    variables.update(delivery.uv_variables(accesses, with_credentials=True))
    text = shells.export(shell, variables)
    if sys.stdout.isatty():
        click.echo("privpip: this output holds tokens; use it as eval \"$(privpip env)\"",
                   err=True)
    # color=True: click.echo otherwise strips ANSI escape sequences when stdout is not a
    # terminal, silently cutting "\x1b[..m" out of a token (found by the shell fuzzer).
    click.echo(text, nl=False, color=True)


def main() -> None:
    """Console entry point: user errors get a message and an exit code; bugs get exit 70."""
    try:
        cli.main(prog_name="privpip", standalone_mode=False)
    except PrivpipError as exc:
        click.echo(f"privpip: error: {redact(exc.message)}", err=True)
        if exc.hint:
            click.echo(f"  hint: {redact(exc.hint)}", err=True)
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("\nprivpip: aborted", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        click.echo("\nprivpip: interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("PRIVPIP_DEBUG"):
            raise
        click.echo(f"privpip: internal error: {type(exc).__name__}: {redact(str(exc))}", err=True)
        click.echo("  hint: this is a bug in privpip; rerun with PRIVPIP_DEBUG=1 for a traceback "
                   "and report it", err=True)
        raise SystemExit(70) from None
