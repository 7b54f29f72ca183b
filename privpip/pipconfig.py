"""pip's own index settings: every file and variable pip reads them from, with file and line.

privpip's routing index must be the only index pip talks to, and `privpip scan --user` must
find tokens wherever pip would read them, so both need the same answer to "where does pip get
index-url, extra-index-url and find-links from". This module gives it without running pip
(a `pip config debug` child costs a few hundred milliseconds): the locations and their order
follow pip's ``configuration.py`` (global, user, site, PIP_CONFIG_FILE, then PIP_* variables;
a later kind overrides an earlier one, and a command's section overrides ``[global]``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

Key = Literal["index-url", "extra-index-url", "find-links", "cert", "client-cert"]
KEYS: tuple[Key, ...] = ("index-url", "extra-index-url", "find-links")
# The TLS settings the local index needs to reach upstreams as pip would (a company CA bundle).
TLS_KEYS: tuple[Key, ...] = ("cert", "client-cert")
_ENV_VARS: dict[Key, str] = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "find-links": "PIP_FIND_LINKS",
    "cert": "PIP_CERT",
    "client-cert": "PIP_CLIENT_CERT",
}
Kind = Literal["global", "user", "site", "env-file", "env"]


class Setting(NamedTuple):
    """One index setting as pip would read it; ``values`` split the way pip splits them."""

    kind: Kind
    where: str  # a file path or a variable name
    line: int | None  # 1-based line of the key in the file, None for a variable
    section: str  # "global", "install", ... ("" for a variable)
    key: Key
    values: tuple[str, ...]

    @property
    def location(self) -> str:
        return f"{self.where}:{self.line}" if self.line else self.where


def config_files(env: Mapping[str, str], prefix: str | Path | None = None
                 ) -> list[tuple[Kind, Path]]:
    """The files pip reads, lowest precedence first (existing or not).

    ``prefix`` is the target interpreter's ``sys.prefix`` (its site config), None for none.
    """
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []  # pip then loads no file at all, global ones included
    files: list[tuple[Kind, Path]] = [("global", d / "pip.conf") for d in _site_config_dirs(env)]
    if not (env_file and os.path.exists(env_file)):  # pip skips user files when it exists
        home = Path(env.get("HOME") or Path.home())
        legacy = home / ("pip" if sys.platform == "win32" else ".pip") / _basename()
        files += [("user", legacy), ("user", _user_config_dir(env, home) / _basename())]
    if prefix is not None:
        files.append(("site", Path(prefix) / _basename()))
    if env_file is not None and env_file != os.devnull:
        files.append(("env-file", Path(env_file)))
    return files


def settings(env: Mapping[str, str], prefix: str | Path | None = None,
             keys: Sequence[Key] = KEYS) -> list[Setting]:
    """Every setting of ``keys`` (the index ones unless told) in pip's files and variables,
    lowest precedence first."""
    out: list[Setting] = []
    for kind, path in config_files(env, prefix):
        out += _file_settings(kind, path, keys)
    for key in keys:
        var = _ENV_VARS[key]
        if env.get(var):  # pip ignores an empty variable (a blank one clears the setting)
            out.append(Setting("env", var, None, "", key, _split(key, env[var])))
    return out


def effective(found: list[Setting], command: str = "install") -> dict[Key, Setting]:
    """What pip ``command`` uses for each key.

    As pip merges them: across files, a later kind replaces the same section's key; then a
    PIP_* variable beats the command's section (``[install]``), which beats ``[global]``.
    """
    rank = {"global": 0, command: 1, "": 2}
    merged: dict[tuple[Key, int], Setting] = {}
    for setting in found:
        if setting.section in rank:
            merged[(setting.key, rank[setting.section])] = setting
    chosen: dict[Key, Setting] = {}
    for key, _rank in sorted(merged, key=lambda pair: pair[1]):
        chosen[key] = merged[key, _rank]
    return chosen


def _file_settings(kind: Kind, path: Path, keys: Sequence[Key] = KEYS) -> list[Setting]:
    import configparser

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    class Parser(configparser.RawConfigParser):
        def optionxform(self, optionstr: str) -> str:
            return _normal_key(optionstr)

    parser = Parser(strict=False, interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return []  # pip refuses such a file itself, loudly
    lines = _key_lines(text)
    out = []
    for section in parser.sections():
        for key in keys:
            if parser.has_option(section, key):
                values = _split(key, parser.get(section, key))
                line = lines.get((section, key))
                out.append(Setting(kind, str(path), line, section, key, values))
    return out


def _split(key: Key, value: str) -> tuple[str, ...]:
    # pip splits the list options on whitespace; a certificate path is one value (may hold spaces).
    return tuple(value.split()) if key in KEYS else (value.strip(),)


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, normalized key) -> the 1-based line where the key starts."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif line and not raw[:1].isspace() and line[0] not in "#;":
            name = line.split("=", 1)[0].split(":", 1)[0].strip()
            found.setdefault((section, _normal_key(name)), number)
    return found


def _normal_key(name: str) -> str:
    """pip's key rule: ``extra_index_url``, ``--extra-index-url`` and ``Extra-Index-URL`` agree."""
    return name.lower().replace("_", "-").removeprefix("--")


def _basename() -> str:
    return "pip.ini" if sys.platform == "win32" else "pip.conf"


def _user_config_dir(env: Mapping[str, str], home: Path) -> Path:
    if sys.platform == "win32":
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "pip"
    if sys.platform == "darwin":
        library = home / "Library" / "Application Support" / "pip"
        return library if library.is_dir() else home / ".config" / "pip"
    return Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pip"


def _site_config_dirs(env: Mapping[str, str]) -> list[Path]:
    if sys.platform == "win32":
        return [Path(env.get("PROGRAMDATA") or "C:/ProgramData") / "pip"]
    if sys.platform == "darwin":
        return [Path("/Library/Application Support/pip")]
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    return [*(Path(d) / "pip" for d in dirs), Path("/etc")]
