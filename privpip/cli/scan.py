"""`privpip scan`: find index and git-host tokens written into files, like a linter."""

from __future__ import annotations

from pathlib import Path

import click

from privpip.cli.options import CONTEXT
from privpip.context import Context
from privpip.errors import FAILED, OK, UsageError


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--user", "user", is_flag=True,
              help="Scan this user's and machine's pip, uv, Poetry and .pypirc files and the "
              "PIP_INDEX_URL / PIP_EXTRA_INDEX_URL variables instead of a project.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list variable references (${VAR}) privpip can take over (token-env).")
@click.pass_obj
def scan(ctx: Context, paths: tuple[Path, ...], user: bool, as_json: bool,
         verbose: bool) -> int:
    """Find index and git-host tokens written into a project's files.

    Without PATH: the git work tree around the current directory (files git ignores are
    skipped), else the current directory; names are shown from its top. A FILE is always
    scanned, whatever its name (what a pre-commit hook passes). One line per finding,
    never the secret:

    \b
      requirements.txt:3: password in URL (https://me:****@host/simple/, gitlab)

    Exit status: 0 nothing found, 1 credentials found, 2 usage error.
    Move what it finds out of the files with `privpip migrate`.
    """
    from privpip.hygiene import scan as scan_mod

    if user and paths:
        raise UsageError("--user scans the user's files; it takes no PATH",
                         "run `privpip scan --user` and `privpip scan PATH` separately")
    check_paths(ctx, paths)
    if user:
        findings = scan_mod.scan_user(ctx.env)
    else:
        findings = scan_mod.scan_project(paths, ctx.cwd, ctx.env)
    leaks = [f for f in findings if f.level == scan_mod.LEAK]
    shown = findings if verbose else leaks
    if as_json:
        import json

        click.echo(json.dumps([f.as_json() for f in shown], indent=2))
    else:
        for finding in shown:
            suffix = " [privpip can take it over: token-env]" \
                if finding.level == scan_mod.REFERENCE else ""
            click.echo(finding.describe() + suffix)
        if leaks:
            advice = "" if user else "; move them out with `privpip migrate`"
            click.echo(f"privpip: {len(leaks)} credential(s) written into files{advice}",
                       err=True)
        elif user:
            # A project scan stays silent when clean (a pre-commit hook); --user is asked by
            # hand, and silence there reads as "did it look at anything?".
            files = len(scan_mod.user_files(ctx.env))
            click.echo(f"privpip: no credential found in your pip, uv, Poetry and twine files "
                       f"({files} read) or their variables", err=True)
    return FAILED if leaks else OK


def check_paths(ctx: Context, paths: tuple[Path, ...]) -> None:
    for path in paths:
        full = path if path.is_absolute() else ctx.cwd / path
        if not full.exists():
            raise UsageError(f"{path}: no such file or directory",
                             "give files or directories of the project")
