"""privpip.core.atomic, the one core of privpip's atomic writes (config.edit and userdata use it)."""

from __future__ import annotations

import os
import stat

import pytest

from privpip.config import edit
from privpip.core import atomic
from privpip.core.userdata import write_private


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_modes_kept_defaulted_or_private(tmp_path):
    kept = tmp_path / "kept.toml"
    kept.write_text("old\n")
    kept.chmod(0o640)
    atomic.replace(kept, "new\n")
    assert kept.read_text() == "new\n" and mode(kept) == 0o640
    new = tmp_path / "new.toml"
    old_mask = os.umask(0o027)
    try:
        atomic.replace(new, "x\n")
    finally:
        os.umask(old_mask)
    assert mode(new) == 0o640
    write_private(tmp_path / "state" / "tokens.json", "{}\n")
    assert mode(tmp_path / "state" / "tokens.json") == 0o600
    assert mode(tmp_path / "state") == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.toml", "new.toml", "state"]


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "privpip.toml"
    target.write_text("old\n")

    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic.replace(target, "new\n")
    with pytest.raises(OSError, match="disk full"):
        edit.write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["privpip.toml"]


def test_userdata_replaces_a_symlink_itself_config_edit_writes_through(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text("real\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    edit.write_atomic(link, "through\n")  # a symlinked config file: its target is written
    assert real.read_text() == "through\n" and link.is_symlink()
    private = tmp_path / "private.json"
    private.symlink_to(real)
    write_private(private, "{}\n")  # privpip's own file: never written through a link
    assert not private.is_symlink() and real.read_text() == "through\n"


def test_config_writes_reach_the_disk_and_installer_side_records_do_not_wait_for_it(
        tmp_path, monkeypatch):
    flushed: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "RECORD"
    target.write_text("a,,\n")
    target.chmod(0o644)
    atomic.replace(target, "a,,\nb,,\n", durable=False)  # what provenance writes
    assert flushed == [] and target.read_text() == "a,,\nb,,\n"
    assert target.stat().st_mode & 0o777 == 0o644
    atomic.replace(target, "c,,\n")  # the default: privpip's config and private files
    assert len(flushed) == 1 and target.read_text() == "c,,\n"
    assert [p.name for p in tmp_path.iterdir()] == ["RECORD"]
