"""`privpip completion SHELL`: print click's completion script for bash, zsh or fish."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_PRIVPIP_COMPLETE"


def script(root: click.Command, shell: str) -> str:
    from click.shell_completion import get_completion_class

    from privpip.completion import use_privpip_fish

    use_privpip_fish()
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - SHELLS are all built into click
        raise click.UsageError(f"no completion for {shell}")
    return cls(root, {}, "privpip", COMPLETE_VAR).source()


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               short_help="Print the shell completion script (bash, zsh, fish).")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    Index names complete from the config (`privpip install --index <TAB>`).

    \b
      bash:  eval "$(privpip completion bash)"         in ~/.bashrc
      zsh:   eval "$(privpip completion zsh)"          in ~/.zshrc, after compinit
      fish:  privpip completion fish > ~/.config/fish/completions/privpip.fish

    Packagers: the same scripts are in completions/ (privpip.bash, _privpip, privpip.fish).
    """
    click.echo(script(ctx.find_root().command, shell), nl=False)
