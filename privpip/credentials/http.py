"""Authenticated GETs that keep the credential on its origin.

The credential travels only in an Authorization header built here; it is never put into a
URL, and it is dropped on a redirect to another origin. What comes back is read by
privpip.localindex.pages, the one reader of simple pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from privpip import __version__
from privpip.core import identity
from privpip.core.secret import redact
from privpip.localindex.pages import UPSTREAM_ACCEPT

if TYPE_CHECKING:
    import http.client
    import urllib.request

    from privpip.credentials import Credential

HTML_ACCEPT = "text/html, application/vnd.pypi.simple.v1+html;q=0.9"
SIMPLE_ACCEPT = UPSTREAM_ACCEPT  # JSON first, as the local index asks


class FetchError(Exception):
    """Nothing answered (or the connection failed); ``reason`` is the underlying error."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(f"cannot reach {redact(url)}: {reason}")
        self.reason = reason


class Page(NamedTuple):
    status: int
    content_type: str
    body: bytes


def open_url(url: str, credential: Credential | None, timeout: float,
             accept: str = HTML_ACCEPT, private_token: bool = False
             ) -> http.client.HTTPResponse:
    """Open ``url`` (an http(s) index URL validated by config), authenticated when a credential
    is given. The credential goes only in an Authorization header that urllib does not copy to
    redirects; it is put back only while a redirect stays on the same origin. With
    ``private_token`` (GitLab's API, which does not read basic auth) the token goes in GitLab's
    PRIVATE-TOKEN header instead, never to a redirect.
    Raises urllib.error.HTTPError for 4xx/5xx and URLError/OSError when nothing answers.
    """
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - http(s) only, validated by config
        url, headers={"User-Agent": f"privpip/{__version__}", "Accept": accept})
    if credential is not None and private_token:
        request.add_unredirected_header("PRIVATE-TOKEN", credential.token.reveal())
    elif credential is not None:
        request.add_unredirected_header(
            "Authorization", identity.basic_auth(credential.username, credential.token.reveal()))
    response: http.client.HTTPResponse = urllib.request.build_opener(_redirect_handler()).open(
        request, timeout=timeout)
    return response


def get(url: str, credential: Credential | None, timeout: float,
        accept: str = SIMPLE_ACCEPT) -> Page:
    """The whole answer to a GET of ``url``, error statuses included; FetchError if none."""
    import urllib.error

    try:
        with open_url(url, credential, timeout, accept) as response:
            return Page(response.status, response.headers.get("Content-Type", ""),
                        response.read())
    except urllib.error.HTTPError as exc:
        return Page(exc.code, exc.headers.get("Content-Type", "") if exc.headers else "", b"")
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(url, getattr(exc, "reason", exc)) from None


def _redirect_handler() -> urllib.request.HTTPRedirectHandler:
    import urllib.request

    class SameOriginAuthRedirect(urllib.request.HTTPRedirectHandler):
        """Follow redirects; keep the credential only while the origin stays the same."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            auth = req.unredirected_hdrs.get("Authorization")
            if new is not None and auth and identity.same_origin(newurl, req.full_url):
                new.add_unredirected_header("Authorization", auth)
            return new

    return SameOriginAuthRedirect()
