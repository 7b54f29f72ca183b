"""Which project config files the user trusted, and which files privpip may read at all.

A project file (privpip.toml, pyproject.toml's [tool.privpip]) comes from whoever wrote the
repository or the directory. Its names, URLs and keyring entries bound to those exact URLs
are harmless; a setting that runs a command (token-command, a provider's CLI) or names an
arbitrary variable (token-env) could run the repository's code or send an unrelated secret to
the repository's URL. Those settings take effect only for a file whose exact content the user
trusted (`privpip trust`, recorded as realpath + SHA-256), or where the checked-out project
runs anyway (CI=true) or the user says so (PRIVPIP_TRUST=1). Compare `direnv allow`,
`mise trust`, and git's safe.directory (CVE-2022-24765) for the ownership checks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privpip.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from privpip.config.model import GitHost, Index

TRUST_FILE = "trusted.json"
_VERSION = 1
# Dropped settings per project file (realpath): what `describe_untrusted` showed, for the
# credential resolver to point at when no other source had a token.
_DROPPED: dict[tuple[str, str], str] = {}
_WARNED: set[str] = set()


# ---------------------------------------------------------------------------
# where the search looks, and which files it may read


def repository_root(cwd: Path) -> Path | None:
    """The first directory from ``cwd`` upwards that holds .git (a directory or a file)."""
    for directory in (cwd, *cwd.parents):
        if os.path.lexists(directory / ".git"):
            return directory
    return None


def search_dirs(cwd: Path) -> list[Path]:
    """``cwd`` and its parents, up to and including the repository root when there is one.

    A file above the repository belongs to someone else's tree (a shared checkout root, a
    world-writable /tmp): the upward search never leaves the repository.
    """
    root = repository_root(cwd)
    out = []
    for directory in (cwd, *cwd.parents):
        out.append(directory)
        if directory == root:
            break
    return out


def env_trusts(env: Mapping[str, str]) -> bool:
    """CI=true: the pipeline runs the checked-out project's code anyway; PRIVPIP_TRUST=1: the
    user says the same explicitly. Both also waive the ownership checks: CI checkouts are
    often owned by another uid than the job's (the container case git's safe.directory hit)."""
    return env.get("CI", "").lower() == "true" or env.get("PRIVPIP_TRUST") == "1"


def safe_to_read(path: Path, start: Path | None = None,
                 env: Mapping[str, str] | None = None) -> str | None:
    """Why privpip must ignore the file ``path`` found searching up from ``start``; None: safe.

    git's safe.directory reasoning: only the current user's own files count (a root-owned
    file is foreign to another user too), and no directory between the file and the search
    start may be writable by other users, unless the current user owns it, or it has the
    sticky bit (/tmp), which stops others from replacing a file they do not own.
    """
    if env is not None and env_trusts(env):
        return None
    if not hasattr(os, "geteuid"):  # Windows: ACLs, not modes; nothing comparable to check
        return None
    import stat

    uid = os.geteuid()
    real = Path(os.path.realpath(path))
    try:
        info = os.stat(real)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror}"
    if info.st_uid != uid:
        return f"{path} is owned by {_owner(info.st_uid)}, not by you"
    directories = [real.parent]
    if start is not None:
        start_real = Path(os.path.realpath(start))
        for directory in (start_real, *start_real.parents):
            if directory == real.parent:
                break
            directories.append(directory)
    for directory in directories:
        try:
            dinfo = os.stat(directory)
        except OSError:
            continue
        writable = dinfo.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if writable and dinfo.st_uid != uid and not dinfo.st_mode & stat.S_ISVTX:
            return (f"{path} is in {directory}, which other users can write "
                    f"(owned by {_owner(dinfo.st_uid)}, mode {stat.S_IMODE(dinfo.st_mode):o})")
    return None


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def checked_project_file(candidate: Path, cwd: Path, env: Mapping[str, str]) -> Path | None:
    """``candidate`` when privpip may read it; else None, with a warning on stderr (once)."""
    reason = safe_to_read(candidate, cwd, env)
    if reason is None:
        return candidate
    _warn(str(candidate), f"privpip: warning: ignoring {reason}\n"
          "  hint: a config file must belong to you, in a directory only you can change; "
          "copy it, or run with PRIVPIP_TRUST=1 if you trust it anyway", env)
    return None


def _warn(key: str, text: str, env: Mapping[str, str]) -> None:
    # Shell completion runs privpip on every <Tab>: a warning there would garble the line.
    if key in _WARNED or env.get("_PRIVPIP_COMPLETE"):
        return
    _WARNED.add(key)
    from privpip.secret import redact

    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# trust records


def trust_file(env: Mapping[str, str]) -> Path:
    """trusted.json in privpip's user data directory."""
    from privpip.userdata import data_dir

    return data_dir(env) / TRUST_FILE


