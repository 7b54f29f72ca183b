"""What `privpip scan` reports: one credential (or variable reference) found in a file."""

from __future__ import annotations

from dataclasses import dataclass, field

from privpip.core.secret import Secret

LEAK = "leak"
REFERENCE = "reference"  # a variable reference: not a leak, something privpip can take over

MASK = "****"


@dataclass(frozen=True)
class Finding:
    """One credential (or, at ``level == REFERENCE``, one variable reference) in a file.

    ``redacted`` and ``url_without_secret`` never hold the secret; ``secret`` (a Secret:
    redacted by str/repr) and ``span`` (its columns in the line) are for `privpip migrate`.
    """

    path: str
    line: int  # 1-based; 0 for a value read from the environment
    kind: str
    redacted: str
    provider_guess: str
    url_without_secret: str | None = None
    level: str = LEAK
    username: str | None = None
    secret: Secret | None = field(default=None, compare=False, repr=False)
    span: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """``path:line: what (redacted, provider)``: the linter-style line `privpip scan` prints."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.kind} ({self.redacted}, {self.provider_guess})"

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "kind": self.kind, "level": self.level,
                "redacted": self.redacted, "provider": self.provider_guess,
                "url": self.url_without_secret, "username": self.username}

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.span[0] if self.span else 0, self.kind)
