"""twine: TWINE_* variables, where to upload, which files, which twine, what its refusal meant."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from privpip.config import Index, providers
from privpip.errors import ConfigError, PrivpipError, UsageError
from privpip.run.delivery import Access


def twine_variables(access: Access, repository_url: str) -> dict[str, str]:
    """TWINE_REPOSITORY_URL / _USERNAME / _PASSWORD: twine reads them, so argv stays clean."""
    out = {"TWINE_REPOSITORY_URL": repository_url, "TWINE_NON_INTERACTIVE": "1"}
    if access.credential is not None:
        out["TWINE_USERNAME"] = access.credential.username
        out["TWINE_PASSWORD"] = access.credential.token.reveal()
    return out


def upload_access(index: Index, url: str, env: Mapping[str, str]) -> Access:
    """The credential for an upload URL on another origin than the index's own URL.

    The index's token (variables, keyring entry of the index URL, token command) was issued
    for the index URL and stays on its origin; only a keyring entry stored under the upload
    URL itself, with the index's username, goes to the upload URL; else it is refused.
    """
    from privpip import credentials
    from privpip.core.secret import redact
    from privpip.credentials.store import KeyringStore
    from privpip.errors import CredentialNotFound, KeyringUnavailable

    if not index.auth:
        return Access(index, None)
    user = credentials.username(index, env)
    try:
        value = KeyringStore.from_env(env).get(url, user)
        why = f"no entry for {redact(url)} and user {user!r}"
    except KeyringUnavailable as exc:
        value, why = None, exc.message
    if value:
        return Access(index, credentials.checked(
            f"the upload URL of index {index.name!r}", user, value, "keyring (upload URL)"))
    raise CredentialNotFound(
        index.name, [("keyring", why)],
        f"upload-url {redact(url)} is on another origin than url {redact(index.url)}, so "
        f"privpip does not send the index's token there; store a token for it: "
        f"`keyring set {url} {user}`",
    )


def upload_url(index: Index) -> str:
    """The index's `upload-url`, else one derived from a known URL shape; else ask for it."""
    if index.upload_url:
        return index.upload_url
    derived = providers.upload_url(index)  # GitLab project, CodeArtifact, Artifact Registry, Azure
    if derived:
        return derived
    parts = urlsplit(index.url)
    path = parts.path.rstrip("/")
    if path == "/simple":  # pypiserver and alike: uploads go to the server root
        return urlunsplit(parts._replace(path="/"))
    example = "https://gitlab.example.com/api/v4/projects/<id>/packages/pypi"
    if providers.gitlab_kind(index.url) == "group":
        why = "is a GitLab group index, and GitLab accepts uploads only into a project"
    else:
        why = "has a shape privpip does not know the upload endpoint for"
    raise ConfigError(
        index.origin,
        f"index {index.name!r}: its url {index.url} {why}",
        f'add upload-url = "..." to that [[index]] table (for GitLab: "{example}")',
    )


# ---------------------------------------------------------------------------
# the files


@dataclass(frozen=True)
class Dist:
    path: Path
    project: str
    version: str