def digest(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def read_records(env: Mapping[str, str]) -> dict[str, str]:
    """{realpath: sha256 hex} of every trusted file; {} when there is no (readable) record."""
    import json

    path = trust_file(env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), f"cannot read the trust records ({exc})",
                          f"fix or delete {path}; then run `privpip trust` again") from None
    records = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(records, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in records.items()):
        raise ConfigError(str(path), "the trust records are not in the expected form",
                          f"delete {path}; then run `privpip trust` again")
    return dict(records)


def write_records(env: Mapping[str, str], records: Mapping[str, str]) -> Path:
    """Replace the records atomically, mode 0600, directory 0700."""
    from privpip.userdata import write_private_json

    path = trust_file(env)
    write_private_json(path, {"version": _VERSION, "trusted": dict(sorted(records.items()))})
    return path


def is_trusted(path: Path, content: bytes, env: Mapping[str, str]) -> bool:
    """True when ``content`` of ``path`` is what the user trusted, or the environment trusts."""
    if env_trusts(env):
        return True
    return read_records(env).get(os.path.realpath(path)) == digest(content)


def trust(path: Path, env: Mapping[str, str]) -> tuple[Path, str]:
    """Record ``path``'s current content as trusted: (realpath, sha256)."""
    real = Path(os.path.realpath(path))
    try:
        content = real.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    reason = safe_to_read(real)
    if reason is not None:
        raise UsageError(f"refusing to trust {reason}",
                         "privpip ignores such files; copy it to a directory of your own")
    records = read_records(env)
    records[str(real)] = digest(content)
    write_records(env, records)
    return real, records[str(real)]


def keep_after_edit(path: Path, before: bytes, env: Mapping[str, str]) -> bool:
    """After privpip itself rewrote ``path`` on the user's command (`privpip index add`):
    trusted again when its content ``before`` the edit was trusted by a record."""
    real = os.path.realpath(path)
    records = read_records(env)
    if records.get(real) != digest(before):
        return False
    records[real] = digest(Path(real).read_bytes())
    write_records(env, records)
    return True


def revoke(path: Path, env: Mapping[str, str]) -> Path:
    real = os.path.realpath(path)
    records = read_records(env)
    if real not in records:
        raise UsageError(f"{real} is not trusted", "`privpip trust --list` shows the records")
    del records[real]
    write_records(env, records)
    return Path(real)


# ---------------------------------------------------------------------------
# what an untrusted file may not do


def _printable(text: str) -> str:
    # A hostile file could hide what it runs behind terminal escape sequences.
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _argv_text(argv: Sequence[str]) -> str:
    import shlex

    return _printable(shlex.join(argv))


def describe_untrusted(path: Path, indexes: Iterable[Index],
                       gits: Iterable[GitHost] = ()) -> str:
    """What ``path`` would run and which variables it would send where; "" when nothing.

    Ends with the `privpip trust` command that lets it.
    """
    lines = effects(indexes, gits)
    if not lines:
        return ""
    import shlex

    return (f"{path} is not trusted, so privpip ignores these settings of it:\n"
            + "\n".join(lines)
            + f"\n  if you trust this file as it is now, run: privpip trust "
              f"{shlex.quote(str(path))}")


