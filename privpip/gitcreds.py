"""git+https dependencies: privpip as git's credential helper, for the configured hosts only.

The parent (``privpip install`` / ``pip`` / ``run``) never hands git a token. It registers a
helper per configured host through GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n
(git 2.31+); the helper is this interpreter running ``privpip git-credential``, a separate
process started by git, which resolves the token itself from the same config and the same
environment (PRIVPIP_GIT_<HOST>_TOKEN, token-env, keyring, an index on the same host) and
writes it only to git's stdin pipe. No token is in an argv, a URL, or a file.

For each host the helper list is first reset (an empty ``helper`` value), so a helper the
user configured globally, such as ``store``, is neither asked nor told to store the token.
``useHttpPath`` is left alone: one credential per host, whatever the repository path.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from privpip import config as config_mod
from privpip.config import Config, GitHost
from privpip.credentials import Credential
from privpip.errors import CredentialNotFound, PrivpipError, UsageError
from privpip.secret import Secret, redact

if TYPE_CHECKING:
    from privpip.credentials import Store
    from privpip.delivery import Access
    from privpip.pipeline import Session

MIN_GIT = (2, 31)  # GIT_CONFIG_COUNT
KEYRING_PREFIX = "git:"
_MAX_REQUEST = 64 * 1024


def token_var(git: GitHost) -> str:
    return f"PRIVPIP_GIT_{git.env_name}_TOKEN"


def username_var(git: GitHost) -> str:
    return f"PRIVPIP_GIT_{git.env_name}_USERNAME"


def keyring_service(git: GitHost) -> str:
    """``git:https://HOST[:PORT]``: the service name Git Credential Manager uses too."""
    return f"{KEYRING_PREFIX}https://{git.host}"


def index_on_host(git: GitHost, cfg: Config) -> config_mod.Index | None:
    """The first index (with auth) on the same host name; its port does not matter (as in netrc)."""
    for index in cfg.indexes:
        if index.auth and index.host.lower() == git.hostname:
            return index
    return None


# ---------------------------------------------------------------------------
# resolving a git host's credential (run inside the helper process)


class GitCredentialNotFound(CredentialNotFound):
    """No source had a credential for a git host; lists every source tried."""

    def __init__(self, host: str, tried: list[tuple[str, str]], hint: str) -> None:
        super().__init__(host, tried, hint)
        lines = [f"no credential for git host {host}; tried:"]
        lines += [f"  - {source}: {reason}" for source, reason in tried]
        self.message = "\n".join(lines)
        self.args = (self.message,)


def resolve(git: GitHost, cfg: Config, env: Mapping[str, str], store: Store | None) -> Credential:
    """Order: PRIVPIP_GIT_<HOST>_TOKEN, token-env, keyring, then an index on the same host."""
    from privpip import credentials

    explicit_user = env.get(username_var(git)) or git.username
    username = explicit_user or git.default_username
    tried: list[tuple[str, str]] = []
    found = credentials.from_env_or_keyring(
        (token_var(git), *git.token_env), keyring_service(git), username,
        f"git host {git.host}", env, store, tried)
    if found is not None:
        return found

    index = index_on_host(git, cfg)
    if index is None:
        tried.append(("index on the same host", "none configured"))
    else:
        from_netrc = _from_privpips_netrc(index, env)
        if from_netrc is not None:
            user = from_netrc.username
            if user == config_mod.DEFAULT_USERNAME:
                user = git.default_username
            return Credential(explicit_user or user, from_netrc.token, from_netrc.source)
        try:
            cred = credentials.resolve(index, env, store, None, "git's helper cannot ask")
        except CredentialNotFound as exc:
            tried.append((f"index {index.name!r}", "; ".join(f"{s}: {r}" for s, r in exc.tried)))
        else:
            if cred is not None:
                # "__token__" is PyPI's convention and means nothing to git; a real username
                # (a GitLab deploy token's, gitlab-ci-token) is needed by git as well.
                user = cred.username
                if user == config_mod.DEFAULT_USERNAME:
                    user = git.default_username
                return Credential(explicit_user or user, cred.token,
                                  f"index {index.name} ({cred.source})")
    raise GitCredentialNotFound(
        git.host, tried,
        f"set {token_var(git)}, or store a token with "
        f"`keyring set {keyring_service(git)} {username}`",
    )


