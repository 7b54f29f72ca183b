"""Which project config files the user trusted, and which files privpip may read at all.

A project file (privpip.toml, pyproject.toml's [tool.privpip]) comes from whoever wrote the
repository or the directory. Its names, URLs and keyring entries bound to those exact URLs
are harmless; a setting that runs a command (token-command, a provider's CLI) or names an
arbitrary variable (token-env) could run the repository's code or send an unrelated secret to
the repository's URL, and a token exported for an index name would follow that name to the
URL the repository chose (Index.needs_trust). Those take effect only for a file whose exact
content the user
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
    from privpip.config.model import GitHost, Index, Settings

TRUST_FILE = "trusted.toml"
# Where privpip before 2026-12 kept them, read until the next `privpip trust` writes the above
# (TOML: its parser is loaded for the config anyway, json would cost 1 ms of every start).
LEGACY_TRUST_FILE = "trusted.json"
_VERSION = 2
# Dropped settings per project file (realpath): what `describe_untrusted` showed, for the
# credential resolver to point at when no other source had a token.
_DROPPED: dict[tuple[str, str], str] = {}
# realpath: the bytes this run parsed from that project file (restrict), which the lazy check
# of an exported token (file_is_trusted) decides on too, instead of reading the file again.
_PARSED: dict[str, bytes] = {}
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
    from privpip.core.secret import redact

    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# trust records


def trust_file(env: Mapping[str, str]) -> Path:
    """trusted.toml in privpip's user data directory."""
    from privpip.core.userdata import data_dir

    return data_dir(env) / TRUST_FILE


def digest(content: bytes) -> str:
    # An exported token for a project file's index checks the file's trust before pip runs:
    # CPython's built-in SHA-256 imports in 0.1 ms, hashlib (OpenSSL) in 2-3 ms.
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # 3.9-3.11
        except ImportError:
            from hashlib import sha256
    return str(sha256(content).hexdigest())


# One record per file: the SHA-256 of its content, and of each file inside the project that
# a command of it names (None: no such file then), so that a changed script loses the trust.
Record = dict[str, Any]


def record_key(path: Path) -> str:
    """The path a record is kept under: the file's own name in its resolved directory.

    A symlinked project file is not the file it points to: `ln -s ../trusted/privpip.toml`
    in another checkout does not inherit the target's trust, and its commands would run in
    the link's directory, on that checkout's scripts."""
    absolute = Path(os.path.abspath(path))
    return str(Path(os.path.realpath(absolute.parent)) / absolute.name)


