"""Identity: the one answer to "is this the same index name / host / origin / index URL?",
the keyring service keys, the default username, and the one basic-auth encoding.

Every trust, credential and routing decision asks this module; a second copy with other
rules is how a project's index ``Corp`` once took the token exported for ``corp``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# PyPI's convention, which GitLab and most registries accept; written here only.
DEFAULT_USERNAME = "__token__"
DEFAULT_PORTS = {"https": 443, "http": 80}
GIT_SERVICE_PREFIX = "git:"

# ---------------------------------------------------------------------------
# index names


def name_key(name: str) -> str:
    """NAME as it appears in PRIVPIP_INDEX_<NAME>_TOKEN (uv's rule): two names are one index
    exactly when they give the same key (``Corp``, ``CORP``, ``corp``; ``corp.x``, ``corp_x``,
    ``corp-x``), because a token exported for one is read for the other."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


# ---------------------------------------------------------------------------
# hosts, origins, index URLs


def normal_host(host: str) -> str:
    """A host name as DNS compares it: lower case, IDNA (A-label), no trailing dot, IPv6
    without brackets."""
    host = host.strip("[]").rstrip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a valid IDN: compared as written (lower case)
    return host


def same_host(a: str, b: str) -> bool:
    """Whether two host names (not URLs) name the same host."""
    return bool(a) and normal_host(a) == normal_host(b)


def hostname(url: str) -> str:
    """The URL's host name, normalized (see ``normal_host``); "" when it has none."""
    try:
        return normal_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in (0: none known).

    Raises ValueError for a port that is not a number."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, normal_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme, 0)


def same_origin(a: str, b: str) -> bool:
    """Whether a credential meant for URL ``a`` may be sent to URL ``b`` (RFC 6454 origin)."""
    try:
        return origin(a) == origin(b)
    except ValueError:
        return False


def canonical_url(url: str) -> str:
    """The index URL's one spelling: scheme and host in lower case, host as IDNA, the default
    port dropped, userinfo, query and fragment dropped, the path ending in exactly one '/'.
    The path keeps its case (servers tell /Simple/ from /simple/). Raises ValueError for a
    port that is not a number."""
    scheme, host, port = origin(url.strip())
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (0, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = urlsplit(url.strip()).path.rstrip("/") + "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def same_index(a: str, b: str) -> bool:
    """Whether two index URLs name the same index (see ``canonical_url``)."""
    try:
        return canonical_url(a) == canonical_url(b)
    except ValueError:
        return False


def netrc_host(url: str) -> str:
    """The host as requests looks it up in a netrc: the netloc as written, userinfo and port
    dropped."""
    netloc = urlsplit(url).netloc.rpartition("@")[2]
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


# ---------------------------------------------------------------------------
# keyring service keys


def keyring_service(url: str) -> str:
    """The service privpip writes an index's entry under: the credential-free URL exactly as
    configured (what `keyring get URL user` and pip's keyring lookup ask for)."""
    return url


def keyring_services(url: str) -> list[str]:
    """The services that may hold the entry of the index at ``url``, in the order they are
    asked: the URL as configured, then its canonical spelling with and without the trailing
    slash (entries written by hand with `keyring set`, or before the URL was edited)."""
    services = [url]
    try:
        canonical = canonical_url(url)
    except ValueError:
        return services
    for variant in (canonical, canonical.rstrip("/")):
        if variant not in services:
            services.append(variant)
    return services


def host_service(url: str) -> str:
    """The service of an entry shared by every index on one host (`login --for-host`):
    host[:port]-less host name, the name pip's own keyring lookup falls back to as well."""
    return netrc_host(url).lower()


def git_service(host: str) -> str:
    """``git:https://HOST[:PORT]``: the service name Git Credential Manager uses too."""
    return f"{GIT_SERVICE_PREFIX}https://{host}"


def same_service(a: str, b: str) -> bool:
    """Whether two keyring service names are one index URL (see ``same_index``); a service
    that is not a URL must match exactly."""
    if a == b:
        return True
    if "://" not in a or "://" not in b or a.startswith(GIT_SERVICE_PREFIX) \
            or b.startswith(GIT_SERVICE_PREFIX):
        return False
    return same_index(a, b)


# ---------------------------------------------------------------------------
# HTTP basic auth


def basic_auth(username: str, password: str) -> str:
    """The Authorization header value, UTF-8 encoded as pip and uv send it (RFC 7617)."""
    import base64

    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