def collect(paths: Sequence[str]) -> list[Dist]:
    """Every distribution named (a directory stands for its .whl/.tar.gz/.zip files), checked.

    The version in each file name must be a valid PEP 440 version (what PyPI, GitLab and
    pip accept); a bad one is named before anything is uploaded.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if _kind(p.name))
            if not found:
                raise UsageError(f"{raw}: no .whl, .tar.gz or .zip files in this directory")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{raw}: no such file")
    return [check(path) for path in files]


def _kind(name: str) -> str | None:
    if name.endswith(".whl"):
        return "wheel"
    if name.endswith((".tar.gz", ".zip")):
        return "sdist"
    return None


def check(path: Path) -> Dist:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion

    kind = _kind(path.name)
    if kind is None:
        raise UsageError(
            f"{path}: not a distribution (expected a .whl wheel or a .tar.gz/.zip sdist)"
        )
    try:
        if kind == "wheel":
            name, version, _build, _tags = parse_wheel_filename(path.name)
        else:
            name, version = parse_sdist_filename(path.name)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion) as exc:
        if "version" in str(exc).lower():
            raise UsageError(
                f"{path}: {_version_part(path.name, kind)!r} is not a valid version "
                "(PEP 440); package indexes such as GitLab and PyPI refuse it",
                "set a version like 1.2.0, 1.2.0rc1 or 1.2.0.post1 in the project and build again",
            ) from None
        raise UsageError(f"{path}: not a valid {kind} file name ({exc})") from None
    return Dist(path, str(name), str(version))


def _version_part(filename: str, kind: str) -> str:
    if kind == "wheel":
        parts = filename[: -len(".whl")].split("-")
        return parts[1] if len(parts) > 1 else ""
    stem = filename[: -len(".tar.gz")] if filename.endswith(".tar.gz") else filename[:-4]
    return stem.rpartition("-")[2]


# ---------------------------------------------------------------------------
# twine


_HAS_TWINE = "import importlib.util, sys; sys.exit(importlib.util.find_spec('twine') is None)"


def find_twine(target_python: str | None, env: Mapping[str, str] | None = None) -> list[str]:
    """The command that runs twine: the target's ``python -m twine``, else privpip's own,
    else a `twine` on PATH (installed with pipx or `uv tool`)."""
    import importlib.util
    import shutil

    if target_python:
        try:
            has = subprocess.run([target_python, "-c", _HAS_TWINE], capture_output=True,
                                 timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            has = False
        if has:
            return [target_python, "-m", "twine"]
    if importlib.util.find_spec("twine") is not None:
        return [sys.executable, "-m", "twine"]
    on_path = shutil.which("twine", path=(env or {}).get("PATH"))
    if on_path:
        return [on_path]
    where = f"{target_python} nor " if target_python else ""
    raise PrivpipError(
        f"twine is not installed: neither {where}privpip's own Python ({sys.executable}) "
        "can import it, and there is no `twine` on PATH",
        "install it next to privpip (`pipx inject privpip twine`, `uv tool install privpip "
        "--with twine`, or `pip install 'privpip[upload]'`), on PATH (`pipx install twine`), "
        "or into the project's environment (`python -m pip install twine`)",
    )


def default_dists(cwd: Path) -> list[str]:
    """No files named: every distribution in ./dist, as `uv publish` does."""
    dist = cwd / "dist"
    if not dist.is_dir() or not any(_kind(p.name) for p in dist.iterdir()):
        found = ("dist/ has no .whl, .tar.gz or .zip files" if dist.is_dir()
                 else "there is no dist/ directory here")
        raise UsageError(
            f"no files given, and {found}",
            "build first (`python -m build` or `uv build` write dist/), or name the files: "
            "privpip upload path/to/file.whl",
        )
    return [str(dist)]


_REFUSED = re.compile(
    r"409 Conflict|already exists|already been taken|already been used|file-name-reuse",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # twine's rich colours its log levels
_UPLOADING = re.compile(r"^Uploading (\S+\.(?:whl|tar\.gz|zip))\b")


@dataclass
class TwineOutput:
    """Shows twine's output as it comes (without its INFO blocks unless verbose) and
    remembers all of it, to tell an "already exists" refusal from other failures."""

    show: Callable[[str], None]
    verbose: bool
    lines: list[str] = field(default_factory=list)
    current: str | None = None
    _hiding: bool = False

    def __call__(self, line: str) -> None:
        stripped = _ANSI.sub("", line).rstrip("\n")
        self.lines.append(stripped)
        match = _UPLOADING.match(stripped)
        if match:
            self.current = match.group(1)
        if stripped[:1] not in ("", " "):  # a new block: rich starts it in column 0
            self._hiding = stripped.startswith("INFO") and not self.verbose
        if not self._hiding:
            self.show(line)

    def refused_as_existing(self) -> bool:
        text = " ".join(" ".join(self.lines).split())
        return bool(_REFUSED.search(text))


def already_exists(dist: Dist | None, filename: str | None, index: Index) -> PrivpipError:
    if dist is not None:
        what = f"version {dist.version} of {dist.project} ({dist.path.name})"
    else:
        what = filename or "a file"
    return PrivpipError(
        f"{what} already exists on index {index.name!r}; registries refuse re-uploads",
        "build it with a new version number; twine stops at the first refused file, so "
        "the files named before it were uploaded and the ones after it were not",
    )


def refusal(output: TwineOutput, dists: Sequence[Dist], index: Index) -> PrivpipError | None:
    if not output.refused_as_existing():
        return None
    by_name: Mapping[str, Dist] = {d.path.name: d for d in dists}
    current = output.current
    return already_exists(by_name.get(current or ""), current, index)
