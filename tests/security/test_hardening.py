"""Issue 10, findings 2, 3, 5, 6 and 7: upload-url, the netrc's scope, redaction gaps, URL
validation and literal tokens. Tests that run the CLI against a server carry the e2e marker."""

from __future__ import annotations

import base64
import json
import os
import re
import sys

import pytest

from privpip.config.schema import parse_text
from privpip.core import identity
from privpip.core.secret import Secret, redact, redact_argv
from privpip.errors import ConfigError
from tests.e2e.test_token_command import fake_cli, path_with
from tests.helpers import PLAIN_TOKEN, privpip, write_config
from tests.security.stubs import StubIndex


@pytest.fixture
def capture():
    """A loopback server that records every Authorization header it receives."""
    server = StubIndex("status", code=401)
    yield server
    server.stop()


# --- finding 5: redaction -------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("status", [0, 3])
def test_token_command_stderr_is_redacted(index_server, tmp_path, status):
    """`set -x` in a token command printed the token on stderr, passed through unredacted."""
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "tok", f"sys.stderr.write('+ echo ' + {PLAIN_TOKEN!r} + '\\n')\n"
                            f"print({PLAIN_TOKEN!r})\nsys.exit({status})")
    write_config(tmp_path, index_server.config(extra='token-command = ["tok"]\n'))
    result = privpip("status", cwd=tmp_path, env={**path_with(bin_dir), "PRIVPIP_TRUST": "1"})
    assert "+ echo ****" in result.stderr
    assert PLAIN_TOKEN not in result.stdout + result.stderr
    assert (result.returncode == 0) == (status == 0), result.stderr


