"""The one data path: config -> index specs -> credentials -> delivery -> child (or print).

    ctx.config                    the config files, loaded once per run (privpip.context)
    resolve_accesses              the selected indexes, each with its credential and source
    delivery.pip / uv / netrc     what the tool reads: credential-free URLs, a private netrc
    delivery.git                  git asks privpip (its credential helper) for [[git]] hosts
    runner.run                    the child, with signal forwarding and clean-up
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from privpip.context import Context
from privpip.delivery import Access

if TYPE_CHECKING:
    from privpip.config import Installer
    from privpip.target import Target


def resolve_accesses(ctx: Context, names: Sequence[str] = ()) -> list[Access]:
    """The selected indexes and one credential for each (with its source)."""
    from privpip import credentials
    from privpip.store import KeyringStore

    indexes = ctx.config.select(tuple(names))
    resolver = credentials.Resolver(
        ctx.env, KeyringStore.from_env(ctx.env),
        credentials.ask_token if ctx.interactive else None,
        "--no-input was given or stdin is not a terminal",
    )
    accesses = []
    for index in indexes:
        cred = resolver.index(index)
        if cred is None:
            ctx.note(f"index {index.name}: no credential needed (auth = false)")
        else:
            ctx.note(f"index {index.name}: token from "
                     f"{credentials.describe_source(cred.source, ctx.env)} (user {cred.username})")
        accesses.append(Access(index, cred))
    return accesses


def check_dependency_confusion(ctx: Context, names: Sequence[str], install_args: Sequence[str],
                               allow: Sequence[str]) -> None:
    """Before `pip install`: refuse when a public index could serve a privately owned name."""
    from privpip import confusion

    cfg = ctx.config
    selected = cfg.select(tuple(names))
    if not any(index.packages for index in cfg.indexes):
        ctx.note("dependency confusion check: no index declares `packages`")
        return
    for note in confusion.check_install(cfg.indexes, selected, cfg.public_index, install_args,
                                        ctx.cwd, allow):
        ctx.note(note)


def run_pip(ctx: Context, indexes: Sequence[str], python: str | None, pip_args: list[str],
            allow_public: Sequence[str] = (), installer: Installer | None = None) -> int:
    """`privpip install` / `privpip pip`: check, resolve, deliver, run pip (or uv pip install)."""
    from privpip import pipargs
    from privpip import target as target_mod

    cfg = ctx.config
    at = pipargs.command_at(pip_args)
    if at is not None and pip_args[at] == "install":
        check_dependency_confusion(ctx, indexes, pip_args[at + 1:], allow_public)
    accesses = resolve_accesses(ctx, indexes)
    from privpip.diagnose import after_failure, check_typed_tokens

    check_typed_tokens(ctx, accesses)
    target = target_mod.find(python, ctx.env)
    ctx.note(f"target: {target.python} (from {target.why})")
    if installer is None:
        installer = cfg.installer or "pip"
        ctx.note(f"installer: {installer} (from {'config' if cfg.installer else 'default'})")
    if installer == "uv":
        from privpip.delivery.uv import find_uv

        argv = [find_uv(ctx.env), "pip", "install", "--python", target.python, *pip_args[1:]]
        status = run_uv(ctx, accesses, argv)
    else:
        status = run_with_netrc(ctx, accesses, [target.python, "-m", "pip", *pip_args], target)
    after_failure(ctx, accesses, status)  # netrc delivery only: pip saw a 401 as "no versions"
    return status


def run_with_netrc(
    ctx: Context,
    accesses: Sequence[Access],
    argv: Sequence[str],
    target: Target | None,
    extra_env: Mapping[str, str] | None = None,
) -> int:
    """pip and anything reading NETRC: credential-free URLs, a private netrc, run.

    ``target`` is the Python whose netrc parser will read the file (None: unknown, so values
    that need it are written in the Python 3.11+ form). ``extra_env`` adds variables for other
    tools (``privpip run`` adds uv's). git gets privpip as its credential helper for [[git]] hosts.
    """
    # subprocess, signal and git: only commands that run a child need them.
    from privpip import runner
    from privpip.delivery.git import git_environment
    from privpip.delivery.netrc import needs_target_version
    from privpip.delivery.pip import pip_environment

    version = None
    if target is not None and needs_target_version(accesses):
        version = target.version()
        ctx.note(f"target Python {version[0]}.{version[1]}")
    with runner.private_dir(ctx.env) as private:
        env = pip_environment(accesses, ctx.env, private, version, ctx.interactive)
        env.update(extra_env or {})
        env.update(git_environment(ctx, env, argv))
        ctx.note("running: " + " ".join(argv))
        return runner.run(argv, env)


def run_uv(ctx: Context, accesses: Sequence[Access], argv: Sequence[str]) -> int:
    """uv: UV_DEFAULT_INDEX / UV_INDEX without credentials, plus a private netrc.

    uv reads NETRC, quoted values with backslash escapes included (the Python 3.11+ form),
    so it gets the token the way pip does. Not UV_INDEX_<NAME>_PASSWORD, nor privpip's own
    PRIVPIP_INDEX_<NAME>_TOKEN: uv passes its environment on to the build backends it runs,
    and a backend that printed its environment printed the token (canary suite).
    """
    from privpip import runner
    from privpip.delivery.git import git_environment
    from privpip.delivery.netrc import netrc_environment
    from privpip.delivery.pip import without_token_variables
    from privpip.delivery.uv import uv_variables

    with runner.private_dir(ctx.env) as private:
        env = without_token_variables(ctx.env)
        env.update(uv_variables(accesses, with_credentials=False))
        env.update(netrc_environment(accesses, ctx.env, private, None))
        env.update(git_environment(ctx, env, argv))
        ctx.note("running: " + " ".join(argv))
        return runner.run(argv, env)
