"""The one data path: config -> index specs -> credentials -> delivery -> child (or print).

    ctx.config                    the config files, loaded once per run (privpip.context)
    pipargs.walk                  pip's arguments and requirement files, read once per run;
                                  routing, the confusion check and git read the one Walk
    resolve_accesses              the selected indexes, each with its credential and source
    delivery.local                pip/uv: the per-run local index holds the tokens and routes
                                  each name to its owner (default)
    delivery.pip / uv / netrc     what the tool reads: credential-free URLs, a private netrc
    delivery.git                  git asks privpip (its credential helper) for [[git]] hosts
    runner.run                    the child, with signal forwarding and clean-up
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from privpip.context import Context
from privpip.errors import PrivpipError
from privpip.run.delivery import Access

if TYPE_CHECKING:
    from privpip.checks.provenance import Recorder
    from privpip.config import Delivery, Installer
    from privpip.core.pipargs import Walk
    from privpip.run.delivery.local import Plan
    from privpip.run.runner import Watcher
    from privpip.run.target import Target


def resolve_accesses(ctx: Context, names: Sequence[str] = (),
                     prompt: bool = True) -> list[Access]:
    """The selected indexes and one credential for each (with its source); ``prompt=False``:
    never a prompt (`privpip token` prints the token; asking for it would be pointless)."""
    from privpip import credentials
    from privpip.credentials.store import KeyringStore

    indexes = ctx.config.select(tuple(names))
    resolver = credentials.Resolver(
        ctx.env, KeyringStore.from_env(ctx.env),
        credentials.ask_token if ctx.interactive and prompt else None,
        "--no-input was given or stdin is not a terminal" if prompt
        else "this command never prompts",
    )
    resolver.prefetch(indexes)  # one keyring batch for every index that needs it
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


def check_dependency_confusion(ctx: Context, names: Sequence[str], walk: Walk,
                               allow: Sequence[str]) -> None:
    """Before `pip install`: refuse when a public index could serve a privately owned name
    (``walk``: the run's reading of pip's arguments and requirement files)."""
    cfg = ctx.config
    selected = cfg.select(tuple(names))
    if not any(index.packages for index in cfg.indexes):
        ctx.note("dependency confusion check: no index declares `packages`")
        return
    from privpip.checks import (
        confusion,  # only now: it loads privpip.credentials.http
    )
    for note in confusion.check_install(cfg.indexes, selected, cfg.public_index, walk, allow):
        ctx.note(note)


def choose_delivery(ctx: Context, chosen: Delivery | None, argv: Sequence[str] = ()
                    ) -> Delivery:
    """--delivery / PRIVPIP_DELIVERY, else the config's `delivery`, else the local index;
    but netrc for a `privpip run` COMMAND that records or reads index URLs (lock files)."""
    if chosen is not None:
        ctx.note(f"delivery: {chosen} (from --delivery / PRIVPIP_DELIVERY)")
        return chosen
    if ctx.config.delivery is not None:
        ctx.note(f"delivery: {ctx.config.delivery} (from config)")
        return ctx.config.delivery
    tool = lock_tool(argv)
    if tool is not None:
        ctx.note(f"delivery: netrc (default for {tool}: it writes or reads index URLs in a lock "
                 "file, which must hold the real URLs, not the per-run local one)")
        return "netrc"
    ctx.note("delivery: local (default)")
    return "local"


# Tools that write index or file URLs into a lock file (or install from one): through the
# per-run index they would record http://127.0.0.1:PORT, valid for one run only.
_LOCK_TOOLS = {"poetry", "pdm", "pipenv", "pip-compile", "pip-sync", "hatch", "rye"}
_UV_LOCKING = {"lock", "sync", "add", "remove", "run", "export", "tree", "tool", "build"}


def lock_tool(argv: Sequence[str]) -> str | None:
    """The lock-file tool ``argv`` runs (``uv lock``, ``pip-compile``, ``python -m pip lock``...),
    or None. ``uv pip ...`` and ``pip install`` are not: they can go through the local index."""
    import os.path

    words = list(argv)
    if not words:
        return None
    name = os.path.basename(words[0])
    if name.startswith("python") and words[1:3] and words[1] == "-m" and len(words) > 2:
        name, words = words[2], words[2:]
    if name in _LOCK_TOOLS:
        return name
    rest = [w for w in words[1:] if not w.startswith("-")]
    if name == "uv" and rest and rest[0] in _UV_LOCKING:
        return f"uv {rest[0]}"
    if name in ("pip", "pip3") and rest and rest[0] == "lock":
        return "pip lock"
    if name in ("piptools",) and rest and rest[0] in ("compile", "sync"):
        return f"pip-tools {rest[0]}"
    return None


def run_pip(ctx: Context, indexes: Sequence[str], python: str | None, pip_args: list[str],
            allow_public: Sequence[str] = (), installer: Installer | None = None,
            delivery: Delivery | None = None, skip: Sequence[str] = ()) -> int:
    """`privpip install` / `privpip pip`: check, resolve, deliver, run pip (or uv pip install).
    ``skip``: --skip-index, the upstreams the local index does without this run."""
    from privpip.core import pipargs
    from privpip.run import target as target_mod

    cfg = ctx.config
    how = choose_delivery(ctx, delivery, ["pip", *pip_args])  # `pip lock`: netrc
    # The one reading of pip's arguments and requirement files, for every step below.
    walk = pipargs.walk(pip_args, ctx.cwd)
    at = walk.command_at
    if how == "netrc" and at is not None and pip_args[at] == "install":
        check_dependency_confusion(ctx, indexes, walk, allow_public)
    elif how == "local":
        ctx.note(f"routing ({ctx.config.index_strategy}): an owned name comes only from its "
                 "owner" + (", any other from the first index in order that has it (private "
                 "first)" if ctx.config.index_strategy == "first-index" else
                 ", any other from every index merged (unsafe-best-match)"))
    accesses = resolve_accesses(ctx, indexes)
    from privpip.checks.diagnose import after_failure, check_typed_tokens

    check_typed_tokens(ctx, accesses)
    target = target_mod.find(python, ctx.env)
    ctx.note(f"target: {target.python} (from {target.why})")
    if installer is None:
        installer = cfg.installer or "pip"
        ctx.note(f"installer: {installer} (from {'config' if cfg.installer else 'default'})")
    prefix = Path(target.python).parent.parent
    if installer == "uv":
        from privpip.run.delivery.uv import find_uv

        uv_argv = [find_uv(ctx.env), "pip", "install", "--python", target.python]
        if how == "local":
            routed = route(ctx, accesses, walk, "install", None, pip=False, uv=True,
                           skip=skip)
            # pip_args[0] is `install`, which uv_argv holds already
            return run_local(ctx, accesses, routed, [*uv_argv, *routed.args[1:]], walk,
                             pip=False, uv=True, installs_into=installs_into(target.python, walk))
        status = run_uv(ctx, accesses, [*uv_argv, *pip_args[1:]], walk)
    elif how == "local":
        command = pip_args[at] if at is not None else "install"
        routed = route(ctx, accesses, walk, command, prefix, pip=True, uv=False,
                       skip=skip)
        return run_local(ctx, accesses, routed, [target.python, "-m", "pip", *routed.args],
                         walk, pip=True, uv=False,
                         installs_into=installs_into(target.python, walk)
                         if command == "install" else None)
    else:
        status = run_with_netrc(ctx, accesses, [target.python, "-m", "pip", *pip_args], walk,
                                target)
    # netrc delivery only (the local index names failing upstreams itself): pip reports a
    # rejected credential as "no versions", so one probe per index says which and why.
    after_failure(ctx, accesses, status)
    return status


def route(ctx: Context, accesses: Sequence[Access], walk: Walk | None, pip_command: str,
          prefix: Path | None, pip: bool, uv: bool, skip: Sequence[str] = ()) -> Plan:
    """The local index's upstreams for this run, and the walked arguments without the
    taken-over options (``walk``: pipargs.walk of the installer's arguments; None: there
    are none, or they are not pip's)."""
    from privpip.core import pipargs
    from privpip.core.secret import redact
    from privpip.run.delivery import local

    uv_files = local.read_uv_files(ctx.env, ctx.cwd) if uv else []
    taken, rest, copies, find_links = local.taken_over(ctx.env, ctx.cwd,
                                                       walk or pipargs.Walk(cwd=ctx.cwd),
                                                       pip_command, prefix, pip=pip, uv=uv,
                                                       uv_config=uv_files)
    routed = local.plan(ctx.config, accesses, taken, rest, local.users_netrc_path(ctx.env),
                        skip)
    routed.uv_config = local.uv_config_copy(uv_files)
    routed.copies = copies
    routed.find_links = find_links
    if ctx.verbose:  # the redactor's first use imports json: only when there is a line to show
        for item in taken:
            ctx.note(f"taken over: {redact(local.display(item.url))} from {item.where}")
        for upstream in routed.upstreams:
            owns = f", owns {', '.join(upstream.owns)}" if upstream.owns else ""
            owns += " (asked for those only)" if upstream.explicit else ""
            ctx.note(f"upstream {upstream.name}: {local.display(upstream.url)}{owns}")
    return routed


def installs_into(python: str, walk: Walk) -> Callable[[], list[Path]]:
    """Where an install for ``python`` puts distributions (found only when the run streamed
    a file): the walked arguments' ``--target DIR``, else the interpreter's site directories."""
    from privpip.checks import provenance

    def find() -> list[Path]:
        if walk.target:
            return [Path(walk.target)]
        return provenance.site_dirs(python)

    return find


def command_installs_into(ctx: Context, python: str | None, argv: Sequence[str]
                          ) -> Callable[[], list[Path]]:
    """Where `privpip run -- COMMAND` most likely installs: --python, the active environment,
    COMMAND's own interpreter (pip's #! line), and ./.venv (uv's default). A distribution is
    recorded only where its .dist-info changed during the run, so a wrong guess writes
    nothing."""
    from privpip.checks import provenance
    from privpip.run.delivery.netrc import netrc_reader

    def find() -> list[Path]:
        pythons = []
        try:
            found = netrc_reader(python, argv, ctx.env)
        except PrivpipError:
            found = None
        if found is not None:
            pythons.append(found.python)
        local_venv = ctx.cwd / ".venv" / "bin" / "python"
        if local_venv.exists():
            pythons.append(str(local_venv))
        return [d for p in dict.fromkeys(pythons) for d in provenance.site_dirs(p)]

    return find


def refusal_fix(ctx: Context, accesses: Sequence[Access]) -> Callable[[str], str]:
    """The fix for a configured index's refused credential, by its source (diagnose.fix_for)."""
    by_name = {a.index.name: a for a in accesses}

    def fix(name: str) -> str:
        from privpip.checks.diagnose import fix_for

        access = by_name.get(name)
        return (fix_for(access, ctx.env) if access is not None
                else f"run `privpip login {name}`")

    return fix


def run_local(ctx: Context, accesses: Sequence[Access], routed: Plan, argv: Sequence[str],
              walk: Walk, pip: bool, uv: bool,
              installs_into: Callable[[], Sequence[Path]] | None = None,
              from_pages: bool = True, watcher: Watcher | None = None) -> int:
    """Start the local index, run the child through it, then name what upstreams did wrong.
    ``walk``: the run's reading of the child's arguments (git's delivery reads it).

    With ``installs_into`` (where the child installs), a child that succeeded gets PEP 710
    provenance written into the distributions it installed from files the index streamed,
    or (``from_pages``, and no local find-links in the run) took from its own cache after
    a page served in this run listed them. ``watcher``: as for run_with_netrc."""
    import time

    from privpip.checks import provenance
    from privpip.checks.provenance import Recorder
    from privpip.run import runner
    from privpip.run.delivery import local
    from privpip.run.delivery.git import git_environment

    log = ctx.note if ctx.verbose else None
    # A local find-links file of the same name and version is indistinguishable afterwards
    # from a listed one the installer had cached: with one, only streamed files count.
    recorder = (Recorder(pages=from_pages and not routed.find_links)
                if installs_into is not None else None)
    # A second earlier: the file system's clock is coarser than time.time().
    since = time.time() - 1
    ahead = (provenance.Ahead(installs_into)
             if recorder is not None and installs_into is not None else None)
    with runner.private_dir(ctx.env) as private, \
            local.listening(ctx.config, routed, log, env=ctx.env, recorder=recorder,
                            fix=refusal_fix(ctx, accesses)) as index:
        ctx.note(f"local index: {index.url}")
        if index.listen_note:
            ctx.note(index.listen_note)
        env = local.child_environment(index, ctx.env, private, ctx.interactive, pip=pip, uv=uv,
                                      passthrough=routed.passthrough,
                                      uv_config=routed.uv_config)
        argv = local.with_copies(argv, routed, private)
        env.update(local.git_lending_environment(ctx.config, accesses, private))
        env.update(git_environment(ctx, env, walk))
        ctx.note("running: " + " ".join(argv))
        if uv:
            # uv asks within milliseconds when its interpreter query is cached: the server
            # is built from before uv is started, not from after.
            index.serve()

        def started() -> None:
            # pip's index builds its server while pip imports itself (LocalIndex.serve);
            # provenance's own preparing waits for that server, then runs beside the child.
            index.serve()
            if ahead is not None:
                ahead.start(after=index.wait_ready)

        status = runner.run(argv, env, started=started, ahead=ctx.pip_ahead, watcher=watcher)
    if status == 0 and recorder is not None and ahead is not None:
        record_provenance(ctx, recorder, ahead.installs_into, since)
    return status


def record_provenance(ctx: Context, recorder: Recorder, installs_into: Callable[[], Sequence[Path]],
                      since: float) -> None:
    """PEP 710 provenance_url.json for what the child installed from streamed files."""
    import sys

    from privpip.checks import provenance

    if not recorder.files() and not recorder.served_pages():
        return  # nothing streamed or listed (a no-op install)

    def why(dist: provenance.Dist, reason: str) -> None:
        ctx.note(f"provenance: {dist.path.name} not recorded: {reason}")

    written = provenance.write_installed(recorder, installs_into(), since,
                                         lambda line: print(line, file=sys.stderr), why)
    for dist, fetched in written:
        how = " listed, from the installer's cache" if fetched.listed else ""
        ctx.note(f"provenance: {dist.path.name} <- {fetched.index_name} ({fetched.url}){how}")


def run_with_netrc(
    ctx: Context,
    accesses: Sequence[Access],
    argv: Sequence[str],
    walk: Walk,
    target: Target | None,
    extra_env: Mapping[str, str] | None = None,
    watcher: Watcher | None = None,
) -> int:
    """pip and anything reading NETRC: credential-free URLs, a private netrc, run.

    ``walk`` is the run's reading of the child's arguments (git's delivery reads it).
    ``target`` is the Python whose netrc parser will read the file (None: unknown, so values
    that need it are written in the Python 3.11+ form). ``extra_env`` adds variables for other
    tools (``privpip run`` adds uv's). git gets privpip as its credential helper for [[git]] hosts.
    ``watcher``: COMMAND runs below it (runner.run), `privpip run` only.
    """
    # subprocess, signal and git: only commands that run a child need them.
    from privpip.core.secret import redact_argv
    from privpip.run import runner
    from privpip.run.delivery.git import git_environment
    from privpip.run.delivery.netrc import needs_target_version
    from privpip.run.delivery.pip import pip_environment

    version = None
    if target is not None and needs_target_version(accesses):
        version = target.version()
        ctx.note(f"target Python {version[0]}.{version[1]}")
    with runner.private_dir(ctx.env) as private:
        env = pip_environment(accesses, ctx.env, private, version, ctx.interactive)
        env.update(extra_env or {})
        env.update(git_environment(ctx, env, walk))
        if ctx.verbose:  # the redactor's first use imports json
            ctx.note("running: " + redact_argv(argv))  # URL userinfo masked
        return runner.run(argv, env, ahead=ctx.pip_ahead, watcher=watcher)


def run_uv(ctx: Context, accesses: Sequence[Access], argv: Sequence[str], walk: Walk) -> int:
    """uv: UV_DEFAULT_INDEX / UV_INDEX without credentials, plus a private netrc.

    uv reads NETRC, quoted values with backslash escapes included (the Python 3.11+ form),
    so it gets the token the way pip does. Not UV_INDEX_<NAME>_PASSWORD, nor privpip's own
    PRIVPIP_INDEX_<NAME>_TOKEN: uv passes its environment on to the build backends it runs,
    and a backend that printed its environment printed the token (canary suite).
    """
    from privpip.core.secret import redact_argv
    from privpip.run import runner
    from privpip.run.delivery.git import git_environment
    from privpip.run.delivery.netrc import netrc_environment
    from privpip.run.delivery.pip import without_token_variables
    from privpip.run.delivery.uv import uv_variables

    with runner.private_dir(ctx.env) as private:
        env = without_token_variables(ctx.env)
        env.update(uv_variables(accesses, with_credentials=False))
        env.update(netrc_environment(accesses, ctx.env, private, None))
        env.update(git_environment(ctx, env, walk))
        if ctx.verbose:  # the redactor's first use imports json
            ctx.note("running: " + redact_argv(argv))  # URL userinfo masked
        return runner.run(argv, env, ahead=ctx.pip_ahead)
