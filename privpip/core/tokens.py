"""What a token looks like and what it may contain: the shapes of the registries' tokens (which
`scan` looks for and a config file may not hold) and the one validity policy (what a
credential must be before privpip delivers it; too short is secret.MIN_LENGTH's rule, shared
with the redactor)."""

from __future__ import annotations

import re
from typing import Literal

# Literal tokens that must never sit in a committed file: (prefix, what it is).
KINDS = {
    "glpat-": "a GitLab personal access token",
    "gldt-": "a GitLab deploy token",
    "glcbt-": "a GitLab CI job token",
    "glptt-": "a GitLab pipeline trigger token",
    "gloas-": "a GitLab OAuth application secret",
    "ghp_": "a GitHub personal access token",
    "gho_": "a GitHub OAuth token",
    "ghu_": "a GitHub user-to-server token",
    "ghs_": "a GitHub server-to-server token",
    "ghr_": "a GitHub refresh token",
    "github_pat_": "a GitHub fine-grained personal access token",
    "pypi-AgEI": "a PyPI API token",
    "AKCp": "a JFrog Artifactory API key",
    "AKIA": "an AWS access key",
    "ya29.": "a Google OAuth access token",
    "eyJ": "a JSON Web Token (JWT)",
}
PATTERN = re.compile(
    "(?<![A-Za-z0-9])(?:(" + "|".join(re.escape(p) for p in KINDS if p != "eyJ")
    + r")[A-Za-z0-9_\-]{12,}"
    # A JWT: three base64url parts; the first two are JSON objects, so both start with eyJ.
    + r"|(eyJ)[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
)


def prefix(match: re.Match[str]) -> str:
    """The KINDS key a PATTERN match found (a JWT's is its own group)."""
    return match.group(1) or match.group(2)


def kind(text: str) -> str | None:
    """What ``text`` is, when it starts with a registry token's shape ("a GitLab ...")."""
    match = PATTERN.match(text)
    return KINDS[prefix(match)] if match else None


TokenProblem = Literal["not-text", "control", "non-ascii"]


def token_problem(value: str) -> TokenProblem | None:
    """What is wrong with ``value`` as a token, if anything.

    "not-text": undecodable bytes from the environment (lone surrogates), which nothing can
    carry; "control" and "non-ascii": HTTP basic auth and netrc files cannot carry them
    (``privpip env`` can: its shells quote anything).
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not-text"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "control"
    if any(ord(c) > 127 for c in value):
        return "non-ascii"
    return None
