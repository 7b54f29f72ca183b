"""`privpip migrate`: the plan that moves scanned tokens out of files, and its atomic apply.

``plan`` (what will be done, shown masked), ``build`` (findings -> plan), ``apply`` (all files
or none; the history warning)."""

from __future__ import annotations

from privpip.hygiene.migrate.apply import history_commits, rotate_advice, write_all
from privpip.hygiene.migrate.build import build_plan
from privpip.hygiene.migrate.plan import FileChange, KeyringEntry, Plan, mask

__all__ = ["FileChange", "KeyringEntry", "Plan", "build_plan", "history_commits", "mask",
           "rotate_advice", "write_all"]
