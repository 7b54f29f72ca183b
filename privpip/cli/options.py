"""Options and settings shared by several commands, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from privpip.cli.completion import complete_index_names

CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Commands that pass the rest of their command line on to another program.
PASSTHROUGH: dict[str, Any] = {**CONTEXT, "ignore_unknown_options": True,
                               "allow_interspersed_args": False}

F = TypeVar("F", bound=Callable[..., Any])


class PassThrough(click.Command):
    """A command whose unknown options go on to another program: no "did you mean" search.

    click tries every option as one of its own first and builds the NoSuchOption that is
    then ignored with its close matches, importing difflib each run for nothing (each pip
    option passed through is one such miss). Parsing itself stays click's.
    """

    def make_parser(self, ctx: click.Context) -> Any:
        parser = super().make_parser(ctx)
        match_long = getattr(parser, "_match_long_opt", None)
        long_opts = getattr(parser, "_long_opt", None)
        if match_long is None or not isinstance(long_opts, dict):
            return parser  # another click: its parser is used as it is

        def without_suggestions(opt: str, *args: Any) -> None:
            if opt not in long_opts:
                raise click.NoSuchOption(opt, ctx=ctx)
            match_long(opt, *args)

        setattr(parser, "_match_long_opt", without_suggestions)  # noqa: B010 - a private method
        return parser
USE_ALL = "Use only this configured index (repeatable). Default: all of them."


def index_option(help: str = USE_ALL, multiple: bool = True,  # noqa: A002 - click's name
                 dest: str = "indexes") -> Callable[[F], F]:
    """``--index NAME`` / ``-x NAME``: a configured index, completed from the config."""
    return click.option("--index", "-x", dest, multiple=multiple, metavar="NAME",
                         shell_complete=complete_index_names, help=help)


def python_option(help: str) -> Callable[[F], F]:  # noqa: A002 - click's name
    """``--python PATH``: the target interpreter or environment."""
    return click.option("--python", metavar="PATH", help=help)


TARGET_HELP = ("Target interpreter or environment directory. Default: the active virtual or "
               "conda environment, else python3 on PATH.")


def pip_options(command: F) -> F:
    """--index, --python, --allow-public and --delivery, as `install` and `pip` take them."""
    command = delivery_option(command)
    command = index_option()(command)
    command = python_option(TARGET_HELP)(command)
    command = click.option(
        "--allow-public", "allow_public", multiple=True, metavar="NAME",
        help="With --delivery netrc: install NAME even though an index owns it (its "
        "`packages`) and it also exists on the public index in play (repeatable). Only for a "
        "public project that is yours.",
    )(command)
    return skip_index_option(command)


def skip_index_option(command: F) -> F:
    """``--skip-index NAME``: leave an index out of this run (the local index only)."""
    return click.option(
        "--skip-index", "skip", multiple=True, metavar="NAME",
        help="Leave index NAME out of this run, e.g. a private index that cannot be reached "
        "(repeatable; the names privpip's messages use, `public` included). Not for an index "
        "that declares `packages`: other names never wait for it.",
    )(command)


def delivery_option(command: F) -> F:
    """``--delivery local|netrc``: how pip and uv get the credentials."""
    return click.option(
        "--delivery", type=click.Choice(["local", "netrc"]), default=None,
        envvar="PRIVPIP_DELIVERY",
        help="local: a per-run index on 127.0.0.1 holds the tokens and routes each package to "
        "the index that owns it (pip sees no token); netrc: pip talks to the indexes itself, "
        "tokens in a private netrc file. Default: the config's `delivery` key, else local.  "
        "[env: PRIVPIP_DELIVERY]")(command)
# Commands whose every argument after the command name belongs to pip: their own -v and
# --no-input mean pip's, so privpip's global flags go before the command name there.
TO_PIP = frozenset({"install", "pip"})


def _set_global(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """A global flag given after the command name: it changes the run's Context as if it had
    come before (the root group made the Context before this command's options are parsed)."""
    from privpip.context import Context

    run = ctx.find_object(Context)
    if run is None or value in (None, False):
        return
    if param.name == "config_path":
        run.config_path = str(value)
    elif param.name == "verbose":
        run.verbose = True
    elif param.name == "no_input":
        run.interactive = False


def _global_params() -> list[click.Parameter]:
    return [
        click.Option(["--config", "config_path"], metavar="PATH", expose_value=False,
                     callback=_set_global, help="Same as `privpip --config PATH COMMAND`."),
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                     callback=_set_global, help="Same as `privpip -v COMMAND`."),
        click.Option(["--no-input"], is_flag=True, expose_value=False, callback=_set_global,
                     help="Same as `privpip --no-input COMMAND`."),
    ]


def accept_global_options(command: click.Command) -> None:
    """Let ``command`` (and a group's subcommands) take -v, --config and --no-input after its
    name too; once per command object, never for the commands in TO_PIP."""
    if getattr(command, "_privpip_globals", False):
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    command.params.extend(p for p in _global_params() if not set(p.opts) & taken)
    command._privpip_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_global_options(sub)