def read_records(env: Mapping[str, str]) -> dict[str, Record]:
    """{record_key: {"sha256": hex, "files": {path: hex or None}}} of every trusted file; {}
    when there is no (readable) record. TOML has no None: an absent file is "" there. The
    JSON file of an older privpip is read while there is no TOML one; its oldest records
    are the bare digest."""
    path = trust_file(env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        path = path.with_name(LEGACY_TRUST_FILE)
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from None
    try:
        if text is not None:
            from privpip.config.schema import tomllib

            data: Any = tomllib.loads(text)
        else:
            import json

            data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise _unreadable(path, exc) from None
    records = data.get("trusted") if isinstance(data, dict) else None
    out: dict[str, Record] = {}
    for key, value in (records.items() if isinstance(records, dict) else [(None, None)]):
        if isinstance(value, str):
            value = {"sha256": value, "files": {}}
        if not isinstance(value, dict):
            value = {}
        files = value.get("files")
        if not (isinstance(key, str) and isinstance(value.get("sha256"), str)
                and isinstance(files, dict) and all(
                    isinstance(k, str) and (v is None or isinstance(v, str))
                    for k, v in files.items())):
            raise ConfigError(str(path), "the trust records are not in the expected form",
                              f"delete {path}; then run `privpip trust` again")
        out[key] = {"sha256": value["sha256"],
                    "files": {k: v or None for k, v in files.items()}}
    return out


def _unreadable(path: Path, exc: Exception) -> ConfigError:
    return ConfigError(str(path), f"cannot read the trust records ({exc})",
                       f"fix or delete {path}; then run `privpip trust` again")


def write_records(env: Mapping[str, str], records: Mapping[str, Record]) -> Path:
    """Replace the records atomically, mode 0600, directory 0700; the JSON file of an older
    privpip, read until now, goes once the TOML one holds its records."""
    import tomli_w

    from privpip.core.userdata import write_private

    path = trust_file(env)
    data = {"version": _VERSION, "trusted": {
        key: {"sha256": record["sha256"],
              "files": {name: sha or "" for name, sha in record["files"].items()}}
        for key, record in sorted(records.items())}}
    try:
        text = tomli_w.dumps(data)
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("a path that is not valid UTF-8 cannot be recorded as trusted",
                         "move the project to a directory whose name is UTF-8") from None
    write_private(path, text)
    try:
        path.with_name(LEGACY_TRUST_FILE).unlink()
    except FileNotFoundError:
        pass
    return path


def _file_digest(path: str) -> str | None:
    import stat

    try:
        with open(path, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            return digest(file.read())
    except OSError:
        return None


def pinned_files(path: Path, commands: Iterable[Sequence[str]]) -> dict[str, str | None]:
    """Each argv word of ``commands`` that names a path inside the project (the repository
    of ``path``, else its directory), looked up from ``path``'s directory as the command
    runs there, with the digest of that file now (None: no file there now).

    Words of a shell string (`sh -c "..."`) are not paths here: only argv words are."""
    directory = Path(os.path.abspath(path)).parent
    root = os.path.realpath(repository_root(directory) or directory)
    out: dict[str, str | None] = {}
    for argv in commands:
        for word in argv:
            if not word or "\0" in word:
                continue
            candidate = os.path.normpath(os.path.join(directory, word))
            real = os.path.realpath(candidate)
            if real == root or not real.startswith(root.rstrip(os.sep) + os.sep):
                continue
            out[candidate] = _file_digest(candidate)
    return out


def _record(path: Path, content: bytes, commands: Iterable[Sequence[str]]) -> Record:
    return {"sha256": digest(content), "files": pinned_files(path, commands)}


def is_trusted(path: Path, content: bytes, env: Mapping[str, str]) -> bool:
    """True when ``content`` of ``path``, and every file its commands name, is what the user
    trusted, or the environment trusts."""
    if env_trusts(env):
        return True
    return _matches(read_records(env).get(record_key(path)), content)


def _matches(record: Record | None, content: bytes) -> bool:
    if record is None or record["sha256"] != digest(content):
        return False
    return all(_file_digest(name) == sha for name, sha in record["files"].items())


def file_is_trusted(path: Path, env: Mapping[str, str]) -> bool:
    """Whether ``path``'s current content is trusted (see ``is_trusted``)."""
    if env_trusts(env):
        return True
    content = _PARSED.get(os.path.realpath(path))
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError:
            return False
    return is_trusted(path, content, env)


def trust(path: Path, env: Mapping[str, str], commands: Iterable[Sequence[str]],
          content: bytes | None = None) -> tuple[Path, Record]:
    """Record ``path``'s ``content`` (default: as it is now), and the files its ``commands``
    (the token commands of that content: config.schema.token_commands) name, as trusted."""
    key = record_key(path)
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    reason = safe_to_read(Path(os.path.realpath(path)))
    if reason is not None:
        raise UsageError(f"refusing to trust {reason}",
                         "privpip ignores such files; copy it to a directory of your own")
    records = read_records(env)
    records[key] = _record(path, content, commands)
    write_records(env, records)
    return Path(key), records[key]


def keep_after_edit(path: Path, before: bytes, env: Mapping[str, str],
                    commands: Iterable[Sequence[str]]) -> bool:
    """After privpip itself rewrote ``path`` on the user's command (`privpip index add`):
    trusted again, with the ``commands`` of its new content, when its content ``before`` the
    edit (and every file its commands named) was trusted by a record."""
    key = record_key(path)
    records = read_records(env)
    if not _matches(records.get(key), before):
        return False
    records[key] = _record(path, Path(path).read_bytes(), commands)
    write_records(env, records)
    return True


def revoke(path: Path, env: Mapping[str, str]) -> Path:
    key = record_key(path)
    records = read_records(env)
    if key not in records:
        raise UsageError(f"{key} is not trusted", "`privpip trust --list` shows the records")
    del records[key]
    write_records(env, records)
    return Path(key)


# ---------------------------------------------------------------------------
# what an untrusted file may not do


def _printable(text: str) -> str:
    # A hostile file could hide what it runs behind terminal escape sequences.
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _argv_text(argv: Sequence[str]) -> str:
    import shlex

    return _printable(shlex.join(argv))


def describe_untrusted(path: Path, indexes: Iterable[Index],
                       gits: Iterable[GitHost] = (), settings: Settings | None = None) -> str:
    """What ``path`` would run, which variables it would send where, and which settings of
    where tokens go it would change; "" when nothing.

    Ends with the `privpip trust` command that lets it.
    """
    lines = effects(indexes, gits, settings)
    if not lines:
        return ""
    import shlex

    return (f"{path} is not trusted, so privpip ignores these settings of it:\n"
            + "\n".join(lines)
            + f"\n  if you trust this file as it is now, run: privpip trust "
              f"{shlex.quote(str(path))}")


# Top-level settings that decide where tokens go: from a file the user did not trust they
# could hand real tokens to the repository's own setup.py (delivery = "netrc"), choose the
# tool that gets them (installer), the index the dependency-confusion check trusts, or let
# a squatted version win over the user's own index (index-strategy).
_TOKEN_SETTINGS = {
    "delivery": "decide how tokens reach pip and uv (netrc: where build backends can read "
                "them)",
    "installer": "choose the tool that gets the tokens",
    "public_index": "choose the public index the dependency-confusion check compares with",
    "index_strategy": "decide which index a package may come from (unsafe-best-match: the "
                      "highest version on any index)",
}


def effects(indexes: Iterable[Index], gits: Iterable[GitHost] = (),
            settings: Settings | None = None, trusted: bool = False) -> list[str]:
    """One indented line (or two) per command a file runs, per variable it sends, and per
    setting of where tokens go: what it would do (untrusted), or what it does from now on
    (``trusted``: `privpip trust`)."""
    run, sent, send = ("runs", "is sent", "sends") if trusted else (
        "would run", "would be sent", "would send")
    lines = []
    for key, value in (settings._asdict().items() if settings is not None else ()):
        if value is not None and key in _TOKEN_SETTINGS:
            lines.append(f"  {key.replace('_', '-')} = {_printable(repr(value))}: "
                         f"{'may' if trusted else 'would'} {_TOKEN_SETTINGS[key]}")
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
             env: Mapping[str, str], user_file: Path | None = None,
             settings: Settings | None = None, content: bytes | None = None
             ) -> tuple[list[Index], list[GitHost], Settings | None]:
    """The project file's specs without what runs commands or names variables, and its
    settings without those of where tokens go (``_TOKEN_SETTINGS``), unless trusted.

    ``content``: the bytes the specs were parsed from (read_file), on which trust is then
    decided, here and for an exported token later (file_is_trusted); None: read the file.
    Warns (once per file) with `describe_untrusted`'s text. The user's own config file
    (``user_file``) is always trusted.
    """
    if path is None:
        return indexes, gits, settings
    real = os.path.realpath(path)
    if content is not None:
        _PARSED[real] = content
    if user_file is not None and os.path.realpath(user_file) == real:
        return indexes, gits, settings
    risky = [i for i in indexes if i.token_command or i.token_env]
    risky_gits = [g for g in gits if g.token_env]
    risky_settings = settings is not None and any(
        value is not None for key, value in settings._asdict().items()
        if key in _TOKEN_SETTINGS)
    if not (risky or risky_gits or risky_settings):
        return indexes, gits, settings
    if content is None:
        try:
            content = Path(real).read_bytes()
        except OSError:
            content = b""
    if is_trusted(path, content, env):
        return indexes, gits, settings
    text = describe_untrusted(path, risky, risky_gits, settings)
    for index in risky:
        _DROPPED[(index.origin, index.name)] = str(path)
    _warn(real, "privpip: warning: " + text, env)
    kept = [i._replace(token_command=(), token_command_is_default=False, token_env=())
            if i in risky else i for i in indexes]
    kept_gits = [g._replace(token_env=()) if g in risky_gits else g for g in gits]
    if settings is not None:
        settings = settings._replace(**{key: None for key in _TOKEN_SETTINGS})
    return kept, kept_gits, settings


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
    from privpip.core.identity import name_key, same_index

    # Names compared as the variable PRIVPIP_INDEX_<NAME>_TOKEN spells them: `Corp` in the
    # project would otherwise read the token exported for the user's `corp`.
    mine = {name_key(i.name): i for i in project_indexes}
    for index in user_indexes:
        other = mine.get(name_key(index.name))
        if other is not None and not same_index(other.url, index.url):
            from privpip.core.secret import redact

            raise ConfigError(
                str(project),
                f"index {other.name!r} has URL {redact(other.url)}, but your own config "
                f"{user} names {index.name!r} with URL {redact(index.url)}",
                "a project file may not take over an index name of yours: rename the index in "
                "one of the two files (or use the same URL)",
            )
