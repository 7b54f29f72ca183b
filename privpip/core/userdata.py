"""privpip's own files in the user's data directory: where they live and how they are written."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def data_dir(env: Mapping[str, str]) -> Path:
    """$XDG_DATA_HOME/privpip on Linux (computed as platformdirs does, without importing it:
    start-up time); platformdirs' user data directory elsewhere."""
    if sys.platform not in ("win32", "darwin"):
        xdg = env.get("XDG_DATA_HOME", "").strip()
        home = Path(env.get("HOME") or Path.home())
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "share"
        return base / "privpip"
    import platformdirs

    return Path(platformdirs.user_data_dir("privpip", appauthor=False))


def write_private_json(path: Path, data: object, indent: int = 2) -> None:
    """Replace ``path`` with ``data`` as JSON (see :func:`write_private`)."""
    import json

    write_private(path, json.dumps(data, indent=indent) + "\n")


def create_private(path: Path, text: str) -> bool:
    """Like :func:`write_private`, but only when ``path`` does not exist yet (the first of
    concurrent writers wins); False when it was already there."""
    from privpip.core.atomic import create

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    return create(path, text, mode=0o600)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, atomically (privpip.core.atomic), the file 0600 from its
    creation and its directory 0700: it may hold tokens or trust records."""
    from privpip.core.atomic import replace

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    replace(path, text, mode=0o600)
