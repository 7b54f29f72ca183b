"""Finding index and git-host credentials written into a project's files (no click here).

``finding`` (what is reported), ``kinds`` (which files, of what kind), ``text`` (what counts,
in one file's text), ``tree`` (a project's or the user's files, scanned)."""

from __future__ import annotations

from privpip.hygiene.scan.finding import LEAK, MASK, REFERENCE, Finding
from privpip.hygiene.scan.kinds import FILES_REGEX, file_kind, file_role
from privpip.hygiene.scan.text import (
           guess_provider,
           is_placeholder,
           is_reference,
           scan_text,
           split_lines,
)
from privpip.hygiene.scan.tree import (
           USER_ENV,
           git_root,
           project_files,
           read_text,
           scan_files,
           scan_project,
           scan_user,
           user_files,
)

__all__ = ["FILES_REGEX", "LEAK", "MASK", "REFERENCE", "USER_ENV", "Finding", "file_kind",
           "file_role", "git_root", "guess_provider", "is_placeholder", "is_reference",
           "project_files", "read_text", "scan_files", "scan_project", "scan_text", "scan_user",
           "split_lines", "user_files"]
