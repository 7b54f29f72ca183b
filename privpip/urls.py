"""Comparing hosts, origins and index URLs: the one place that decides "is this the same place"."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


def normal_host(host: str) -> str:
    """A host name as DNS compares it: lower-case, no trailing dot, IPv6 without brackets."""
    return host.strip("[]").rstrip(".").lower()


def same_host(a: str, b: str) -> bool:
    """Whether two host names (not URLs) name the same host: case and a trailing dot ignored."""
    return bool(a) and normal_host(a) == normal_host(b)


def hostname(url: str) -> str:
    """The URL's host name, normalized (see ``normal_host``); "" when it has none."""
    try:
        return normal_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, normal_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme)


def same_origin(a: str, b: str) -> bool:
    """Whether a credential meant for URL ``a`` may be sent to URL ``b`` (RFC 6454 origin)."""
    return origin(a) == origin(b)


def same_index(a: str, b: str) -> bool:
    """Whether two index URLs name the same index: same origin and path, trailing '/' ignored."""
    pa, pb = urlsplit(a), urlsplit(b)
    return same_origin(a, b) and pa.path.rstrip("/").lower() == pb.path.rstrip("/").lower()


def netrc_host(url: str) -> str:
    """The host as requests looks it up in a netrc: the netloc as written, port dropped."""
    netloc = urlsplit(url).netloc
    return netloc.split(":")[0] if not netloc.startswith("[") else netloc.split("]")[0] + "]"


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1: the hosts http:// is accepted for.

    Not ``*.localhost``, nor ``localhost.``: glibc (``hosts: files dns``) may ask the
    network's DNS server for such names, so one may well not be this machine.
    """
    import ipaddress

    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback and (address.version == 4 or str(address) == "::1")
