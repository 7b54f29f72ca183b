"""Which files `scan` reads and what kind each is: the one recognition of CI files, Dockerfiles
and .env files (`migrate` uses it too), and the pre-commit hook's file pattern."""

from __future__ import annotations

import re
from pathlib import Path

_DOCKER = re.compile(r"^(?:Dockerfile|Containerfile)(?:\..+)?$|.+\.(?:dockerfile|containerfile)$",
                     re.IGNORECASE)
_INI = {"setup.cfg", "tox.ini", "pip.conf", "pip.ini", ".pypirc"}
_TOML = {"pyproject.toml", "Pipfile", "uv.toml", "poetry.toml", "config.toml", "auth.toml"}
# The files a pre-commit hook hands over; kept in step with .pre-commit-hooks.yaml.
FILES_REGEX = (
    r"(\.(txt|in)|(^|/)(pip\.conf|pip\.ini|\.pypirc|setup\.cfg|setup\.py|pyproject\.toml|"
    r"Pipfile|uv\.toml|tox\.ini|\.gitlab-ci[^/]*\.ya?ml|\.netrc|_netrc)|(^|/)\.env(\..*)?|"
    r"(^|/)(Dockerfile|Containerfile)(\..*)?|\.(dockerfile|containerfile)|"
    r"(^|/)\.github/workflows/[^/]+\.ya?ml|(^|/)\.gitlab/ci/[^/]+\.ya?ml)$"
)


def file_role(path: str | Path) -> str | None:
    """"ci" (GitLab CI, GitHub workflows), "docker" (Dockerfile, Containerfile) or "env" (a
    .env file) from a path; None otherwise. The one recognition of these files: the scan
    reads them as text, migrate writes variable references into them."""
    p = Path(path)
    name = p.name
    if _DOCKER.match(name):
        return "docker"
    if name == ".env" or name.startswith(".env."):
        return "env"
    if name.endswith((".yml", ".yaml")) and (
            name.startswith(".gitlab-ci")
            or p.parts[-3:-1] in ((".github", "workflows"), (".gitlab", "ci"))):
        return "ci"
    return None


def file_kind(path: str | Path) -> str | None:
    """The kind of file for the scan, from its path; None for a file the scan skips."""
    name = Path(path).name
    if name in (".netrc", "_netrc"):
        return "netrc"
    if name in _INI:
        return "ini"
    if name in ("pyproject.toml", "Pipfile", "uv.toml"):
        return "toml"
    if name == "setup.py":
        return "text"
    if name.endswith((".txt", ".in")):
        return "requirements"
    return "text" if file_role(path) is not None else None
