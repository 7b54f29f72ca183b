"""`privpip env`: print the index variables with credentials, for a shell or a CI step."""

from __future__ import annotations

import sys

import click

from privpip import shells
from privpip.cli.options import CONTEXT, index_option
from privpip.context import Context


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

    The output contains tokens: it is meant to be evaluated, not shown or stored.
    Prefer `privpip install` / `privpip pip` / `privpip run`, which never put a token in a
    URL. For a long-running tool that cannot run under privpip (an IDE, tox, Poetry,
    `docker build --network host`), prefer `privpip serve`: the tool then gets a local
    index with a credential that ends with the session, and no upstream token.
    """
    from privpip import pipeline
    from privpip.delivery import pip as pip_delivery
    from privpip.delivery import uv

    shell = shell or shells.detect(ctx.env)
    if unset:
        # Exactly the variables the two functions below can set, from the same constants.
        names = [*pip_delivery.VARIABLES, *uv.variable_names(ctx.config.select(indexes))]
        click.echo(shells.unset(shell, names), nl=False)
        return
    accesses = pipeline.resolve_accesses(ctx, indexes)
    variables = pip_delivery.pip_variables(accesses, with_credentials=True)
    variables.update(uv.uv_variables(accesses, with_credentials=True))
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
