"""Which Python environment a command targets: the one a plain ``python -m pip`` would use.

Read before pip starts (privpip.run.pip_ahead), so it needs no module beyond os: no pathlib,
re or typing.
"""

from __future__ import annotations

import os

from privpip.errors import UsageError

TYPE_CHECKING = False  # not typing's: this module is imported before pip starts
if TYPE_CHECKING:
    from collections.abc import Mapping

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = "python.exe" if os.name == "nt" else "python"


class Target:
    """An interpreter, and why it was chosen: "--python", "VIRTUAL_ENV", "CONDA_PREFIX",
    "PATH" (or what `privpip run` read)."""

    __slots__ = ("python", "why")

    def __init__(self, python: str, why: str) -> None:
        self.python = python
        self.why = why

    def __repr__(self) -> str:
        return f"Target({self.python!r}, {self.why!r})"

    def venv_version(self) -> tuple[int, int] | None:
        """The Python version the target's pyvenv.cfg declares; None when it has none."""
        cfg = os.path.join(os.path.dirname(os.path.dirname(self.python)), "pyvenv.cfg")
        try:
            with open(cfg, encoding="utf-8") as file:
                lines = file.read().splitlines()
        except (OSError, ValueError):
            return None
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                major, _, rest = value.strip().partition(".")
                minor = rest.split(".")[0]
                if major.isdigit() and minor.isdigit():
                    return int(major), int(minor)
        return None

    def version(self) -> tuple[int, int]:
        """The target's Python version: from pyvenv.cfg when it has one, else by asking it."""
        declared = self.venv_version()
        if declared is not None:
            return declared
        import subprocess

        try:
            out = subprocess.run(
                [self.python, "-c", "import sys; print(*sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=True,
            ).stdout.split()
            return int(out[0]), int(out[1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            raise UsageError(
                f"cannot run the target Python {self.python} (chosen by {self.why})",
                "pass --python PATH to choose another interpreter or virtual environment",
            ) from None


def find(python: str | None, env: Mapping[str, str]) -> Target:
    """--python (an interpreter or an environment directory), else the active env, else PATH."""
    if python:
        path = os.path.join(python, _BIN, _EXE) if os.path.isdir(python) else python
        if not os.path.exists(path) and os.sep not in python:
            found = _which(python, path=env.get("PATH"))
            if found:
                return Target(found, "--python")
        if not os.path.exists(path):
            raise UsageError(f"--python: {python} does not exist")
        return Target(path, "--python")
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if env.get(var):
            candidate = os.path.join(env[var], _BIN, _EXE)
            if os.path.exists(candidate):
                return Target(candidate, var)
    for name in ("python3", "python"):
        found = _which(name, path=env.get("PATH"))
        if found:
            return Target(found, "PATH")
    raise UsageError(
        "no Python interpreter found: no active virtual environment and no python3 on PATH",
        "activate a virtual environment or pass --python PATH",
    )


def _which(name: str, path: str | None) -> str | None:
    """shutil.which, imported only here: with --python PATH or an active environment
    (the common case) privpip needs neither shutil nor the compression modules it loads."""
    import shutil

    return shutil.which(name, path=path)
