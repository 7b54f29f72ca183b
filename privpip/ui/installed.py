"""How privpip itself was installed (pipx, uv tool, a virtual environment, system pip), and the
command that adds a package, such as a keyring backend, to privpip's own environment."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple

Layout = Literal["pipx", "uv-tool", "venv", "system"]

KEYRING_BACKEND = "keyrings.alt"


class Installation(NamedTuple):
    layout: Layout
    prefix: str  # sys.prefix of privpip's environment
    executable: str  # the interpreter running privpip


def _data_home(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_DATA_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def _under(path: Path, parent: Path) -> bool:
    try:
        return path.resolve().parent == parent.resolve()
    except OSError:
        return False


def detect(env: Mapping[str, str], prefix: str | None = None, base_prefix: str | None = None,
           executable: str | None = None) -> Installation:
    """Which kind of environment runs privpip.

    Each tool leaves a file in the environments it manages (pipx_metadata.json,
    uv-receipt.toml); an environment directly inside the tool's directory (PIPX_HOME/venvs,
    UV_TOOL_DIR, or their defaults) counts too, for versions that write none.
    """
    prefix = sys.prefix if prefix is None else prefix
    base_prefix = sys.base_prefix if base_prefix is None else base_prefix
    executable = sys.executable if executable is None else executable
    here = Path(prefix)
    data = _data_home(env)
    home = Path(env.get("HOME") or Path.home())
    pipx_dirs = [Path(env["PIPX_HOME"]) / "venvs"] if env.get("PIPX_HOME") else [
        data / "pipx" / "venvs", home / ".local" / "pipx" / "venvs"]
    uv_dirs = [Path(env["UV_TOOL_DIR"])] if env.get("UV_TOOL_DIR") else [data / "uv" / "tools"]
    layout: Layout
    if (here / "pipx_metadata.json").is_file() or any(_under(here, d) for d in pipx_dirs):
        layout = "pipx"
    elif (here / "uv-receipt.toml").is_file() or any(_under(here, d) for d in uv_dirs):
        layout = "uv-tool"
    elif os.path.realpath(prefix) != os.path.realpath(base_prefix):
        layout = "venv"
    else:
        layout = "system"
    return Installation(layout, prefix, executable)


def add_command(package: str, where: Installation) -> str:
    """The command that installs ``package`` into privpip's own environment."""
    if where.layout == "pipx":
        return f"pipx inject {shlex.quote(Path(where.prefix).name)} {package}"
    if where.layout == "uv-tool":
        return f"uv tool install {shlex.quote(Path(where.prefix).name)} --with {package}"
    user = " --user" if where.layout == "system" else ""
    return f"{shlex.quote(where.executable)} -m pip install{user} {package}"


def keyring_backend_hint(env: Mapping[str, str]) -> str:
    """What to do when no keyring backend works: the command for this installation."""
    command = add_command(KEYRING_BACKEND, detect(env))
    return (f"install a keyring backend into privpip's own environment: `{command}` "
            "(keyrings.alt keeps tokens unencrypted in a file in your home directory)")
