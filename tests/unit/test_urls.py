"""privpip.urls: the one answer to "same host?", "same origin?", "same index?", "loopback?"."""

from __future__ import annotations

import pytest

from privpip import urls


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
    assert urls.same_host(a, b) is expected


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
    assert urls.same_origin(a, b) is expected


@pytest.mark.parametrize("a, b, expected", [
    ("https://pypi.org/simple/", "https://pypi.org/simple", True),
    ("https://PyPI.org/simple/", "https://pypi.org:443/simple/", True),
    ("https://pypi.org./simple/", "https://pypi.org/simple/", True),
    ("https://pypi.org/simple/", "https://pypi.org/other/", False),
    ("https://pypi.org/simple/", "http://pypi.org/simple/", False),
])
def test_same_index(a, b, expected):
    assert urls.same_index(a, b) is expected


@pytest.mark.parametrize("host, expected", [
    ("localhost", True), ("LOCALHOST", True), ("localhost.", False), ("a.localhost", False),
    ("127.0.0.1", True), ("127.8.9.10", True), ("[::1]", True), ("::1", True),
    ("localhost.example.com", False), ("10.0.0.1", False), ("example.com", False),
    ("::2", False), ("0:0:0:0:0:0:0:1", True), ("evil.localhost.", False),
])
def test_is_loopback(host, expected):
    assert urls.is_loopback(host) is expected


def test_hostname_and_netrc_host():
    assert urls.hostname("https://GitLab.Example.com.:8443/x") == "gitlab.example.com"
    assert urls.netrc_host("https://h.example:8443/simple/") == "h.example"
    assert urls.netrc_host("http://[::1]:8080/simple/") == "[::1]"
