"""`privpip completion SHELL`, and completing index names from the config.

Every index NAME argument or option passes ``shell_complete=complete_index_names``; no
credential is ever resolved here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_PRIVPIP_COMPLETE"


def configured_indexes(ctx: click.Context) -> list[tuple[str, str]]:
    """(name, url) of every configured index; [] when the config is missing or broken.

    Honours the group's ``--config`` / $PRIVPIP_CONFIG. Reads only the config files: no
    keyring, no environment token, no network. Completion must never print an error.
    """
    import os
    from pathlib import Path

    from privpip import config

    explicit = ctx.find_root().params.get("config_path")
    try:
        cfg = config.load(Path.cwd(), os.environ, explicit)
    except Exception:  # a half-written config while typing: just offer nothing
        return []
    return [(index.name, index.url) for index in cfg.indexes]


def complete_index_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """A click ``shell_complete`` callback: index names starting with ``incomplete``."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(name, help=url) for name, url in configured_indexes(ctx)
            if name.startswith(incomplete)]


# fish: privpip's own script and line format. click 8.4.0's fish template splits on an
# unquoted \n and cannot work (pallets/click#3502); a fixed, version-independent format
# also keeps completions/privpip.fish identical whatever click is installed.
_FISH_SOURCE = r"""function %(complete_func)s;
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp) \
COMP_CWORD=(commandline -t) %(prog_name)s);

    for completion in $response;
        set -l metadata (string split -m 2 \t -- $completion);

        if test "$metadata[1]" = "dir";
            __fish_complete_directories $metadata[2];
        else if test "$metadata[1]" = "file";
            __fish_complete_path $metadata[2];
        else if test "$metadata[1]" = "plain";
            if test -n "$metadata[3]";
                printf '%%s\t%%s\n' $metadata[2] $metadata[3];
            else;
                printf '%%s\n' $metadata[2];
            end;
        end;
    end;
end;

complete --no-files --command %(prog_name)s --arguments "(%(complete_func)s)";
"""


def use_privpip_fish() -> None:
    """Register privpip's fish completion class under the name "fish" (before completing)."""
    from click.shell_completion import FishComplete, add_completion_class

    class PrivpipFishComplete(FishComplete):
        source_template = _FISH_SOURCE

        def format_completion(self, item: CompletionItem) -> str:
            # One line per item: TYPE<TAB>VALUE<TAB>HELP, no tab or line break inside a field.
            def clean(text: str) -> str:
                return " ".join(str(text).replace("\t", " ").splitlines())

            return f"{item.type}\t{clean(item.value)}\t{clean(item.help or '')}"

    add_completion_class(PrivpipFishComplete, "fish")


def script(root: click.Command, shell: str) -> str:
    from click.shell_completion import get_completion_class

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
