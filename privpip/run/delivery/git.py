"""git: register privpip as git's credential helper for the configured [[git]] hosts only.

The parent (``privpip install`` / ``pip`` / ``run``) never hands git a token. It registers a
helper per configured host through GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n
(git 2.31+); the helper is this interpreter running ``privpip git-credential`` (see
privpip.run.delivery.git_helper), a separate process started by git, which resolves the token
itself from the same config and environment and writes it only to git's stdin pipe. No
token is in an argv, a URL, or a file.

For each host the helper list is first reset (an empty ``helper`` value), so a helper the
user configured globally, such as ``store``, is neither asked nor told to store the token.
``useHttpPath`` is left alone: one credential per host, whatever the repository path.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from privpip.config import GitHost
from privpip.context import Context
from privpip.core import identity, pipargs
from privpip.errors import PrivpipError, UsageError

MIN_GIT = (2, 31)  # GIT_CONFIG_COUNT


def helper_command(python: str | None = None) -> str:
    """The ``credential.helper`` value: ``!`` + a shell command git completes with `` get``.

    git runs it through ``sh``; every word is quoted. ``-c`` with the current directory
    removed from sys.path: git runs helpers inside checkouts, which must not be able to
    shadow privpip's modules. The directory holding this privpip comes first, so the
    helper is the same code as the privpip that registered it.
    """
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    code = (
        f"import sys;sys.path[:]=[{package_parent!r}]+[p for p in sys.path if p not in('','.')];"
        "from privpip.launch import main;main()"
    )
    return "!" + shlex.join([python or sys.executable, "-c", code, "git-credential"])


def config_pairs(hosts: Sequence[GitHost], helper: str) -> list[tuple[str, str]]:
    pairs = []
    for git in hosts:
        schemes = ["https"] + (["http"] if identity.is_loopback(git.hostname) else [])
        for scheme in schemes:
            section = f"credential.{scheme}://{git.host}"
            pairs.append((f"{section}.helper", ""))  # reset: no other helper asked or told
            pairs.append((f"{section}.helper", helper))
    return pairs


def config_environment(pairs: Sequence[tuple[str, str]], env: Mapping[str, str]) -> dict[str, str]:
    """GIT_CONFIG_COUNT/KEY_n/VALUE_n additions, after any entries already in ``env``."""
    raw = env.get("GIT_CONFIG_COUNT", "").strip()
    if raw and not raw.isdigit():
        raise UsageError(
            f"GIT_CONFIG_COUNT is set to {raw!r}, which is not a number",
            "unset GIT_CONFIG_COUNT or fix it; privpip appends its entries to it",
        )
    start = int(raw) if raw else 0
    out: dict[str, str] = {}
    for n, (key, value) in enumerate(pairs, start):
        out[f"GIT_CONFIG_KEY_{n}"] = key
        out[f"GIT_CONFIG_VALUE_{n}"] = value
    out["GIT_CONFIG_COUNT"] = str(start + len(pairs))
    return out


def git_environment(ctx: Context, env: Mapping[str, str] | None = None,
                    walk: pipargs.Walk | None = None) -> dict[str, str]:
    """Environment additions that make git ask privpip for the configured hosts' credentials.

    ``env`` is the child's environment so far (for existing GIT_CONFIG_COUNT entries);
    ``walk`` is the run's reading of the child's arguments (pipargs.walk): when they visibly
    need git (a ``git+`` URL in them or in a -r/-c file) git's version is checked. Returns
    {} when no [[git]] host is configured.
    """
    env = ctx.env if env is None else env
    cfg = ctx.config
    if not cfg.git_hosts:
        return {}
    if walk is not None and walk.mentions_git:
        version = require_git(env)
        ctx.note("git " + ".".join(map(str, version)))
    out = config_environment(config_pairs(cfg.git_hosts, helper_command()), env)
    project = ctx.project_file()
    if project is not None:
        # The helper runs wherever git runs it; it must read this config, not search for one.
        out["PRIVPIP_CONFIG"] = str(project)
    for git in cfg.git_hosts:
        ctx.note(f"git host {git.host}: credential helper registered (privpip git-credential)")
    return out


def git_version(env: Mapping[str, str]) -> tuple[int, int] | None:
    """``git --version`` as (major, minor); None when git is not installed."""
    import shutil
    import subprocess

    git = shutil.which("git", path=env.get("PATH"))
    if git is None:
        return None
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10,
                             env=dict(env), check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


def require_git(env: Mapping[str, str]) -> tuple[int, int]:
    version = git_version(env)
    if version is None:
        raise PrivpipError(
            "git is needed for a git+ requirement but was not found on PATH",
            "install git 2.31 or newer",
        )
    if version < MIN_GIT:
        shown = ".".join(map(str, version))
        raise PrivpipError(
            f"git {shown} is too old: privpip passes git its credential helper through "
            "GIT_CONFIG_COUNT, which needs git 2.31 or newer (older git ignores it and would "
            "fail to authenticate)",
            "install git 2.31 or newer (e.g. from your distribution's backports)",
        )
    return version
