"""The click commands: each parses, calls the pipeline, prints. Errors become messages here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from privpip import __version__, shells
from privpip.completion import complete_index_names
from privpip.errors import PrivpipError
from privpip.secret import redact

if TYPE_CHECKING:
    from privpip import pipeline

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PASSTHROUGH = {**CONTEXT, "ignore_unknown_options": True, "allow_interspersed_args": False}

# Commands that live in their own modules, imported only when they run (fast start-up).
# name: (module:attribute, the one-line help `privpip --help` shows without importing it;
# "" for a hidden command; tests/test_startup.py checks that it matches the command's own).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("privpip.cmd_login:login",
              "Check a token for index NAME and store it in the OS keyring."),
    "logout": ("privpip.cmd_login:logout",
               "Remove the token `privpip login NAME` stored in the OS keyring."),
    "status": ("privpip.cmd_status:status",
               "Show each configured index and where its credential comes from."),
    "init": ("privpip.cmd_config:init",
             "Write a starter privpip.toml, with comments explaining each key."),
    "index": ("privpip.cmd_config:index",
              "Add or remove an index in the project's config file (comments are kept)."),
    "audit": ("privpip.cmd_audit:audit",
              "Report every package an index owns that also exists on the public index."),
    "run": ("privpip.cmd_run:run",
            "Run COMMAND with the private indexes and their credentials in its environment."),
    "upload": (
        "privpip.cmd_upload:upload",
        "Upload wheels and sdists to a private index with twine (`python -m twine upload`).",
    ),
    "completion": ("privpip.cmd_completion:completion",
                   "Print the shell completion script (bash, zsh, fish)."),
    "git-credential": ("privpip.cmd_git:git_credential", ""),
}


class LazyGroup(click.Group):
    """A group whose LAZY_COMMANDS are imported on first use, not at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            import importlib

            module, _, attr = LAZY_COMMANDS[name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                if LAZY_COMMANDS[name][1]:  # "" marks a hidden command
                    rows.append((name, LAZY_COMMANDS[name][1]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=200)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


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
    variables, the OS keyring (service = index URL), the index's token-command (or its
    provider's CLI: aws, gcloud, az), the GitLab CI job token (inside GitLab CI, same
    host), or a hidden prompt on a terminal.

    \b
      privpip install mypackage     pip install, authenticated
      privpip pip download foo      any pip command
      eval "$(privpip env)"         export PIP_*/UV_* variables into a shell
    """
    from pathlib import Path

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
        shell_complete=complete_index_names,
        help="Use only this configured index (repeatable). Default: all of them.",
    )(command)
    command = click.option(
        "--python", metavar="PATH",
        help="Target interpreter or environment directory. Default: the active virtual or "
        "conda environment, else python3 on PATH.",
    )(command)
    command = click.option(
        "--allow-public", "allow_public", multiple=True, metavar="NAME",
        help="Install NAME even though an index owns it (its `packages`) and it also exists "
        "on the public index in play (repeatable). Only for a public project that is yours.",
    )(command)
    return command


def _run_pip(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
             pip_args: list[str], allow_public: tuple[str, ...] = (),
             installer: str | None = None) -> None:
    from privpip import pipeline, runner
    from privpip import target as target_mod

    cfg = session.load_config()
    # `pip install ...`, also after pip's own flags (`pip -q install ...`).
    command_at = next((n for n, arg in enumerate(pip_args) if not arg.startswith("-")), None)
    if command_at is not None and pip_args[command_at] == "install":
        pipeline.check_dependency_confusion(session, indexes, pip_args[command_at + 1:],
                                            allow_public)
    accesses = pipeline.resolve_accesses(session, indexes, cfg)
    target = target_mod.find(python, session.env)
    session.note(f"target: {target.python} (from {target.why})")
    if installer is None:
        installer = cfg.installer or "pip"
        session.note(f"installer: {installer} (from {'config' if cfg.installer else 'default'})")
    if installer == "uv":
        from privpip import cmd_run

        status = cmd_run.install_with_uv(session, accesses, target, pip_args[1:])
    else:
        status = pipeline.run_with_netrc(
            session, accesses, [target.python, "-m", "pip", *pip_args], target)
    runner.exit_with(status)


@cli.command(context_settings=PASSTHROUGH,
             short_help="pip install, with the private indexes and their credentials.")
@_pip_options
@click.option("--installer", type=click.Choice(["pip", "uv"]), default=None,
              envvar="PRIVPIP_INSTALLER",
              help="Install with `pip install` or `uv pip install --python TARGET`. Default: "
              "the config's `installer` key, else pip.  [env: PRIVPIP_INSTALLER]")
@click.argument("pip_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def install(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
            allow_public: tuple[str, ...], installer: str | None,
            pip_args: tuple[str, ...]) -> None:
    """Run `pip install PIP_ARGS...` with the private indexes and their credentials.

    privpip's own options come first; everything after them goes to the installer unchanged:

    \b
      privpip install -r requirements.txt
      privpip install --index corp --python .venv -- corp-lib==1.2
      privpip install git+https://gitlab.example.com/group/dep.git@v1.2.3
      privpip install --installer uv -r requirements.txt

    When a requirement on the command line or in a -r file names a package that an index
    owns (its `packages` key) while a public index is also searched (no default index, or
    --extra-index-url), and the public index has that name, privpip refuses to install.

    git+https requirements on a host with a [[git]] table get their token from privpip
    through git's credential helper protocol, never in the URL (git 2.31+).
    """
    _run_pip(session, indexes, python, ["install", *pip_args], allow_public, installer)


@cli.command(context_settings=PASSTHROUGH,
             short_help="Any pip command (download, wheel, index, lock, ...), authenticated.")
@_pip_options
@click.argument("pip_args", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def pip(session: pipeline.Session, indexes: tuple[str, ...], python: str | None,
        allow_public: tuple[str, ...], pip_args: tuple[str, ...]) -> None:
    """Run any pip command (download, wheel, index versions, lock, ...) authenticated.

    \b
      privpip pip download corp-lib -d dist/
      privpip pip index versions corp-lib
    """
    _run_pip(session, indexes, python, list(pip_args), allow_public, installer="pip")


@cli.command(context_settings=CONTEXT,
             short_help="Print PIP_*/UV_* variables with credentials, for a shell or CI step.")
@click.option("--shell", "shell", type=click.Choice(shells.SHELLS), default=None,
              help="Syntax to print. Default: from $SHELL.")
@click.option("--index", "-x", "indexes", multiple=True, metavar="NAME",
              shell_complete=complete_index_names,
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
      privpip env --shell github >> "$GITHUB_ENV"   GitHub Actions (masks on stderr)
      eval "$(privpip env --shell gitlab)"      GitLab CI before_script

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
    if shell == "github":
        # Masks first, on stderr: the runner reads commands there too, and they must not
        # land in $GITHUB_ENV with the variables.
        from urllib.parse import quote

        tokens = [a.credential.token.reveal() for a in accesses if a.credential is not None]
        forms = [form for t in tokens for form in (t, quote(t, safe=""), quote(t))]
        click.echo(shells.github_masks(forms), nl=False, err=True)
        sys.stderr.flush()
    if sys.stdout.isatty():
        click.echo("privpip: this output holds tokens; use it as eval \"$(privpip env)\"",
                   err=True)
    # color=True: click.echo otherwise strips ANSI escape sequences when stdout is not a
    # terminal, silently cutting "\x1b[..m" out of a token (found by the shell fuzzer).
    click.echo(text, nl=False, color=True)


def main() -> None:
    """Console entry point: user errors get a message and an exit code; bugs get exit 70."""
    if os.environ.get("_PRIVPIP_COMPLETE", "").startswith("fish"):
        from privpip.completion import use_privpip_fish

        use_privpip_fish()
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