def _from_privpips_netrc(index: config_mod.Index, env: Mapping[str, str]) -> Credential | None:
    """The index's credential from the private netrc privpip wrote for this run, if any.

    pip's environment does not carry PRIVPIP_INDEX_<NAME>_TOKEN (a build backend could print
    it), so a helper started by git under pip finds the index's token where pip does.
    """
    path = env.get("PRIVPIP_NETRC")
    if not path:
        return None
    import netrc

    try:
        entry = netrc.netrc(path).authenticators(index.netrc_host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not entry or not entry[2]:
        return None
    return Credential(entry[0] or index.username, Secret(entry[2]),
                      f"index {index.name} (privpip's netrc)")


# ---------------------------------------------------------------------------
# the helper protocol (gitcredentials(7))


class BadRequest(Exception):
    """A credential request privpip refuses to interpret."""


def parse_request(data: bytes) -> dict[str, str]:
    """key=value lines up to a blank line or the end; every doubtful input is refused.

    Lines end at LF only; one CR before the LF is dropped (as git does). Any other CR, a NUL,
    a line without '=', or a repeated single-valued key is refused: those are the shapes of
    the credential-smuggling bugs (CVE-2020-5260, CVE-2024-52006).
    """
    if len(data) > _MAX_REQUEST:
        raise BadRequest("request too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request is not UTF-8") from None
    if "\0" in text:
        raise BadRequest("request contains a NUL byte")
    attrs: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line == "":
            break
        if "\r" in line:
            raise BadRequest("request contains a carriage return inside a line")
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise BadRequest(f"malformed line {line[:40]!r}")
        if key.endswith("[]"):
            continue  # multi-valued (capability[], wwwauth[], state[]): not needed here
        if key in attrs and attrs[key] != value:
            raise BadRequest(f"{key!r} given twice with different values")
        attrs[key] = value
    return attrs


def _split_host(host: str) -> tuple[str, int | None]:
    from urllib.parse import urlsplit

    if not host or any(c in host for c in "/@?#\\ \t") or host.endswith(":"):
        raise BadRequest("malformed host")
    try:
        parts = urlsplit("//" + host)
        port = parts.port
    except ValueError:
        raise BadRequest("malformed host") from None
    hostname = parts.hostname or ""
    if not hostname:
        raise BadRequest("malformed host")
    return (f"[{hostname}]" if ":" in hostname else hostname), port


_DEFAULT_PORTS = {"https": 443, "http": 80}


def match_host(hosts: Sequence[GitHost], protocol: str, host: str) -> GitHost | None:
    """The configured host for this request: exact host name, same port (default per scheme)."""
    if protocol not in _DEFAULT_PORTS:
        return None
    name, port = _split_host(host)
    if protocol == "http" and not config_mod.is_loopback(name):
        return None  # a token must not travel in clear text; loopback is the one exception
    effective = port if port is not None else _DEFAULT_PORTS[protocol]
    for git in hosts:
        want = git.port if git.port is not None else _DEFAULT_PORTS[protocol]
        if git.hostname == name.strip("[]") and want == effective:
            return git
    return None


def answer(operation: str, request: bytes, env: Mapping[str, str], out: IO[str],
           err: IO[str]) -> int:
    """Run one helper operation; returns the exit status. Only ``get`` ever writes anything."""
    if operation != "get":
        return 0  # store / erase / anything new: privpip keeps nothing, so nothing to do
    try:
        attrs = parse_request(request)
    except BadRequest as exc:
        err.write(f"privpip git-credential: ignoring the request: {exc}\n")
        return 0
    protocol, host = attrs.get("protocol", ""), attrs.get("host", "")
    if not protocol or not host:
        return 0
    try:
        cfg = config_mod.load(Path.cwd(), env, search=False)
        git = match_host(cfg.git_hosts, protocol, host)
    except BadRequest:
        return 0
    except PrivpipError as exc:
        err.write(f"privpip git-credential: {redact(exc.message)}\n")
        return 0
    if git is None:
        return 0
    from privpip.store import KeyringStore

    try:
        cred = resolve(git, cfg, env, KeyringStore.from_env(env))
    except PrivpipError as exc:
        err.write(f"privpip git-credential: {redact(exc.message)}\n")
        if exc.hint:
            err.write(f"  hint: {redact(exc.hint)}\n")
        return 0
    wanted = attrs.get("username")
    if wanted and wanted != cred.username:
        err.write(f"privpip git-credential: the URL names user {wanted!r}, but the credential "
                  f"for {git.host} is for {cred.username!r}; not answering\n")
        return 0
    token = cred.token.reveal()
    for value in (cred.username, token):
        if any(c in value for c in "\n\r\0"):
            err.write(f"privpip git-credential: the credential for {git.host} contains a "
                      "line break or NUL; not answering\n")
            return 0
    out.write(f"username={cred.username}\npassword={token}\n")
    out.flush()
    return 0


def helper_main(operation: str) -> int:
    return answer(operation, sys.stdin.buffer.read(_MAX_REQUEST + 1), _environ(),
                  sys.stdout, sys.stderr)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


# ---------------------------------------------------------------------------
# registering the helper (run in the parent)


def helper_command(python: str | None = None) -> str:
    """The ``credential.helper`` value: ``!`` + a shell command git completes with `` get``.

    git runs it through ``sh``; every word is quoted. ``-c`` with the current directory
    removed from sys.path: git runs helpers inside checkouts, which must not be able to
    shadow privpip's modules. The directory holding this privpip comes first, so the
    helper is the same code as the privpip that registered it.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    code = (
        f"import sys;sys.path[:]=[{package_parent!r}]+[p for p in sys.path if p not in('','.')];"
        "from privpip.cli import main;main()"
    )
    return "!" + shlex.join([python or sys.executable, "-c", code, "git-credential"])


def config_pairs(hosts: Sequence[GitHost], helper: str) -> list[tuple[str, str]]:
    pairs = []
    for git in hosts:
        schemes = ["https"] + (["http"] if config_mod.is_loopback(git.hostname) else [])
        for scheme in schemes:
            section = f"credential.{scheme}://{git.host}"
            pairs.append((f"{section}.helper", ""))  # reset: no other helper asked or told
            pairs.append((f"{section}.helper", helper))
    return pairs


def config_environment(pairs: Sequence[tuple[str, str]], env: Mapping[str, str]) -> dict[str, str]:
    """GIT_CONFIG_COUNT/KEY_n/VALUE_n additions, after any entries already in ``env``."""
    raw = env.get("GIT_CONFIG_COUNT", "").strip()
    if raw and not raw.isdigit():
        raise UsageError(
            f"GIT_CONFIG_COUNT is set to {raw!r}, which is not a number",
            "unset GIT_CONFIG_COUNT or fix it; privpip appends its entries to it",
        )
    start = int(raw) if raw else 0
    out: dict[str, str] = {}
    for n, (key, value) in enumerate(pairs, start):
        out[f"GIT_CONFIG_KEY_{n}"] = key
        out[f"GIT_CONFIG_VALUE_{n}"] = value
    out["GIT_CONFIG_COUNT"] = str(start + len(pairs))
    return out


def git_environment(
    session: Session, accesses: Sequence[Access] = (), env: Mapping[str, str] | None = None,
    argv: Sequence[str] = (), cfg: Config | None = None,
) -> dict[str, str]:
    """Environment additions that make git ask privpip for the configured hosts' credentials.

    ``env`` is the child's environment so far (for existing GIT_CONFIG_COUNT entries);
    ``argv`` is the child's command line: when it visibly needs git (a ``git+`` URL in it or
    in a -r/-c file) git's version is checked. Returns {} when no [[git]] host is configured.
    ``accesses`` is accepted for symmetry with the other delivery functions; the helper
    resolves its own credential, so no token passes through here.
    """
    env = session.env if env is None else env
    # Loaded quietly: resolve_accesses already reported the config files with --verbose.
    cfg = cfg or config_mod.load(session.cwd, session.env, session.config_path)
    if not cfg.git_hosts:
        return {}
    if mentions_git(argv, session.cwd):
        version = require_git(env)
        session.note("git " + ".".join(map(str, version)))
    out = config_environment(config_pairs(cfg.git_hosts, helper_command()), env)
    project = _project_file(session)
    if project is not None:
        # The helper runs wherever git runs it; it must read this config, not search for one.
        out["PRIVPIP_CONFIG"] = str(project)
    for git in cfg.git_hosts:
        session.note(f"git host {git.host}: credential helper registered (privpip git-credential)")
    return out


def _project_file(session: Session) -> Path | None:
    explicit = session.config_path or session.env.get("PRIVPIP_CONFIG")
    if explicit:
        return (session.cwd / explicit).resolve()
    found = config_mod.find_project_file(session.cwd)
    return found.resolve() if found else None


_GIT_URL = re.compile(r"(?<![A-Za-z0-9])git\+(https?|ssh|file|git)://", re.IGNORECASE)


def mentions_git(argv: Sequence[str], cwd: Path) -> bool:
    """Whether the command line, or a requirements/constraints file it names, has a git+ URL."""
    args = list(argv)
    files: list[str] = []
    for n, arg in enumerate(args):
        if _GIT_URL.search(arg):
            return True
        if arg in ("-r", "--requirement", "-c", "--constraint") and n + 1 < len(args):
            files.append(args[n + 1])
        for prefix in ("--requirement=", "--constraint="):
            if arg.startswith(prefix):
                files.append(arg[len(prefix):])
        if arg[:2] in ("-r", "-c") and len(arg) > 2:
            files.append(arg[2:])
    for name in files:
        try:
            text = (cwd / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _GIT_URL.search(text):
            return True
    return False


def git_version(env: Mapping[str, str]) -> tuple[int, int] | None:
    """``git --version`` as (major, minor); None when git is not installed."""
    import shutil
    import subprocess

    git = shutil.which("git", path=env.get("PATH"))
    if git is None:
        return None
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10,
                             env=dict(env), check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


def require_git(env: Mapping[str, str]) -> tuple[int, int]:
    version = git_version(env)
    if version is None:
        raise PrivpipError(
            "git is needed for a git+ requirement but was not found on PATH",
            "install git 2.31 or newer",
        )
    if version < MIN_GIT:
        shown = ".".join(map(str, version))
        raise PrivpipError(
            f"git {shown} is too old: privpip passes git its credential helper through "
            "GIT_CONFIG_COUNT, which needs git 2.31 or newer (older git ignores it and would "
            "fail to authenticate)",
            "install git 2.31 or newer (e.g. from your distribution's backports)",
        )
    return version
