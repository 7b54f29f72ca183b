"""The child side of git's credential helper protocol: `privpip git-credential get`.

git starts this (registered by privpip.run.delivery.git) for the configured [[git]] hosts only.
It reads the config named by $PRIVPIP_CONFIG and the user file (never the current
directory's), resolves the host's token itself and writes it only to git's stdin pipe.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from privpip import config
from privpip.config import GitHost
from privpip.core import identity
from privpip.core.secret import redact
from privpip.credentials import Resolver
from privpip.errors import PrivpipError

_MAX_REQUEST = 64 * 1024


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


def match_host(hosts: Sequence[GitHost], protocol: str, host: str) -> GitHost | None:
    """The configured host for this request: exact host name, same port (default per scheme)."""
    if protocol not in identity.DEFAULT_PORTS:
        return None
    name, port = _split_host(host)
    if protocol == "http" and not identity.is_loopback(name):
        return None  # a token must not travel in clear text; loopback is the one exception
    effective = port if port is not None else identity.DEFAULT_PORTS[protocol]
    for git in hosts:
        want = git.port if git.port is not None else identity.DEFAULT_PORTS[protocol]
        if identity.same_host(git.hostname, name) and want == effective:
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
        cfg = config.load(Path.cwd(), env, search=False)
        git = match_host(cfg.git_hosts, protocol, host)
    except BadRequest:
        return 0
    except PrivpipError as exc:
        err.write(f"privpip git-credential: {redact(exc.message)}\n")
        return 0
    if git is None:
        return 0
    from privpip.credentials.store import KeyringStore

    try:
        cred = Resolver(env, KeyringStore.from_env(env)).git_host(git, cfg)
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
        # The protocol's framing: a line break or NUL would end or split the answer.
        if any(c in value for c in "\n\r\0"):
            err.write(f"privpip git-credential: the credential for {git.host} contains a "
                      "line break or NUL; not answering\n")
            return 0
    out.write(f"username={cred.username}\npassword={token}\n")
    out.flush()
    return 0


def helper_main(operation: str) -> int:
    import os

    return answer(operation, sys.stdin.buffer.read(_MAX_REQUEST + 1), dict(os.environ),
                  sys.stdout, sys.stderr)
