"""`privpip env`: print the index variables with credentials, for a shell or a CI step."""

from __future__ import annotations

import sys
from collections.abc import Mapping

import click

from privpip.cli.options import CONTEXT, index_option
from privpip.context import Context
from privpip.run import shells


@click.command(context_settings=CONTEXT,
               short_help="Print PIP_*/UV_* variables with credentials, for a shell or CI step.")
@click.option("--shell", "shell", type=click.Choice(shells.SHELLS), default=None,
              help="Syntax to print. Default: from $SHELL.")
@index_option("Only this configured index (repeatable).")
@click.option("--unset", is_flag=True, help="Print the commands that remove the variables.")
@click.pass_obj
def env(ctx: Context, shell: str | None, indexes: tuple[str, ...], unset: bool) -> None:
    """Print PIP_INDEX_URL / PIP_EXTRA_INDEX_URL and uv's UV_* variables, with credentials.

    For a shell or a CI step that cannot run through privpip:

    \b
      eval "$(privpip env)"                     bash, zsh, sh
      privpip env --shell fish | source
      privpip env --shell powershell | Invoke-Expression
      privpip env --shell dotenv > .env         (keep .env out of git)
      privpip env --shell github >> "$GITHUB_ENV"   GitHub Actions (masks on stderr)
      eval "$(privpip env --shell gitlab)"      GitLab CI before_script

    An index list the shell already has (PIP_EXTRA_INDEX_URL, UV_INDEX: the PyTorch index,
    say) is kept after privpip's; every value privpip replaces is saved in PRIVPIP_SAVED_<NAME>,
    and `privpip env --unset` puts it back exactly.

    The output contains tokens: it is meant to be evaluated, not shown or stored.
    Prefer `privpip install` / `privpip pip` / `privpip run`, which never put a token in a
    URL. For a long-running tool that cannot run under privpip (an IDE, tox, Poetry,
    `docker build --network host`), prefer `privpip serve`: the tool then gets a local
    index with a credential that ends with the session, and no upstream token.
    """
    from privpip.run import pipeline
    from privpip.run.delivery import pip as pip_delivery
    from privpip.run.delivery import uv

    shell = shell or shells.detect(ctx.env)
    if unset:
        # Exactly the variables the two functions below can set, from the same constants.
        names = [*pip_delivery.VARIABLES, *uv.variable_names(ctx.config.select(indexes))]
        restored, gone = _restored(names, ctx.env)
        text = shells.export(shell, restored) if restored else ""
        click.echo(text + shells.unset(shell, gone), nl=False)
        return
    accesses = pipeline.resolve_accesses(ctx, indexes)
    variables = pip_delivery.pip_variables(accesses, with_credentials=True)
    variables.update(uv.uv_variables(accesses, with_credentials=True))
    if shell != "netrc":
        variables = _keeping(variables, ctx.env, save=shell not in ("dotenv", "github"))
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


SAVED = "PRIVPIP_SAVED_"  # PRIVPIP_SAVED_<NAME>: the shell's value of NAME before `privpip env`
SET = "PRIVPIP_ENV_SET"  # the names `privpip env` set in this shell (a value there is ours)
_LISTS = ("PIP_EXTRA_INDEX_URL", "UV_INDEX")  # lists of indexes: the shell's entries are kept


def _keeping(variables: dict[str, str], env: Mapping[str, str], save: bool) -> dict[str, str]:
    """``variables`` with the shell's own index lists kept after privpip's, and (``save``)
    the shell's previous value of each variable privpip replaces in PRIVPIP_SAVED_<NAME>.

    When `privpip env` already ran in this shell, the shell's value is the saved one (or
    none): running it twice neither doubles a list nor takes privpip's value for the user's."""
    ours_before = env.get(SET, "").split()
    out = dict(variables)
    for name in variables:
        before = env.get(SAVED + name) if name in ours_before else env.get(name)
        if before is None:
            continue
        if name in _LISTS:
            ours = variables[name].split()
            out[name] = " ".join([*ours, *(v for v in before.split() if v not in ours)])
        if save:
            out[SAVED + name] = before
    if save:
        out[SET] = " ".join(variables)
    return out


def _restored(names: list[str], env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """For `env --unset`: the variables to set back to their saved value, and those to
    unset (the rest, the saved copies and the list of what privpip set)."""
    restored = {n: env[SAVED + n] for n in names if SAVED + n in env}
    gone = [n for n in names if n not in restored] + [SAVED + n for n in restored]
    return restored, gone + ([SET] if SET in env else [])
