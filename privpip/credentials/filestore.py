"""privpip's token file for machines without a keyring (`privpip login` there, --insecure-storage).

The tokens are not encrypted: anyone who can read the file (root, a backup, a process running
as the user) has them. It exists because a headless machine often has no keyring at all, and
the alternative people reach for is a token in a shell profile or a pip.conf. `privpip login`
writes it where no keyring backend exists (saying so, as gh does; --no-insecure-fallback
refuses) or with --insecure-storage; it lives in the user's data directory, the directory
0700, the file 0600, written atomically.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "tokens.json"
_VERSION = 1


class FileStoreError(Exception):
    """The file exists but cannot be used (unreadable, malformed, open to other users)."""


def path(env: Mapping[str, str]) -> Path:
    """tokens.json in privpip's user data directory ($XDG_DATA_HOME/privpip on Linux)."""
    from privpip.core.userdata import data_dir

    return data_dir(env) / FILE_NAME


def _load(file: Path) -> list[dict[str, str]]:
    import json

    try:
        with open(file, encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise FileStoreError(f"{file} is open to other users (mode "
                                     f"{stat.S_IMODE(mode):o}); run `chmod 600 {file}`")
            data = json.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FileStoreError(f"cannot read {file}: {exc}") from None
    entries = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FileStoreError(f"{file} is not a privpip token file")
    return [e for e in entries if isinstance(e, dict)
            and all(isinstance(e.get(k), str) for k in ("service", "username", "token"))]


def get(env: Mapping[str, str], service: str, username: str) -> str | None:
    """The token stored for (service, username), None when there is none or no file."""
    from privpip.core.identity import same_service

    for entry in _load(path(env)):
        if same_service(entry["service"], service) and entry["username"] == username:
            return entry["token"]
    return None


def set(env: Mapping[str, str], service: str, username: str, token: str) -> Path:  # noqa: A001
    """Store the token (replacing an entry for the same service and user); the file's path."""
    from privpip.core.identity import same_service

    file = path(env)
    entries = [e for e in _load(file)
               if not (same_service(e["service"], service) and e["username"] == username)]
    entries.append({"service": service, "username": username, "token": token})
    _write(file, entries)
    return file


def delete(env: Mapping[str, str], service: str, username: str) -> bool:
    """Remove the entry; False when there was none. The file goes when it is empty."""
    from privpip.core.identity import same_service

    file = path(env)
    entries = _load(file)
    kept = [e for e in entries
            if not (same_service(e["service"], service) and e["username"] == username)]
    if len(kept) == len(entries):
        return False
    if kept:
        _write(file, kept)
    else:
        file.unlink(missing_ok=True)
    return True


def _write(file: Path, entries: list[dict[str, str]]) -> None:
    from privpip.core.userdata import write_private_json

    write_private_json(file, {"version": _VERSION, "tokens": entries}, indent=1)
