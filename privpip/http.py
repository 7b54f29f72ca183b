"""Authenticated GETs that keep the credential on its origin, and reading simple pages.

The credential travels only in an Authorization header built here; it is never put into a
URL, and it is dropped on a redirect to another origin. The simple-page readers understand
PEP 503 HTML and PEP 691 JSON, written once for `status --check`, `audit` and `install`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from privpip import __version__, identity
from privpip.secret import redact

if TYPE_CHECKING:
    import http.client
    import urllib.request

    from privpip.credentials import Credential

HTML_ACCEPT = "text/html, application/vnd.pypi.simple.v1+html;q=0.9"
SIMPLE_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
                 "text/html;q=0.01")


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
             accept: str = HTML_ACCEPT) -> http.client.HTTPResponse:
    """Open ``url`` (an http(s) index URL validated by config), authenticated when a credential
    is given. The credential goes only in an Authorization header that urllib does not copy to
    redirects; it is put back only while a redirect stays on the same origin.
    Raises urllib.error.HTTPError for 4xx/5xx and URLError/OSError when nothing answers.
    """
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - http(s) only, validated by config
        url, headers={"User-Agent": f"privpip/{__version__}", "Accept": accept})
    if credential is not None:
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


# ---------------------------------------------------------------------------
# simple pages (PEP 503 HTML, PEP 691 JSON)


def _json(body: bytes) -> dict[str, object]:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dicts(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def anchors(body: bytes) -> list[tuple[str, str]]:
    """(href, text) of every <a> of an HTML simple page."""
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        href: str | None = None
        text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.href = dict(attrs).get("href") or ""
                self.text = ""

        def handle_data(self, data: str) -> None:
            if self.href is not None:
                self.text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self.href is not None:
                found.append((self.href, self.text.strip()))
                self.href = None

    Parser().feed(body.decode("utf-8", errors="replace"))
    return found


def project_names(page: Page) -> list[str]:
    """The project names an index's root page lists (as written, not normalized)."""
    if "json" in page.content_type:
        return [str(p.get("name", "")) for p in _dicts(_json(page.body).get("projects"))]
    return [text for _href, text in anchors(page.body)]


def file_names(page: Page) -> tuple[list[str], list[str]]:
    """(file names, versions listed explicitly) of a project's page; versions only in JSON."""
    if "json" in page.content_type:
        data = _json(page.body)
        versions = data.get("versions")
        listed = [v for v in versions if isinstance(v, str)] if isinstance(versions, list) else []
        return [str(f.get("filename", "")) for f in _dicts(data.get("files"))], listed
    return [text for _href, text in anchors(page.body)], []


def versions(page: Page) -> list[str]:
    """Every version a project's page offers (listed, or read from its file names), sorted."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion, Version

    filenames, listed = file_names(page)
    found: set[str] = set(listed)
    for filename in filenames:
        try:
            if filename.endswith(".whl"):
                found.add(str(parse_wheel_filename(filename)[1]))
            else:
                found.add(str(parse_sdist_filename(filename)[1]))
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue

    def key(v: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(v))
        except InvalidVersion:
            return (0, v)

    return sorted(found, key=key)
