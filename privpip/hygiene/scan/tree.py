"""Which files a project or user scan reads (git's tracked files, the user's pip/uv/netrc
files and variables), and scanning them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from privpip.hygiene.scan.finding import Finding
from privpip.hygiene.scan.kinds import file_kind
from privpip.hygiene.scan.text import dedupe, scan_line, scan_text

# ---------------------------------------------------------------------------
# files and trees


def read_text(path: Path) -> str | None:
    """A file's text, undecodable bytes kept (surrogateescape); None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def scan_files(paths: Iterable[Path], root: Path | None = None,
               follow_includes: bool = True) -> list[Finding]:
    """Scan exactly these files (and the -r/-c files a requirements file names), sorted.

    Paths are shown relative to ``root`` (default: the current directory) when inside it.
    """
    root = root or Path.cwd()
    queue = list(paths)
    seen: set[Path] = set()
    found: list[Finding] = []
    while queue:
        path = queue.pop(0)
        try:
            key = path.resolve()
        except OSError:
            key = path
        if key in seen:
            continue
        seen.add(key)
        text = read_text(path)
        if text is None:
            continue
        kind = file_kind(path) or "text"
        found += scan_text(text, _shown(path, root), kind)
        if follow_includes and kind == "requirements":
            queue += [f for f in _included(text, path.parent) if f.is_file()]
    return sorted(found, key=Finding.sort_key)


def _included(text: str, base: Path) -> list[Path]:
    """The local files a requirements text names with -r / -c, read as pip reads its lines
    (privpip.core.pipargs.walk, one line at a time and no file opened: continuations,
    comments, ``-rFILE`` and ``--requirement=FILE``)."""
    import shlex

    from privpip.core import pipargs

    found = []
    for _number, line in pipargs.numbered_lines(text):
        if not line.startswith("-"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        found += [base / o.value for o in pipargs.walk(words, base, follow_files=False).files
                  if o.value and "://" not in o.value]
    return found


def _shown(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix() if path.is_absolute() else \
            path.as_posix()
    except ValueError:  # another drive on Windows
        return str(path)


def git_root(directory: Path, env: Mapping[str, str]) -> Path | None:
    """The top of the git work tree containing ``directory``, or None (not in one, no git)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory, env=dict(env),
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox",
              ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs"}


def project_files(directory: Path, env: Mapping[str, str]) -> list[Path]:
    """The files of the kinds the scan reads under ``directory``: what git tracks or would
    (git-ignored files skipped) inside a work tree, else a walk without virtualenvs."""
    import subprocess

    if git_root(directory, env) is not None:
        try:
            out = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
                cwd=directory, env=dict(env), capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            tracked = {os.fsdecode(n) for n in out.stdout.split(b"\0") if n}
            return [directory / n for n in sorted(tracked)
                    if file_kind(n) and (directory / n).is_file()]
    files = []
    for base, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS
                         and not (Path(base) / d / "pyvenv.cfg").exists())
        files += [Path(base) / n for n in sorted(names)
                  if file_kind(Path(base, n).relative_to(directory))]
    return files


def scan_project(paths: Iterable[Path], cwd: Path, env: Mapping[str, str]) -> list[Finding]:
    """`privpip scan [PATH...]`: no path = the git work tree around ``cwd`` (else ``cwd``);
    a directory = its files of the kinds above; a file = that file, whatever its name."""
    given = list(paths)
    if not given:
        # Without paths, names are shown from the top of the tree, as `git status` does not but
        # a CI log and `privpip migrate` want: the same names from whichever subdirectory.
        cwd = git_root(cwd, env) or cwd
        given = [cwd]
    files: list[Path] = []
    explicit: list[Path] = []
    for path in given:
        path = path if path.is_absolute() else cwd / path
        if path.is_dir():
            files += project_files(path, env)
        else:
            explicit.append(path)
    # Includes are followed only from files named on the command line: a tree walk sees every
    # requirements file anyway.
    found = scan_files(files, cwd, follow_includes=False) + scan_files(explicit, cwd)
    return sorted(dedupe(found), key=Finding.sort_key)


# ---------------------------------------------------------------------------
# --user


def user_files(env: Mapping[str, str]) -> list[Path]:
    """The user's and the machine's files that exist: every pip config file pip reads
    (privpip.core.pipconfig: global, user, the active environment's site file, PIP_CONFIG_FILE),
    ~/.pypirc, uv's and Poetry's config files."""
    import sys

    from privpip.core import pipconfig

    home = Path(env.get("HOME") or Path.home())
    xdg_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    prefix = env.get("VIRTUAL_ENV") or env.get("CONDA_PREFIX") or None
    # pip skips the user files while PIP_CONFIG_FILE names a file; a token in them still
    # sits on this disk, so they are scanned too.
    without = {k: v for k, v in env.items() if k != "PIP_CONFIG_FILE"}
    candidates = [path for _, path in pipconfig.config_files(without, prefix)]
    candidates += [path for _, path in pipconfig.config_files(env, prefix)]
    if sys.platform == "win32":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        candidates += [appdata / "uv" / "uv.toml", appdata / "pypoetry" / "config.toml",
                       appdata / "pypoetry" / "auth.toml"]
    else:
        xdg_dirs = [Path(d) for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
                    if d]
        candidates += [d / "uv" / "uv.toml" for d in xdg_dirs]
        candidates += [Path("/etc/uv/uv.toml"), xdg_home / "uv" / "uv.toml"]
        poetry = Path(env["POETRY_CONFIG_DIR"]) if env.get("POETRY_CONFIG_DIR") else \
            xdg_home / "pypoetry"
        candidates += [poetry / "config.toml", poetry / "auth.toml"]
        if sys.platform == "darwin":
            support = home / "Library" / "Application Support"
            candidates += [support / "pypoetry" / "config.toml", support / "pypoetry" / "auth.toml"]
    candidates.append(home / ".pypirc")
    out: list[Path] = []
    for path in candidates:
        if str(path) != os.devnull and path.is_file() and path not in out:
            out.append(path)
    return out


USER_ENV = ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
            "TWINE_REPOSITORY_URL")


def scan_user(env: Mapping[str, str]) -> list[Finding]:
    """`privpip scan --user`: the user's and the machine's files and the pip/uv variables."""
    found: list[Finding] = []
    for path in user_files(env):
        text = read_text(path)
        if text is None:
            continue
        kind = file_kind(path) or ("toml" if path.suffix == ".toml" else "ini")
        if path.name in ("config.toml", "auth.toml"):
            kind = "toml"
        found += scan_text(text, str(path), kind)
    from privpip.core import pipconfig

    # pip's own variables as pip reads them (privpip.core.pipconfig), then uv's and twine's.
    pip_vars = [s.where for s in pipconfig.settings(env, None) if s.kind == "env"]
    for var in [*pip_vars, *(v for v in USER_ENV if v not in pip_vars)]:
        if env.get(var):
            found += scan_line(env[var], f"${var}", 0)
    return sorted(dedupe(found), key=Finding.sort_key)
