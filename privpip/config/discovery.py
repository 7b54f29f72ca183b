"""Which config files apply (the project file found upwards, the user file), merged as a Config."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from privpip.config import trust
from privpip.config.model import (
    DEFAULT_PUBLIC_INDEX,
    PROJECT_FILE,
    PYPROJECT_FILE,
    Config,
    GitHost,
    Index,
)
from privpip.core.identity import name_key, same_index
from privpip.errors import ConfigError

USER_FILE = "config.toml"

# Only for a pyproject.toml that is not valid TOML: a table header naming tool.privpip.
# Compiled when a pyproject.toml is first looked at (re's cache), not at every start.
_PRIVPIP_HEADER = r"^\s*\[\[?\s*\"?tool\"?\s*\.\s*\"?privpip\"?\s*[\].]"


def has_privpip_table(text: str) -> bool:
    """Whether a pyproject.toml text has a [tool.privpip] table (in any TOML spelling).

    The one answer for both finding a project file and editing one. A comment that mentions
    tool.privpip, or a [tool.privpipx] table, is not one. A file that is not valid TOML counts
    when a header names the table, so that its error is reported instead of skipped.
    """
    if "privpip" not in text:  # cheap: most pyproject.toml files never mention privpip
        return False
    from privpip.config.schema import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return bool(re.search(_PRIVPIP_HEADER, text, re.MULTILINE))
    tool = data.get("tool")
    return isinstance(tool, dict) and "privpip" in tool


def find_project_file(cwd: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """Walk up from ``cwd``: privpip.toml, or a pyproject.toml with [tool.privpip].

    The search stops at the repository root, and a file another user could have put there
    is ignored with a warning (trust.checked_project_file).
    """
    for directory in trust.search_dirs(cwd):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return trust.checked_project_file(candidate, cwd, env or {})
        pyproject = directory / PYPROJECT_FILE
        if pyproject.is_file() and _file_has_privpip_table(pyproject):
            return trust.checked_project_file(pyproject, cwd, env or {})
    return None


def _file_has_privpip_table(path: Path) -> bool:
    try:
        return has_privpip_table(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


def user_config_file(env: Mapping[str, str]) -> Path:
    """$PRIVPIP_USER_CONFIG, else config.toml in the user config directory.

    On Linux and the BSDs that directory is the XDG one, computed here as platformdirs does:
    importing platformdirs costs more start-up time than everything else `privpip env` does.
    """
    if env.get("PRIVPIP_USER_CONFIG"):
        return Path(env["PRIVPIP_USER_CONFIG"])
    if sys.platform not in ("win32", "darwin"):
        xdg = env.get("XDG_CONFIG_HOME", "").strip()
        home = Path(env.get("HOME") or Path.home())
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
        return base / "privpip" / USER_FILE
    import platformdirs

    return Path(platformdirs.user_config_dir("privpip", appauthor=False)) / USER_FILE


def project_file(cwd: Path, env: Mapping[str, str], explicit: str | None = None,
                 search: bool = True) -> Path | None:
    """``explicit`` / $PRIVPIP_CONFIG (which must exist), else the nearest project file."""
    explicit = explicit or env.get("PRIVPIP_CONFIG") or None
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(explicit, "no such config file")
        return path
    return find_project_file(cwd, env) if search else None


def load(cwd: Path, env: Mapping[str, str], explicit: str | None = None,
         search: bool = True) -> Config:
    """Load the project file (or ``explicit`` / $PRIVPIP_CONFIG) and the user file.

    ``search=False`` skips looking for a project file from ``cwd`` upwards (the git
    credential helper runs in directories git chose, such as a fresh clone).
    """
    from privpip.config.schema import Settings, read_file

    project = project_file(cwd, env, explicit, search)
    user = user_config_file(env)

    indexes: list[Index] = []
    gits: list[GitHost] = []
    files: list[Path] = []
    notes: list[str] = []
    settings = Settings()
    if project is not None:
        parsed = read_file(project, env)
        # Until the user trusted the file, nothing in it runs or names a variable.
        found, found_gits, kept = trust.restrict(project, parsed.indexes, parsed.git_hosts, env,
                                                 user, parsed.settings, parsed.content)
        if not trust.env_trusts(env) and not _same_file(project, user):
            # Exported tokens follow the name only to a URL the user chose (checked when a
            # variable is read, so that a run without one never reads the trust records).
            found = [i._replace(needs_trust=str(project)) for i in found]
        indexes += found
        gits += found_gits
        settings = kept or settings
        files.append(project)
    if user.is_file() and (project is None or user.resolve() != project.resolve()):
        names = {name_key(i.name) for i in indexes}
        has_default = any(i.default for i in indexes)
        parsed = read_file(user, env)
        trust.check_same_urls(project, indexes, user, parsed.indexes)  # no name takeover
        # A URL that the user's own config names is the user's choice.
        indexes = [i._replace(needs_trust="") if i.needs_trust and any(
            same_index(i.url, u.url) for u in parsed.indexes) else i for i in indexes]
        merged = settings._asdict()
        for key, value in parsed.settings._asdict().items():
            if value is None:
                continue
            if merged[key] is not None and merged[key] != value:
                notes.append(f"{user}: {key} = {value!r} is overridden by {project}")
            else:
                merged[key] = value
        settings = Settings(**merged)
        hosts = {g.host for g in gits}
        for git in parsed.git_hosts:
            if git.host in hosts:
                notes.append(f"{user}: git host {git.host!r} is overridden by {project}")
                continue
            gits.append(git)
        for index in parsed.indexes:
            if name_key(index.name) in names:
                notes.append(f"{user}: index {index.name!r} is overridden by {project}")
                continue
            if index.default and has_default:
                notes.append(f"{user}: index {index.name!r} is used as an extra index, "
                             f"because {project} sets the default")
                index = index._replace(default=False)
            indexes.append(index)
        files.append(user)
    return Config(tuple(indexes), tuple(files), tuple(notes),
                  public_index=settings.public_index or DEFAULT_PUBLIC_INDEX,
                  git_hosts=tuple(gits), installer=settings.installer,
                  delivery=settings.delivery,
                  index_strategy=settings.index_strategy or "first-index")


def _same_file(a: Path, b: Path) -> bool:
    return b.is_file() and a.resolve() == b.resolve()
