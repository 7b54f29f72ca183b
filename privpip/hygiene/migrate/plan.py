"""What `privpip migrate` will do: the keyring entries, the file changes, the config text,
and how it is shown (secrets masked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from privpip.config import Index
from privpip.core.secret import Secret
from privpip.hygiene.scan import MASK, Finding, split_lines

ROTATE_PAGES = {
    "gitlab": "https://{host}/-/user_settings/personal_access_tokens (or the project's "
              "Settings > Repository > Deploy tokens)",
    "github": "https://github.com/settings/tokens",
}

WHY_REMOVED = (
    "the index options are removed from requirement files, not kept without the token: "
    "{config} now names the index with its credential, and privpip runs pip through its own "
    "local index, which takes index options in requirement files over anyway; install with "
    "`privpip install -r FILE`")
WHY_PIP_CONF = (
    "{where}: the index setting with a token is removed: privpip takes the index over "
    "({config} names it; the token is in the keyring)")


@dataclass(frozen=True)
class KeyringEntry:
    """A token to store: service and username as privpip's resolver (or twine) looks them up."""

    what: str  # "index corp", "git host github.com", ".pypirc [corp]"
    service: str
    username: str
    token: Secret = field(repr=False)
    index: Index | None = None  # the index to verify the token against; None: not checked


@dataclass(frozen=True)
class FileChange:
    path: Path
    shown: str
    old: str | None  # None: a new file
    new: str

    def diff(self, secrets: Sequence[Secret]) -> str:
        """A unified diff with every form of every secret masked."""
        import difflib

        lines = difflib.unified_diff(
            split_lines(self.old or ""), split_lines(self.new),
            "/dev/null" if self.old is None else f"a/{self.shown}", f"b/{self.shown}")
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        return mask(text, secrets)


def mask(text: str, secrets: Sequence[Secret]) -> str:
    """``text`` with every form of every secret (raw, percent-encoded) replaced by ****."""
    from urllib.parse import quote

    for secret in sorted(secrets, key=lambda s: -len(s.reveal())):
        value = secret.reveal()
        for form in sorted({value, quote(value, safe=""), quote(value)}, key=len, reverse=True):
            if len(form) >= 4:
                text = text.replace(form, MASK)
    return text


@dataclass
class Plan:
    config_path: Path
    changes: list[FileChange] = field(default_factory=list)
    entries: list[KeyringEntry] = field(default_factory=list)
    ci_variables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why)
    moved: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes and not self.entries

    def secrets(self) -> list[Secret]:
        return [f.secret for f in [*self.moved, *(s for s, _ in self.skipped)]
                if f.secret is not None]

    def describe(self) -> str:
        out: list[str] = []
        for change in self.changes:
            out.append(change.diff(self.secrets()))
        if self.entries:
            out.append("keyring entries to create (each token is first checked against its "
                       "index, where there is one):")
            out += [f"  {e.what}: service {e.service}, user {e.username}" for e in self.entries]
        if self.ci_variables:
            out.append("CI variables to create (masked, protected) in the CI system's settings, "
                       "each holding the token that was in the file:")
            out += [f"  {v}" for v in self.ci_variables]
        out += [f"note: {n}" for n in self.notes]
        for finding, why in self.skipped:
            out.append(f"not migrated (remove it by hand: {why}): {finding.describe()}")
        return mask("\n".join(out) + "\n", self.secrets()) if out else ""
