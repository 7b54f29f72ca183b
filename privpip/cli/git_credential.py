"""The hidden `privpip git-credential` command: git's credential helper protocol."""

from __future__ import annotations

import click


@click.command("git-credential", hidden=True,
               context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("operation")
def git_credential(operation: str) -> int:
    """git credential helper (gitcredentials(7)); privpip registers it itself.

    Answers `get` for the [[git]] hosts of the config in $PRIVPIP_CONFIG and the user
    config file (it never searches the current directory); `store` and `erase` do nothing.
    """
    from privpip.run.delivery.git_helper import helper_main

    return helper_main(operation)
