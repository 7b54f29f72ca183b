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

Key = Literal["index-url", "extra-index-url", "find-links", "cert", "client-cert", "index"]
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
Kind = Literal["global", "user", "site", "env-file", "env", "uv"]


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


# ---------------------------------------------------------------------------
# uv's own settings: the files `uv pip install` (and uv run by `privpip run`) reads, as uv's
# configuration documentation describes them: UV_CONFIG_FILE alone when given (it replaces
# every discovered file), none with UV_NO_CONFIG; else the nearest uv.toml or pyproject.toml
# with a [tool.uv] table (a directory's uv.toml wins over its pyproject.toml), then the
# user's uv.toml, then the first system uv.toml. Project beats user beats system; arrays of
# the files are joined, the project's first.

# Where a uv option table names indexes: at its top and in its [pip] table.
UV_INDEX_KEYS: tuple[Key, ...] = ("index-url", "extra-index-url", "index", "find-links")


class UvFile(NamedTuple):
    """One uv configuration file uv would read: its options (``[tool.uv]`` for a pyproject)."""

    path: Path
    options: dict[str, object]
    lines: dict[tuple[str, str], int]  # (table, key) -> 1-based line; table "" or "pip"


class UvConfigError(ValueError):
    """A uv configuration file that cannot be read (uv refuses it, or privpip cannot tell)."""


def uv_files(env: Mapping[str, str], cwd: Path) -> list[UvFile]:
    """The uv configuration files uv reads in ``cwd``, highest precedence first."""
    if env.get("UV_NO_CONFIG", "").strip().lower() in ("1", "true", "yes", "on", "y", "t"):
        return []
    if env.get("UV_CONFIG_FILE"):
        found = _uv_file(Path(env["UV_CONFIG_FILE"]), pyproject=False)
        return [found] if found is not None else []
    out: list[UvFile] = []
    for directory in (cwd, *cwd.parents):
        found = (_uv_file(directory / "uv.toml", pyproject=False)
                 or _uv_file(directory / "pyproject.toml", pyproject=True))
        if found is not None:
            out.append(found)
            break
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        user = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        systems = [Path(env.get("SYSTEMDRIVE", "C:") + "/ProgramData")]
    else:
        user = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        systems = [Path(d) for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
                   if d] + [Path("/etc")]
    found = _uv_file(user / "uv" / "uv.toml", pyproject=False)
    out += [found] if found is not None else []
    for directory in systems:
        found = _uv_file(directory / "uv" / "uv.toml", pyproject=False)
        if found is not None:
            out.append(found)
            break
    return out


def uv_settings(files: Sequence[UvFile]) -> list[Setting]:
    """The index settings of ``files`` (kind "uv"), highest precedence first: ``index-url``,
    ``extra-index-url``, ``find-links`` and each ``[[index]]`` table's url (key "index";
    section "default" for a default one), at the top and in ``[pip]``."""
    out: list[Setting] = []
    for file in files:
        for table, options in (("", file.options), ("pip", file.options.get("pip"))):
            if not isinstance(options, dict):
                continue
            for key in UV_INDEX_KEYS:
                value = options.get(key)
                if value is None:
                    continue
                line = file.lines.get((table, key))
                if key == "index":
                    entries = value if isinstance(value, list) else [value]
                    for entry in entries:
                        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                            raise UvConfigError(f"{file.path}:{line or 1}: [[index]] "
                                                "without a url string")
                        section = "default" if entry.get("default") is True else table
                        out.append(Setting("uv", str(file.path), line, section, "index",
                                           (entry["url"],)))
                    continue
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) for v in values):
                    raise UvConfigError(f"{file.path}:{line or 1}: {key} is not a string "
                                        "or a list of strings")
                if key == "find-links":  # a relative path is the file's directory's
                    values = [v if "://" in v or os.path.isabs(v)
                              else str(file.path.parent / v) for v in values]
                out.append(Setting("uv", str(file.path), line, table, key,
                                   tuple(str(v) for v in values)))
    return out


def uv_without_indexes(files: Sequence[UvFile]) -> dict[str, object]:
    """``files`` merged as uv merges them, without the index URLs (index-url,
    extra-index-url, [[index]], at the top and in [pip]); local find-links are kept,
    made absolute against their file's directory. What the child reads instead of the files
    (UV_CONFIG_FILE), so every other setting of theirs still holds."""
    merged: dict[str, object] = {}
    for file in files:
        options = dict(file.options)
        if isinstance(options.get("pip"), dict):
            options["pip"] = dict(options["pip"])  # type: ignore[call-overload]
        for holder in (options, options.get("pip")):
            if not isinstance(holder, dict):
                continue
            for key in ("index-url", "extra-index-url", "index"):
                holder.pop(key, None)
            if "find-links" in holder:
                links = holder["find-links"]
                holder["find-links"] = [
                    v if not isinstance(v, str) or "://" in v or os.path.isabs(v)
                    else str(file.path.parent / v)
                    for v in (links if isinstance(links, list) else [links])]
        _combine(merged, options)
    return merged


def _combine(into: dict[str, object], lower: Mapping[str, object]) -> None:
    """uv's rule: ``into`` (higher precedence) keeps its values; arrays are joined (``into``'s
    first) and tables merged key by key."""
    for key, value in lower.items():
        if key not in into:
            into[key] = value
            continue
        mine = into[key]
        if isinstance(mine, dict) and isinstance(value, dict):
            merged = dict(mine)
            _combine(merged, value)
            into[key] = merged
        elif isinstance(mine, list) and isinstance(value, list):
            into[key] = [*mine, *value]


def _uv_file(path: Path, pyproject: bool) -> UvFile | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the tomli backport, as config.schema uses
        import tomli as tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # missing: uv skips it too
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if pyproject:
            return None  # uv warns and goes on
        raise UvConfigError(f"{path}: {exc}") from None
    if pyproject:
        tool = data.get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        if not isinstance(uv, dict):
            return None  # no [tool.uv]: uv looks further up
        data = uv
    return UvFile(path, data, _toml_lines(text, "tool.uv" if pyproject else ""))


def _toml_lines(text: str, prefix: str) -> dict[tuple[str, str], int]:
    """(table, key) -> the 1-based line of the key (``index``: its first [[index]] header);
    table "" for the top of the options, "pip" for their [pip] table."""
    import re

    tables = {prefix: "", f"{prefix}.pip".lstrip("."): "pip"}
    found: dict[tuple[str, str], int] = {}
    table: str | None = "" if not prefix else None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?(\s*#.*)?", line)
        if header:
            name = re.sub(r"\s*\.\s*", ".", header.group(1)).replace('"', "")
            if line.startswith("[[") and name in (f"{prefix}.index".lstrip("."),
                                                    f"{prefix}.pip.index".lstrip(".")):
                owner = "pip" if ".pip." in f".{name}" else ""
                found.setdefault((owner, "index"), number)
                table = None
            else:
                table = tables.get(name)
            continue
        key = re.match(r'["\']?([A-Za-z0-9_-]+)["\']?\s*=', line)
        if key and table is not None:
            found.setdefault((table, key.group(1)), number)
    return found
