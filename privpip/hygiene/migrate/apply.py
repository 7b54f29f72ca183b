"""Applying a migration plan (every file or none) and what to say about the git history."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from privpip.config import edit
from privpip.core.secret import Secret
from privpip.hygiene.migrate.plan import ROTATE_PAGES, FileChange
from privpip.hygiene.scan import Finding


def write_all(changes: Sequence[FileChange],
              before_replace: Callable[[int], None] | None = None) -> None:
    """Every changed file, each one whole (old or new) whatever fails: config.edit's writer."""
    edit.write_many_atomic([(c.path, c.new) for c in changes], before_replace)


def history_commits(root: Path, secrets: Sequence[Secret], env: Mapping[str, str],
                    timeout: float = 20.0) -> dict[Secret, str]:
    """The oldest commit whose tree holds each secret (raw or percent-encoded).

    `git log -S<secret>` would put the token into argv, visible to every user in `ps`; so
    `git grep -F -f FILE` reads the patterns from a private (0600) temporary file, removed
    afterwards, over the commits `git rev-list --all` names (the newest 2000). Bounded by
    ``timeout`` per git call.
    """
    import subprocess
    import tempfile
    from urllib.parse import quote

    found: dict[Secret, str] = {}
    try:
        revs = subprocess.run(["git", "rev-list", "--all"], cwd=root, env=dict(env),
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return found
    commits = revs.stdout.split()[:2000] if revs.returncode == 0 else []
    if not commits:
        return found
    for secret in secrets:
        value = secret.reveal()
        forms = sorted({value, quote(value, safe=""), quote(value)})
        fd, patterns = tempfile.mkstemp(prefix="privpip-history-")  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(forms) + "\n")
            out = subprocess.run(["git", "grep", "-l", "-F", "-f", patterns, *commits, "--"],
                                 cwd=root, env=dict(env), capture_output=True, text=True,
                                 timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            continue
        finally:
            os.unlink(patterns)
        hits = {line.split(":", 1)[0] for line in out.stdout.splitlines() if ":" in line}
        oldest = [c for c in commits if c in hits]
        if oldest:
            found[secret] = oldest[-1]
    return found


def rotate_advice(finding: Finding, commit: str) -> str:
    from urllib.parse import urlsplit

    url = finding.url_without_secret or ""
    host = urlsplit(url[4:] if url.startswith("git+") else url).hostname or ""
    page = ROTATE_PAGES.get(finding.provider_guess, "")
    where = f"; revoke it at {page.format(host=host or 'gitlab.com')}" if page else \
        "; revoke it where it was issued"
    return (f"the token from {finding.path}:{finding.line} ({finding.redacted}) is in git history "
            f"since commit {commit[:12]}: rotate it (revoke and replace): removing it from the "
            f"file does not remove it from history{where}")
