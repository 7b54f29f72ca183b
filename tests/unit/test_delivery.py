"""Delivery: URLs, the netrc as each target Python reads it, and the one-host-one-token rule."""

from __future__ import annotations

import json
import random
import subprocess
from urllib.parse import unquote, urlsplit

import pytest

from privpip.config import Index
from privpip.core.secret import Secret
from privpip.credentials import Credential
from privpip.errors import UnsafeCredential
from privpip.run.delivery import Access, url_with_credentials
from privpip.run.delivery.netrc import netrc_text
from privpip.run.delivery.pip import pip_variables
from privpip.run.delivery.uv import uv_variables
from tests.helpers import HOSTILE_TOKEN, python_for

TRICKY = [
    "plain", HOSTILE_TOKEN, 'a"b', "a\\b", '"', "\\", "#x", "x#", "machine", "login",
    "password", "'", "a b", " lead", "trail ", "%41", "@:/?#[]", "$(x)`y`", "!*~",
    "\\\"\\\"", "end\\",
]


def access(name, url, user, token, default=False):
    return Access(Index(name=name, url=url, default=default),
                  Credential(user, Secret(token), "test"))


def test_url_has_token_in_password_slot_percent_encoded():
    url = url_with_credentials(access("a", "https://h.example:8443/simple/", "__token__",
                                      HOSTILE_TOKEN))
    parts = urlsplit(url)
    assert parts.hostname == "h.example" and parts.port == 8443
    assert unquote(str(parts.username)) == "__token__"
    assert unquote(str(parts.password)) == HOSTILE_TOKEN
    assert parts.path == "/simple/"


def test_pip_and_uv_variables_order():
    accesses = [access("x1", "https://a.example/s/", "u", "t1"),
                access("main", "https://b.example/s/", "u", "t2", default=True),
                access("x2", "https://c.example/s/", "u", "t3")]
    assert pip_variables(accesses, with_credentials=False) == {
        "PIP_INDEX_URL": "https://b.example/s/",
        "PIP_EXTRA_INDEX_URL": "https://a.example/s/ https://c.example/s/",
    }
    uv = uv_variables(accesses)
    assert uv["UV_DEFAULT_INDEX"] == "main=https://b.example/s/"
    assert uv["UV_INDEX"] == "x1=https://a.example/s/ x2=https://c.example/s/"
    assert uv["UV_INDEX_X2_PASSWORD"] == "t3"


def test_env_unset_names_every_variable_env_can_print():
    """`privpip env --unset` removes exactly what pip_variables and uv_variables can set."""
    from privpip.run.delivery import pip as pip_delivery
    from privpip.run.delivery import uv

    accesses = [access("corp", "https://a.example/s/", "u", "t", default=True),
                access("other.x", "https://b.example/s/", "u", "t"),
                Access(Index(name="pub", url="https://c.example/s/", auth=False), None)]
    printed = {**pip_variables(accesses, True), **uv_variables(accesses, True)}
    names = [*pip_delivery.VARIABLES, *uv.variable_names([a.index for a in accesses])]
    assert set(printed) <= set(names)
    assert set(names) - set(printed) == {"UV_INDEX_PUB_USERNAME", "UV_INDEX_PUB_PASSWORD"}


def test_two_indexes_one_host_different_tokens_is_refused():
    accesses = [access("a", "https://h.example/a/simple/", "u", "t1"),
                access("b", "https://h.example/b/simple/", "u", "t2")]
    with pytest.raises(UnsafeCredential, match="both on h.example but have different"):
        netrc_text(accesses, (3, 12))
    same = [access("a", "https://h.example/a/simple/", "u", "t1"),
            access("b", "https://h.example:444/b/simple/", "u", "t1")]
    assert netrc_text(same, (3, 12)).count("machine h.example") == 1


@pytest.mark.parametrize("token", ["caf\u00e9-token", "tab\there", "nl\nx"])
def test_unsendable_tokens_are_refused(token):
    with pytest.raises(UnsafeCredential, match="non-ASCII|control character"):
        netrc_text([access("a", "https://h.example/s/", "u", token)], (3, 12))


_PARSE_ALL = """
import json, netrc, sys
out = []
for path in sys.argv[1:]:
    n = netrc.netrc(path)
    mine, other = n.authenticators("h.example"), n.authenticators("other.example")
    out.append([mine[0], mine[2], other[2]])
print(json.dumps(out))
"""


@pytest.mark.parametrize("version", ["3.8", "3.10", "3.11", "3.13"])
def test_netrc_reads_back_exactly_in_each_target_python(version, tmp_path):
    """Every token privpip accepts is read back byte for byte by that Python's netrc module."""
    python = python_for(version)
    if python is None:
        pytest.skip(f"Python {version} not installed")
    major, minor = map(int, version.split("."))
    target = (major, minor)
    rng = random.Random(1234)
    alphabet = [chr(c) for c in range(32, 127)]
    tokens = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
                       for _ in range(300)]
    existing = "machine other.example\n\tlogin me\n\tpassword mine\n"
    expected, paths, refused = [], [], 0
    for n, token in enumerate(tokens):
        entries = [access("a", "https://h.example/s/", f"user{n}", token)]
        try:
            text = netrc_text(entries, target, existing)
        except UnsafeCredential as exc:
            assert target < (3, 11) and " " in token, token
            assert "contains a space" in exc.message
            refused += 1
            continue
        path = tmp_path / f"netrc{n}"
        path.write_text(text)
        paths.append(str(path))
        expected.append([f"user{n}", token, "mine"])
    result = subprocess.run([python, "-c", _PARSE_ALL, *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    assert len(paths) > 100
    assert (refused > 0) == (target < (3, 11))


def test_portable_tokens_need_no_version():
    text = netrc_text([access("a", "https://h.example/s/", "__token__", "glpat-abc_DEF.123")], None)
    assert "password glpat-abc_DEF.123" in text


def test_users_own_extra_index_urls_are_kept(tmp_path):
    from privpip.run.delivery.pip import pip_environment

    accesses = [access("a", "https://a.example/s/", "u", "t1")]
    env = pip_environment(accesses, {"PIP_EXTRA_INDEX_URL": "https://mine.example/s/"}, tmp_path,
                          None, interactive=False)
    assert env["PIP_EXTRA_INDEX_URL"] == "https://a.example/s/ https://mine.example/s/"
    assert env["PIP_NO_INPUT"] == "1"
    assert "password t1" in (tmp_path / "netrc").read_text()


def test_pip_child_environment_drops_privpip_token_variables(tmp_path):
    from privpip.run.delivery.pip import pip_environment

    env = {"PRIVPIP_INDEX_CORP_TOKEN": "t0ken-a", "PRIVPIP_INDEX_OTHER_TOKEN": "t0ken-b",
           "PRIVPIP_INDEX_CORP_USERNAME": "bot", "CI_JOB_TOKEN": "ci-token", "PATH": "/bin",
           "HOME": str(tmp_path)}
    child = pip_environment([access("corp", "https://h.example/simple/", "bot", "t0ken-a",
                                    default=True)], env, tmp_path, None, interactive=False)
    assert "PRIVPIP_INDEX_CORP_TOKEN" not in child
    assert "PRIVPIP_INDEX_OTHER_TOKEN" not in child
    # Not privpip's token variables: left alone (a token-env variable belongs to the user).
    assert child["PRIVPIP_INDEX_CORP_USERNAME"] == "bot" and child["CI_JOB_TOKEN"] == "ci-token"
    assert child["PIP_INDEX_URL"] == "https://h.example/simple/"
    assert "t0ken-a" in (tmp_path / "netrc").read_text()
