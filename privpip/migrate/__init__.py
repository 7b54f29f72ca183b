"""`privpip migrate`: the plan that moves scanned tokens out of files, and its atomic apply.

``plan`` (what will be done, shown masked), ``build`` (findings -> plan), ``apply`` (all files
or none; the history warning)."""

from __future__ import annotations

from privpip.migrate.apply import history_commits, rotate_advice, write_all
from privpip.migrate.build import build_plan
from privpip.migrate.plan import FileChange, KeyringEntry, Plan, mask

__all__ = ["FileChange", "KeyringEntry", "Plan", "build_plan", "history_commits", "mask",
           "rotate_advice", "write_all"]
