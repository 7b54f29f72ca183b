"""Which Python environment a command targets: the one a plain ``python -m pip`` would use."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from privpip.errors import UsageError

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = "python.exe" if os.name == "nt" else "python"


class Target(NamedTuple):  # not a dataclass: install's start-up need not import dataclasses
    python: str
    why: str  # "--python", "VIRTUAL_ENV", "CONDA_PREFIX", "PATH"

    def version(self) -> tuple[int, int]:
        """The target's Python version: from pyvenv.cfg when it has one, else by asking it."""
        cfg = Path(self.python).parent.parent / "pyvenv.cfg"
        try:
            text = cfg.read_text(encoding="utf-8")
        except OSError:
            text = ""
        match = re.search(r"^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", text, re.MULTILINE)
        if match:
            return int(match.group(1)), int(match.group(2))
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
        path = Path(python)
        if path.is_dir():
            path = path / _BIN / _EXE
        if not path.exists() and os.sep not in python:
            found = _which(python, path=env.get("PATH"))
            if found:
                return Target(found, "--python")
        if not path.exists():
            raise UsageError(f"--python: {python} does not exist")
        return Target(str(path), "--python")
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if env.get(var):
            candidate = Path(env[var]) / _BIN / _EXE
            if candidate.exists():
                return Target(str(candidate), var)
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
