"""The one data path: config -> index specs -> credentials -> delivery -> child (or print)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from privpip import config as config_mod
from privpip import credentials, delivery
from privpip.delivery import Access
from privpip.store import KeyringStore

if TYPE_CHECKING:
    from privpip.target import Target


class Session(NamedTuple):
    """What every command starts from: the environment, the directory and the global options."""

    env: Mapping[str, str]
    cwd: Path
    config_path: str | None = None
    verbose: bool = False
    interactive: bool = False
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr)

    def note(self, message: str) -> None:
        if self.verbose:
            self.log(f"privpip: {message}")

    def load_config(self) -> config_mod.Config:
        cfg = config_mod.load(self.cwd, self.env, self.config_path)
        for path in cfg.files:
            self.note(f"config: {path}")
        for note in cfg.notes:
            self.note(note)
        return cfg


def resolve_accesses(
    session: Session, names: Sequence[str] = (), cfg: config_mod.Config | None = None
) -> list[Access]:
    """Steps 1-3: config, the selected indexes, and one credential for each (with its source)."""
    indexes = (cfg or session.load_config()).select(tuple(names))
    store = KeyringStore.from_env(session.env)
    prompt = credentials.prompt_on_terminal if session.interactive else None
    reason = "--no-input was given or stdin is not a terminal"
    accesses = []
    for index in indexes:
        cred = credentials.resolve(index, session.env, store, prompt, reason)
        if cred is None:
            session.note(f"index {index.name}: no credential needed (auth = false)")
        else:
            session.note(f"index {index.name}: token from {cred.source} (user {cred.username})")
        accesses.append(Access(index, cred))
    return accesses


def check_dependency_confusion(session: Session, names: Sequence[str], pip_args: Sequence[str],
                               allow: Sequence[str]) -> None:
    """Before `pip install`: refuse when a public index could serve a privately owned name."""
    from privpip import confusion

    cfg = config_mod.load(session.cwd, session.env, session.config_path)
    selected = cfg.select(tuple(names))
    if not any(index.packages for index in cfg.indexes):
        session.note("dependency confusion check: no index declares `packages`")
        return
    for note in confusion.check_install(cfg.indexes, selected, cfg.public_index, pip_args,
                                        session.cwd, allow):
        session.note(note)


def run_with_netrc(
    session: Session,
    accesses: Sequence[Access],
    argv: Sequence[str],
    target: Target | None,
    extra_env: Mapping[str, str] | None = None,
) -> int:
    """Steps 4-5 for pip and anything reading NETRC: credential-free URLs, a private netrc, run.

    ``target`` is the Python whose netrc parser will read the file (None: unknown, so values
    that need it are written in the Python 3.11+ form). ``extra_env`` adds variables for other
    tools (``privpip run`` adds uv's). git gets privpip as its credential helper for [[git]] hosts.
    """
    # subprocess, signal and git: only commands that run a child need them.
    from privpip import gitcreds, runner

    version = None
    if target is not None and delivery.needs_target_version(accesses):
        version = target.version()
        session.note(f"target Python {version[0]}.{version[1]}")
    with runner.private_dir(session.env) as private:
        env = delivery.pip_environment(accesses, session.env, private, version, session.interactive)
        env.update(extra_env or {})
        env.update(gitcreds.git_environment(session, accesses, env, argv))
        session.note("running: " + " ".join(argv))
        return runner.run(argv, env)


def run_uv(session: Session, accesses: Sequence[Access], argv: Sequence[str]) -> int:
    """Steps 4-5 for uv: UV_DEFAULT_INDEX / UV_INDEX without credentials, plus a private netrc.

    uv reads NETRC, quoted values with backslash escapes included (the Python 3.11+ form),
    so it gets the token the way pip does. Not UV_INDEX_<NAME>_PASSWORD, nor privpip's own
    PRIVPIP_INDEX_<NAME>_TOKEN: uv passes its environment on to the build backends it runs,
    and a backend that printed its environment printed the token (canary suite).
    """
    from privpip import gitcreds, runner

    with runner.private_dir(session.env) as private:
        env = delivery.without_token_variables(session.env)
        env.update(delivery.uv_variables(accesses, with_credentials=False))
        if any(a.credential is not None for a in accesses):
            text = delivery.netrc_text(accesses, None, delivery.users_netrc(session.env))
            env["NETRC"] = str(delivery.write_private(private, "netrc", text))
            env["PRIVPIP_NETRC"] = env["NETRC"]  # for privpip's git credential helper
        env.update(gitcreds.git_environment(session, accesses, env, argv))
        session.note("running: " + " ".join(argv))
        return runner.run(argv, env)
