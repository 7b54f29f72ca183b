"""privpip.core.identity: the one answer to "same name / host / origin / index?", "loopback?", the
keyring services, the default username and basic auth."""

from __future__ import annotations

import pytest

from privpip.core import identity


@pytest.mark.parametrize("a, b, expected", [
    ("gitlab.example.com", "gitlab.example.com", True),
    ("GitLab.Example.COM", "gitlab.example.com", True),
    ("gitlab.example.com.", "gitlab.example.com", True),
    ("GITLAB.EXAMPLE.COM.", "gitlab.example.com", True),
    ("[::1]", "::1", True),
    ("gitlab.example.com", "gitlab.example.org", False),
    ("example.com", "gitlab.example.com", False),
    ("", "", False),
])
def test_same_host(a, b, expected):
    assert identity.same_host(a, b) is expected


@pytest.mark.parametrize("a, b, expected", [
    ("https://h.example/simple/", "https://h.example/other/", True),
    ("https://h.example/simple/", "https://H.EXAMPLE:443/x", True),
    ("https://h.example./simple/", "https://h.example/x", True),
    ("HTTPS://h.example/", "https://h.example/", True),
    ("http://127.0.0.1/", "http://127.0.0.1:80/", True),
    ("https://h.example/", "http://h.example/", False),
    ("https://h.example/", "https://h.example:8443/", False),
    ("https://h.example/", "https://evil.example/", False),
    ("https://h.example/", "https://h.example.evil.example/", False),
])
def test_same_origin(a, b, expected):
    assert identity.same_origin(a, b) is expected


@pytest.mark.parametrize("a, b, expected", [
    ("https://pypi.org/simple/", "https://pypi.org/simple", True),
    ("https://PyPI.org/simple/", "https://pypi.org:443/simple/", True),
    ("https://pypi.org./simple/", "https://pypi.org/simple/", True),
    ("https://pypi.org/simple/", "https://pypi.org/other/", False),
    ("https://pypi.org/simple/", "http://pypi.org/simple/", False),
    ("https://h:443/x", "https://h/x", True),
    ("https://h:443/x", "https://h/x/", True),
    ("http://h:80/x/", "HTTP://H/x", True),
    ("https://user:pw@h.example/simple/", "https://h.example/simple", True),
    ("https://h.example/simple/?q=1#f", "https://h.example/simple/", True),
    ("https://bücher.example/simple/", "https://xn--bcher-kva.example/simple/", True),
    ("https://BÜCHER.example/simple/", "https://xn--bcher-kva.example/simple/", True),
    ("https://[::1]:443/simple/", "https://[::1]/simple", True),
    ("https://h:8443/x", "https://h/x", False),
    ("https://h/Simple/", "https://h/simple/", False),  # a path keeps its case
    ("https://h:notaport/x", "https://h/x", False),
])
def test_same_index(a, b, expected):
    assert identity.same_index(a, b) is expected


@pytest.mark.parametrize("host, expected", [
    ("localhost", True), ("LOCALHOST", True), ("localhost.", False), ("a.localhost", False),
    ("127.0.0.1", True), ("127.8.9.10", True), ("[::1]", True), ("::1", True),
    ("localhost.example.com", False), ("10.0.0.1", False), ("example.com", False),
    ("::2", False), ("0:0:0:0:0:0:0:1", True), ("evil.localhost.", False),
])
def test_is_loopback(host, expected):
    assert identity.is_loopback(host) is expected


def test_hostname_and_netrc_host():
    assert identity.hostname("https://GitLab.Example.com.:8443/x") == "gitlab.example.com"
    assert identity.netrc_host("https://h.example:8443/simple/") == "h.example"
    assert identity.netrc_host("http://[::1]:8080/simple/") == "[::1]"


@pytest.mark.parametrize("a, b, expected", [
    ("corp", "Corp", True), ("corp", "CORP", True), ("corp-x", "corp.x", True),
    ("corp-x", "corp_x", True), ("corp-x", "CORP.X", True), ("corp", "corpx", False),
    ("corp", "corp-", False), ("corp", "evil", False),
])
def test_same_name_is_same_variable(a, b, expected):
    assert identity.same_name(a, b) is expected
    assert (identity.name_key(a) == identity.name_key(b)) is expected


def test_canonical_url():
    assert identity.canonical_url("HTTPS://U:P@Corp.Example.:443/simple") == \
        "https://corp.example/simple/"
    assert identity.canonical_url("http://[::1]:8080/x//") == "http://[::1]:8080/x/"


def test_keyring_services_and_the_default_port():
    # credentials._canonical did not fold the default port: an entry stored for
    # https://h/x was not found for an index written https://h:443/x.
    assert identity.keyring_services("https://H:443/x") == [
        "https://H:443/x", "https://h/x/", "https://h/x"]
    assert identity.same_service("https://h:443/x", "https://h/x/")
    assert not identity.same_service("git:https://h", "https://h")
    assert identity.git_service("h.example:8443") == "git:https://h.example:8443"
    assert identity.host_service("https://U@H.Example:8443/x") == "h.example"


def test_basic_auth_is_utf8():
    import base64

    value = identity.basic_auth(identity.DEFAULT_USERNAME, "tök")
    assert base64.b64decode(value.split()[1]) == "__token__:tök".encode()


def test_default_username_is_written_once():
    import io
    import pathlib
    import tokenize

    package = pathlib.Path(identity.__file__).parents[1]  # all of privpip
    holders = []
    for path in sorted(package.rglob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        if any(t.type == tokenize.STRING and t.string.strip("\"'") == "__token__"
               for t in tokens):
            holders.append(str(path.relative_to(package)))
    assert holders == ["core/identity.py"]