def effects(indexes: Iterable[Index], gits: Iterable[GitHost] = (),
            trusted: bool = False) -> list[str]:
    """One indented line (or two) per command a file runs and per variable it sends: what it
    would do (untrusted), or what it does from now on (``trusted``: `privpip trust`)."""
    run, sent, send = ("runs", "is sent", "sends") if trusted else (
        "would run", "would be sent", "would send")
    lines = []
    for index in indexes:
        if index.token_command:
            what = ("its provider's CLI" if index.token_command_is_default
                    else "token-command")
            lines.append(f"  index {_printable(index.name)!r}: {what} {run}: "
                         f"{_argv_text(index.token_command)}\n"
                         f"    and its output {sent} as the token to "
                         f"{_printable(index.url)}")
        if index.token_env:
            names = ", ".join("$" + v for v in index.token_env)
            lines.append(f"  index {_printable(index.name)!r}: token-env {send} "
                         f"{names} to {_printable(index.url)}")
    for git in gits:
        if git.token_env:
            names = ", ".join("$" + v for v in git.token_env)
            lines.append(f"  git host {git.host!r}: token-env {send} {names} to "
                         f"https://{git.host}")
    return lines


def restrict(path: Path | None, indexes: list[Index], gits: list[GitHost],
             env: Mapping[str, str], user_file: Path | None = None
             ) -> tuple[list[Index], list[GitHost]]:
    """The project file's specs without what runs commands or names variables, unless trusted.

    Warns (once per file) with `describe_untrusted`'s text. The user's own config file
    (``user_file``) is always trusted.
    """
    if path is None:
        return indexes, gits
    real = os.path.realpath(path)
    if user_file is not None and os.path.realpath(user_file) == real:
        return indexes, gits
    risky = [i for i in indexes if i.token_command or i.token_env]
    risky_gits = [g for g in gits if g.token_env]
    if not (risky or risky_gits):
        return indexes, gits
    try:
        content = Path(real).read_bytes()
    except OSError:
        content = b""
    if is_trusted(path, content, env):
        return indexes, gits
    text = describe_untrusted(path, risky, risky_gits)
    for index in risky:
        _DROPPED[(index.origin, index.name)] = str(path)
    _warn(real, "privpip: warning: " + text, env)
    kept = [i._replace(token_command=(), token_command_is_default=False, token_env=())
            if i in risky else i for i in indexes]
    kept_gits = [g._replace(token_env=()) if g in risky_gits else g for g in gits]
    return kept, kept_gits


def untrusted_sources(index: Any) -> list[tuple[str, str]]:
    """For CredentialNotFound's list: the sources an untrusted file's settings would add."""
    path = _DROPPED.get((getattr(index, "origin", ""), getattr(index, "name", "")))
    if path is None:
        return []
    import shlex

    return [("project settings", f"token-command / token-env of {path} ignored: the file is "
             f"not trusted (see the warning above; `privpip trust {shlex.quote(path)}` "
             "allows them)")]


def check_same_urls(project: Path | None, project_indexes: Iterable[Index], user: Path,
                    user_indexes: Iterable[Index]) -> None:
    """A project index may share a user index's name only with the same URL.

    Otherwise the user's PRIVPIP_INDEX_<NAME>_TOKEN, and the user's habits, would follow the
    name to a URL the project chose.
    """
    from privpip.identity import name_key, same_index

    # Names compared as the variable PRIVPIP_INDEX_<NAME>_TOKEN spells them: `Corp` in the
    # project would otherwise read the token exported for the user's `corp`.
    mine = {name_key(i.name): i for i in project_indexes}
    for index in user_indexes:
        other = mine.get(name_key(index.name))
        if other is not None and not same_index(other.url, index.url):
            from privpip.secret import redact

            raise ConfigError(
                str(project),
                f"index {other.name!r} has URL {redact(other.url)}, but your own config "
                f"{user} names {index.name!r} with URL {redact(index.url)}",
                "a project file may not take over an index name of yours: rename the index in "
                "one of the two files (or use the same URL)",
            )