@pytest.mark.e2e
def test_short_token_is_called_suspicious_not_printed(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("env", "--shell", "bash", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": "Q7z"})
    assert result.returncode == 1
    assert "only 3 character(s) long, which is suspicious" in result.stderr
    assert "Q7z" not in result.stdout + result.stderr


@pytest.mark.parametrize("value", ['tok"en\\with\'quotes', "tök€n-ünïcode", "tab\there-x"])
def test_repr_and_json_forms_are_scrubbed(value):
    Secret(value)
    for text in (repr({"token": value}), json.dumps({"token": value}),
                 json.dumps({"token": value}, ensure_ascii=False), str([value])):
        scrubbed = redact(text)
        assert value not in scrubbed and "****" in scrubbed, (text, scrubbed)
        inner = json.dumps(value)[1:-1]
        assert inner not in scrubbed


@pytest.mark.parametrize("user", ["__token__", "a", "ab", "gitlab+deploy-token-7", ""])
@pytest.mark.parametrize("token", ["glpat-AbCdEfGhIjKlMnOpQrSt", "tok-12345678", "x" * 31])
def test_base64_and_hex_forms_are_scrubbed(user, token):
    # Issue 19, finding 9: a Basic header (base64 of user:token) and hex in a token
    # command's stderr showed the token.
    Secret(token)
    header = base64.b64encode(f"{user}:{token}".encode()).decode()
    for text in (f"Authorization: Basic {header}", f"b64={base64.b64encode(token.encode())!r}",
                 f"urlsafe {base64.urlsafe_b64encode(token.encode()).decode()}",
                 f"hex {token.encode().hex()} HEX {token.encode().hex().upper()}"):
        scrubbed = redact(text)
        assert "****" in scrubbed, (text, scrubbed)
        # What is left of the base64 decodes to at most two bytes of the token at each end.
        for word in scrubbed.replace("****", " ").split():
            for decode in (base64.b64decode, base64.urlsafe_b64decode, bytes.fromhex):
                try:
                    left = decode(word + "=" * (-len(word) % 4) if decode is not bytes.fromhex
                                  else word)
                except ValueError:
                    continue
                assert token[2:-2].encode() not in left


def test_a_secret_seen_after_earlier_messages_is_scrubbed_too():
    # redact() keeps the forms it computed for the secrets seen so far; a new one must count.
    Secret("first-token-abcdefghijkl")
    assert redact("a first-token-abcdefghijkl b") == "a **** b"
    later = "later-token-mnopqrstuvwx"
    assert redact(f"c {later}") == f"c {later}"  # not a secret yet
    Secret(later)
    assert redact(f"c {later} d first-token-abcdefghijkl") == "c **** d ****"


def test_a_token_that_is_a_word_is_not_revealed_by_its_place_in_a_url():
    Secret("simple")
    assert redact("GET https://h.example/simple/corp-lib/ 404") == "GET https://h.example/**** 404"
    assert redact("see https://simple.example/x") == "see https://****"
    assert redact("https://h.example/other/ is fine") == "https://h.example/other/ is fine"


def test_running_line_masks_userinfo_the_user_passed():
    line = redact_argv(["python", "-m", "pip", "download", "-i",
                        "https://me:hunter2-pw@h.example/simple/", "x"])
    assert "hunter2-pw" not in line and "me:" not in line
    assert "https://****@h.example/simple/" in line


@pytest.mark.e2e
@pytest.mark.parametrize("delivery", ["netrc", "local"])
def test_running_line_e2e(index_server, tmp_path, delivery):
    write_config(tmp_path, index_server.config())
    url = "http://someone:s3cr3t-pw@127.0.0.1:9/simple/"
    result = privpip("-v", "pip", "--delivery", delivery, "--python", sys.executable,
                     "--version", "--index-url", url,
                     cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert "privpip: running: " in result.stderr  # pip's own answer does not matter here
    if delivery == "netrc":  # the URL stays in pip's arguments, its userinfo masked
        assert "http://****@127.0.0.1:9/simple/" in result.stderr
    else:  # taken over: an upstream of the local index, named without its userinfo
        assert "privpip: taken over: http://127.0.0.1:9/simple/ from command line --index-url" \
            in result.stderr
        assert "privpip: upstream extra: http://127.0.0.1:9/simple/" in result.stderr
        running = next(line for line in result.stderr.splitlines()
                       if line.startswith("privpip: running: "))
        assert "--index-url" not in running
    assert "s3cr3t-pw" not in result.stderr
    assert "someone" not in result.stderr


# --- finding 6: URL validation --------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.4.5.6", True),
    ("::1", True), ("[::1]", True),
    ("foo.localhost", False), ("localhost.", False), ("localhost.example.com", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("128.0.0.1", False), ("", False),
])
def test_only_localhost_127_8_and_ipv6_one_are_loopback(host, loopback):
    assert identity.is_loopback(host) is loopback


@pytest.mark.parametrize("url", [
    "http://foo.localhost/simple/",
    "https://h .example/simple/",
    "https://h.example/sim ple/",
    "https://h.example/simple/\t",
    "https://h.example/simple/\x7f",
    "https://h.example/\u00a0simple/",
    " https://h.example/simple/",
])
def test_urls_with_whitespace_control_or_dotted_localhost_are_refused(url):
    with pytest.raises(ConfigError):
        parse_text(f'[[index]]\nname = "corp"\nurl = {json.dumps(url)}\n', "t.toml")


@pytest.mark.e2e
def test_whitespace_in_host_is_a_config_error_not_a_netrc_default(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://h .example/simple/"\n')
    result = privpip("env", cwd=tmp_path, env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 2
    assert "must not contain whitespace or control characters" in result.stderr
    assert PLAIN_TOKEN not in result.stdout


# --- finding 3: the netrc's scope ------------------------------------------------------


def _access(url: str, token: str):
    from privpip.config import Index
    from privpip.credentials import Credential
    from privpip.run.delivery import Access

    return Access(Index("i" + str(abs(hash(url)) % 1000), url),
                  Credential("__token__", Secret(token), "env:X"))


@pytest.mark.parametrize(("one", "two"), [
    ("http://LOCALHOST:1/simple/", "http://localhost:2/simple/"),
    ("https://h.example./simple/", "https://H.example/other/"),
])
def test_one_host_however_written_gets_one_credential(one, two):
    from privpip.errors import UnsafeCredential
    from privpip.run.delivery.netrc import check_no_host_clash

    with pytest.raises(UnsafeCredential, match="different credentials"):
        check_no_host_clash([_access(one, "token-one-1234"), _access(two, "token-two-5678")])


@pytest.mark.e2e
def test_privpips_entry_comes_before_the_users_default_for_curl(capture, tmp_path):
    """curl --netrc takes the first match, and the user's `default` matches every host."""
    import shutil
    import subprocess

    from privpip.run.delivery.netrc import netrc_text

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    text = netrc_text([_access(capture.url, "privpip-token-1234")], None,
                      "default login someone password users-own-pw\n")
    netrc = tmp_path / "netrc"
    netrc.write_text(text)
    subprocess.run(["curl", "-s", "-o", os.devnull, "--netrc-file", str(netrc), capture.url],
                   check=False, timeout=30)
    import netrc as netrc_mod

    entry = netrc_mod.netrc(str(netrc)).authenticators("127.0.0.1")
    assert entry is not None and entry[2] == "privpip-token-1234"
    sent = [base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen]
    assert sent == ["__token__:privpip-token-1234"]


# --- finding 2: upload-url on another origin ------------------------------------------


@pytest.mark.e2e
def test_upload_url_on_another_origin_does_not_get_the_index_token(index_server, capture,
                                                                   tmp_path):
    pytest.importorskip("twine")
    import subprocess

    from tests import packaging_fixtures

    (tmp_path / "dist").mkdir()
    wheel = packaging_fixtures.write_wheel(tmp_path / "dist", "corp-lib", "1.0",
                                           {"corp_lib/__init__.py": "VALUE = 1\n"})
    upload = capture.url.replace("/simple/", "/upload/")
    write_config(tmp_path, index_server.config(extra=f'upload-url = "{upload}"\n'))
    refused = privpip("upload", str(wheel), cwd=tmp_path,
                      env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert refused.returncode == 77, refused.stderr  # a missing credential
    assert "is on another origin than url" in refused.stderr
    assert f"keyring set {upload} __token__" in refused.stderr
    assert capture.auth_seen == []
    # A token stored for the upload URL itself is the one that goes there.
    keyring_env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    subprocess.run([sys.executable, "-m", "keyring", "set", upload, "__token__"],
                   input="upload-only-token\n", text=True, check=True, capture_output=True,
                   env={**os.environ, **keyring_env})
    privpip("upload", str(wheel), cwd=tmp_path,
            env={"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN, **keyring_env})
    sent = {base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen}
    assert sent == {"__token__:upload-only-token"}


# --- finding 7: literal tokens in committed files --------------------------------------

GOOGLE = "ya29.a0AfH6SMBx3kq_Zx9yLmNoPqRsTuVwXyZ0123456789"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
GITLAB = "glpat-abcdefghijklmnop1234"


@pytest.mark.parametrize(("token", "kind"), [(GOOGLE, "a Google OAuth access token"),
                                             (JWT, "a JSON Web Token (JWT)")])
def test_google_and_jwt_tokens_are_refused(token, kind):
    text = f'[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n# {token}\n'
    with pytest.raises(ConfigError, match=r"t\.toml:4: .*" + re.escape(kind)) as info:
        parse_text(text, "t.toml")
    assert token not in info.value.message + (info.value.hint or "")


def test_tokens_in_comments_of_pyprojects_privpip_tables_are_refused():
    text = (f'[project]\nname = "x"\n\n[tool.privpip]\n# the token is {GITLAB}\n'
            '[[tool.privpip.index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml:5: .*GitLab personal access token"):
        parse_text(text, "pyproject.toml", pyproject=True)
    # Another tool's table is not privpip's business.
    other = text.replace(f"[tool.privpip]\n# the token is {GITLAB}\n",
                         f"[tool.other]\n# the token is {GITLAB}\n")
    assert [i.name for i in parse_text(other, "pyproject.toml", pyproject=True).indexes] == [
        "corp"]
