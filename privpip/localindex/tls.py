"""TLS to upstreams as pip does it: which CA bundle and client certificate, from where.

pip verifies an index with, in this order: its ``cert`` option (``--cert``, ``PIP_CERT``, a
pip.conf ``cert`` key), requests' ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, OpenSSL's
``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, else the system store. A company that intercepts TLS
sets one of them, so the local index must honour the same ones or every upstream fails.
``client-cert`` (``PIP_CLIENT_CERT``) is one PEM file holding the key and the certificate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from privpip.errors import PrivpipError

if TYPE_CHECKING:
    import ssl

    from privpip.core.pipconfig import Key, Setting

CA_HINT = ("point PIP_CERT (or pip.conf's cert), REQUESTS_CA_BUNDLE or SSL_CERT_FILE at the "
           "CA bundle that signs the index's certificate")


def ca_source(env: Mapping[str, str], pip_settings: Sequence[Setting] | None = None,
              command: str = "install") -> tuple[str, str] | None:
    """(where it was set, path) of the CA bundle pip would use, or None for the default."""
    found = _pip_setting(env, pip_settings, command, "cert")
    if found is not None:
        return found
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        if env.get(var):
            return var, env[var]
    return None


def client_cert_source(env: Mapping[str, str], pip_settings: Sequence[Setting] | None = None,
                       command: str = "install") -> tuple[str, str] | None:
    """(where it was set, path) of pip's client certificate, or None."""
    return _pip_setting(env, pip_settings, command, "client-cert")


def _pip_setting(env: Mapping[str, str], pip_settings: Sequence[Setting] | None, command: str,
                 key: Key) -> tuple[str, str] | None:
    """pip's effective ``key`` (cert, client-cert) as (where, value), or None when unset."""
    from privpip.core import pipconfig

    found = (pipconfig.settings(env, keys=pipconfig.TLS_KEYS) if pip_settings is None
             else list(pip_settings))
    chosen = pipconfig.effective(found, command).get(key)
    if chosen is not None and chosen.values and chosen.values[0]:
        return f"pip's {key} ({chosen.location})", chosen.values[0]
    return None


def ssl_context(env: Mapping[str, str] | None = None,
                pip_settings: Sequence[Setting] | None = None,
                command: str = "install") -> ssl.SSLContext | None:
    """The context for upstream connections, from the CA bundle and client certificate pip
    would use (see the module docstring); None when pip would use the system store and no
    client certificate, which LocalIndex then sets up itself, in its own thread.
    ``pip_settings``: ``pipconfig.settings(env, keys=pipconfig.TLS_KEYS)`` when the caller
    already has them, else they are read here.

    A bundle or client certificate that is missing or unreadable is a PrivpipError naming
    where it was set.
    """
    env = os.environ if env is None else env
    if pip_settings is None:
        from privpip.core import pipconfig

        pip_settings = pipconfig.settings(env, keys=pipconfig.TLS_KEYS)
    ca = ca_source(env, pip_settings, command)
    client = client_cert_source(env, pip_settings, command)
    return make_context(ca, client) if ca or client else None


def make_context(ca: tuple[str, str] | None = None,
                 client: tuple[str, str] | None = None) -> ssl.SSLContext:
    """A verifying client context trusting ``ca`` (where, path) or the default store."""
    import ssl

    if ca is None:
        context = ssl.create_default_context()
    else:
        where, path = ca
        path = os.path.expanduser(path)
        if not os.path.exists(path):
            raise PrivpipError(f"{where} names a CA bundle that does not exist: {path}",
                               hint="fix the path, or unset it to use the system's store")
        try:
            if os.path.isdir(path):
                context = ssl.create_default_context(capath=path)
            else:
                context = ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise PrivpipError(f"{where} names a CA bundle that cannot be read: {path} "
                               f"({getattr(exc, 'reason', None) or exc})",
                               hint="it must be PEM certificates (a .pem / .crt file)") from None
    if client is not None:
        where, path = client
        path = os.path.expanduser(path)
        try:
            context.load_cert_chain(path)
        except (OSError, ssl.SSLError) as exc:
            raise PrivpipError(f"{where} names a client certificate that cannot be used: "
                               f"{path} ({getattr(exc, 'reason', None) or exc})",
                               hint="it must be one PEM file holding the certificate and its "
                                    "unencrypted key, as pip expects") from None
    return context
