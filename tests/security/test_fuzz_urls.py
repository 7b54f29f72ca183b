"""URL building under fuzzing: any username and token (all of Unicode) survive the trip.

delivery.url_with_credentials -> urllib.parse and pip's own parsing give back exactly the
host, port, path, username and token; pip's redaction of the URL holds no part of the token.
"""

from __future__ import annotations

from unittest import mock
from urllib.parse import quote, unquote, urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pip._internal.utils.misc import redact_auth_from_url, split_auth_from_netloc

from privpip.config import Index
from privpip.core import secret
from privpip.core.secret import Secret, redact
from privpip.credentials import Credential
from privpip.run.delivery import Access, url_with_credentials
from tests.security.conftest import budget

# Every Unicode scalar value: lone surrogates are not text (privpip refuses them earlier, see
# tests/unit/test_credentials.py), everything else is fair game, NUL and newlines included.
text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
hosts = st.sampled_from([
    ("https://pkgs.example.com/simple/", "pkgs.example.com", None),
    ("https://gitlab.example.com:8443/api/v4/projects/7/packages/pypi/simple",
     "gitlab.example.com", 8443),
    ("http://127.0.0.1:3141/root/pypi/+simple/", "127.0.0.1", 3141),
    ("http://[::1]:8080/simple/", "::1", 8080),
])


def build(url: str, user: str, token: str) -> str:
    index = Index(name="corp", url=url, username=user)
    return url_with_credentials(Access(index, Credential(user, Secret(token), "test")))


@settings(max_examples=budget(1000, 50000))
@given(hosts, text, text)
@example(("https://pkgs.example.com/simple/", "pkgs.example.com", None), "__token__",
         "p@ss:w/rd#frag?q=1%41 'x' \"y\" caf\u00e9 \U0001d11e")
@example(("https://pkgs.example.com/simple/", "pkgs.example.com", None), "a:b@c", "%%%")
def test_url_parses_back_exactly(host, user, token):
    url_in, hostname, port = host
    url = build(url_in, user, token)

    parts = urlsplit(url)
    assert parts.scheme == urlsplit(url_in).scheme
    assert parts.hostname == hostname and parts.port == port
    assert parts.path == urlsplit(url_in).path and not parts.query and not parts.fragment
    assert unquote(str(parts.username)) == user and unquote(str(parts.password)) == token
    # The netloc is plain ASCII: nothing for IDNA or NFKC normalization to change.
    assert parts.netloc.isascii() and " " not in url

    netloc, (pip_user, pip_token) = split_auth_from_netloc(parts.netloc)
    assert (pip_user, pip_token) == (user, token)
    assert netloc == urlsplit(url_in).netloc

    # pip's redaction keeps the host, the path and the username, and nothing of the token.
    redacted = redact_auth_from_url(url)
    assert redacted == url_in.replace("://", f"://{quote(user)}:****@", 1)

    # privpip's own redactor removes the whole userinfo. It also scrubs every token this
    # process has seen (earlier examples' and other tests' included), so give it a fresh
    # memory, and skip the exact comparison when the token happens to spell part of the URL.
    with mock.patch.object(secret, "_SEEN", set()):
        Secret(token)
        scrubbed = redact(f"GET {url} failed")
    base = "GET " + url_in.replace("://", "://****@", 1) + " failed"
    if not any(form in base for form in (token, quote(token, safe=""), quote(token))):
        assert scrubbed == base
