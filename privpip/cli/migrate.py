"""`privpip migrate`: move the tokens `privpip scan` finds into privpip's config and the keyring."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from privpip.checks import check
from privpip.cli.options import CONTEXT
from privpip.context import Context
from privpip.errors import FAILED, OK

if TYPE_CHECKING:
    from privpip.hygiene.migrate import Plan


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Apply the plan without asking.")
@click.option("--no-verify", is_flag=True,
              help="Store tokens without first checking them against their index.")
@click.option("--force", is_flag=True,
              help="Replace a different token the keyring already holds for an index "
              "(otherwise privpip says so and asks on a terminal, or changes nothing).")
@click.option("--name", "name", metavar="NAME",
              help="The name of the index the plan creates (the first, if several). "
              "Default: from the URL's host (a generic one for an IP address or localhost).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=check.DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="How long to wait for an index when checking a token.")
@click.pass_obj
def migrate(ctx: Context, paths: tuple[Path, ...], yes: bool, no_verify: bool,
            force: bool, name: str | None, timeout: float) -> int:
    """Move the tokens `privpip scan` finds into privpip's config and the keyring.

    Each index URL with a token becomes an [[index]] (a git+https host a [[git]]) entry in
    privpip.toml (or [tool.privpip]); the token is checked against the index and stored in
    the keyring. Requirement files lose their --index-url / --extra-index-url lines (privpip
    supplies the index); a pip.conf loses the index setting that held the token; other
    files keep the URL without the credential. CI files and Dockerfiles get
    ${PRIVPIP_INDEX_<NAME>_TOKEN} (GitLab CI: ${CI_JOB_TOKEN}); .env files too, and
    `password =` in .pypirc / pip.conf moves to the keyring. PATH limits it to those files.

    An index found in a user-level file (a pip.conf, .pypirc or uv.toml under your home
    directory, outside the project) goes to your user config, not the project's: it keeps
    working in every directory. Such files are migrated on their own (name them as PATH).

    The plan is shown first as diffs with the secrets masked. On a terminal privpip asks
    before applying; --yes applies without asking; otherwise nothing is changed.
    Afterwards git history is checked: a token that was ever committed must be rotated.
    """
    from privpip.cli.scan import check_paths
    from privpip.config import PROJECT_FILE
    from privpip.hygiene import migrate as migrate_mod
    from privpip.hygiene import scan as scan_mod

    check_paths(ctx, paths)
    root = scan_mod.git_root(ctx.cwd, ctx.env) or ctx.cwd
    config_path = ctx.project_file() or root / PROJECT_FILE
    # Paths are shown (and found again) from the root: run the scan from there.
    full = tuple(p if p.is_absolute() else ctx.cwd / p for p in paths)
    findings = scan_mod.scan_project(full, root, ctx.env)
    if name is not None:
        from privpip.config.schema import check_index_arguments

        check_index_arguments({"name": name}, {"name": "--name"})
    leaks = [f for f in findings if f.level == scan_mod.LEAK]
    personal = [f for f in leaks if _user_level(root / f.path, root, ctx.env)]
    user = bool(leaks) and len(personal) == len(leaks)
    if user:
        from privpip.config import user_config_file

        config_path = user_config_file(ctx.env)
    else:
        findings = [f for f in findings if f not in personal]
    plan = migrate_mod.build_plan(findings, root, ctx.env, config_path, user=user, name=name)
    for finding in () if user else personal:
        plan.skipped.append((finding, "a user-level file; migrate it on its own (privpip "
                             "migrate PATH) so that its index goes to your user config"))
    if plan.empty:
        click.echo("privpip: nothing to migrate: no token written into the project's files "
                   "that privpip can move")
        if plan.skipped:
            click.echo(plan.describe(), nl=False)
            return FAILED
        return OK
    click.echo(plan.describe(), nl=False)
    if not yes:
        if not (ctx.interactive and sys.stdout.isatty()):
            click.echo("privpip: no terminal to confirm on: nothing was changed; rerun with "
                       "--yes to apply this plan", err=True)
            return FAILED
        if not click.confirm("Apply this plan?", default=False):
            click.echo("privpip: nothing was changed")
            return OK
    if not force and not _may_replace_stored(ctx, plan):
        return FAILED
    _store_tokens(ctx, plan, no_verify, timeout)
    if user:
        config_path.parent.mkdir(parents=True, exist_ok=True)
    migrate_mod.write_all(plan.changes)
    for change in plan.changes:
        click.echo(f"privpip: {'created' if change.old is None else 'rewrote'} {change.shown}")
    history = migrate_mod.history_commits(root, plan.secrets(), ctx.env)
    for finding in plan.moved:
        if finding.secret is not None and finding.secret in history:
            click.echo("privpip: WARNING: " + migrate_mod.rotate_advice(
                finding, history[finding.secret]), err=True)
    return FAILED if plan.skipped else OK


def _user_level(path: Path, root: Path, env: Mapping[str, str]) -> bool:
    """Whether ``path`` is a user's own file (under the home directory, outside the project):
    an index found there belongs in the user config, where every directory sees it."""
    home = Path(env.get("HOME") or Path.home()).resolve()
    real = path.resolve()
    return real.is_relative_to(home) and not real.is_relative_to(root.resolve())


def _may_replace_stored(ctx: Context, plan: Plan) -> bool:
    """False (nothing changed) when the keyring holds another token for an entry the plan
    stores and the user did not say to replace it: a stored token is never lost silently."""
    from privpip.credentials.stored import Stored

    differing = Stored(ctx.env).differing(
        (entry.service, entry.username, entry.token) for entry in plan.entries)
    if not differing:
        return True  # None: storing fails the same way, with its message, before any file
    replaced = [plan.entries[n] for n in differing]
    for entry in replaced:
        click.echo(f"privpip: the keyring already holds a different token for {entry.what} "
                   f"(user {entry.username}); this plan would replace it", err=True)
    if ctx.interactive and sys.stdin.isatty() and sys.stdout.isatty():
        if click.confirm("Replace the stored token(s)?", default=False):
            return True
        click.echo("privpip: nothing was changed")
        return False
    click.echo("privpip: nothing was changed; rerun with --force to replace the stored "
               "token(s)", err=True)
    return False


def _store_tokens(ctx: Context, plan: Plan, no_verify: bool, timeout: float) -> None:
    """Check every token against its index, then store them all; a failure changes no file."""
    from privpip.core.secret import redact
    from privpip.credentials import Credential
    from privpip.credentials.stored import Stored
    from privpip.errors import KeyringUnavailable, PrivpipError

    if not no_verify:
        for entry in plan.entries:
            if entry.index is None:
                continue
            result = check.check(entry.index, Credential(entry.username, entry.token, "file"),
                                 timeout)
            if not result.ok:
                raise PrivpipError(
                    f"{entry.what} ({redact(entry.service)}): {result.describe()}; "
                    "nothing was changed",
                    "fix the token (or the URL), or migrate without checking: --no-verify")
            click.echo(f"privpip: {entry.what} accepted the token (HTTP {result.status}, "
                       f"{result.seconds:.2f} s)", err=True)
    stored = Stored(ctx.env)
    try:
        for entry in plan.entries:
            stored.to_keyring(entry.service, entry.username, entry.token)
            click.echo(f"privpip: stored the token for {entry.what} (user {entry.username}) in "
                       "the keyring")
    except KeyringUnavailable as exc:
        raise KeyringUnavailable(f"cannot store a token: {exc.message}; no file was changed",
                                 exc.hint) from None
