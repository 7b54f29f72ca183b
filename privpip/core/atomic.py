"""Writing a file so that a reader sees the old one or the new one, never a mix: the one core
of privpip's atomic writes (project and user config files through config.edit, privpip's own
private files through userdata). Only os is imported: the local index writes through it
before pip starts."""

from __future__ import annotations

import os


def stage(target: str | os.PathLike[str], text: str, mode: int | None = None,
          durable: bool = True) -> str:
    """A new temporary file next to ``target`` (same file system) holding ``text``, flushed
    to disk unless not ``durable``, with ``mode`` (default: ``target``'s, or 0o666 minus the
    umask for a new file); the caller replaces ``target`` with it (``os.replace``) or removes
    it. Not durable is for files written beside an installer's, which pip and uv do not
    flush either (provenance records): one fsync per installed distribution cost more than
    the rest of the record.

    Created 0600, exclusively and without following a symlink, under a random name: nobody
    reads it half-written or before it has its mode."""
    target = os.fspath(target)
    if mode is None:
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
    head, name = os.path.split(target)
    tmp = os.path.join(head, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def replace(target: str | os.PathLike[str], text: str, mode: int | None = None,
            durable: bool = True) -> None:
    """Replace ``target`` (the path itself, not a symlink's target) with ``text`` in one step;
    nothing is left behind on failure."""
    tmp = stage(target, text, mode, durable)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def create(target: str | os.PathLike[str], text: str, mode: int | None = None) -> bool:
    """Write ``target`` with ``text`` only if it does not exist yet, in one step (a hard link
    of the staged file: the first of two concurrent writers wins, and a reader never sees it
    half-written); False when ``target`` was already there."""
    tmp = stage(target, text, mode)
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
