"""Trust for project config files (issue 10, finding 1): the real CLI, a marker file, a capture
server on loopback.

A hostile repository's token-command must not run, and its token-env must not send a
variable anywhere, until the user trusted the file's exact content; a file someone else could
have written is not read at all.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from privpip.config import trust
from tests.helpers import PLAIN_TOKEN, privpip, write_config
from tests.security.stubs import StubIndex

pytestmark = pytest.mark.e2e

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
NOBODY = 65534


@pytest.fixture
def capture():
    """A loopback server that records every Authorization header it receives."""
    server = StubIndex("status", code=401)
    yield server
    server.stop()


def hostile_config(url: str, marker: Path) -> str:
    code = f"open({str(marker)!r}, 'w').close(); print({PLAIN_TOKEN!r})"
    argv = json.dumps([sys.executable, "-c", code])
    return f'[[index]]\nname = "corp"\nurl = "{url}"\ntoken-command = {argv}\n'


def test_untrusted_then_trusted_then_changed_then_ci(index_server, tmp_path):
    marker = tmp_path / "marker"
    config = write_config(tmp_path, hostile_config(index_server.url, marker), trusted=False)

    untrusted = privpip("env", "--shell", "bash", cwd=tmp_path)
    assert untrusted.returncode != 0
    assert not marker.exists(), "an untrusted file's token-command ran"
    assert f"{config} is not trusted" in untrusted.stderr
    assert "index 'corp': token-command would run: " in untrusted.stderr
    code = f"open({str(marker)!r}, 'w').close(); print({PLAIN_TOKEN!r})"
    assert shlex.join([sys.executable, "-c", code]) in untrusted.stderr  # the exact argv
    assert f"sent as the token to {index_server.url}" in untrusted.stderr
    assert f"run: privpip trust {config}" in untrusted.stderr
    assert PLAIN_TOKEN not in untrusted.stdout

    trusted = privpip("trust", cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith(f"privpip: trusted {config} (sha256:")
    assert trusted.stdout.splitlines()[1:] == [
        "from now on, when a token is needed:",
        "  index 'corp': token-command runs: " + shlex.join([sys.executable, "-c", code]),
        f"    and its output is sent as the token to {index_server.url}"]

    works = privpip("env", "--shell", "bash", cwd=tmp_path)
    assert works.returncode == 0, works.stderr
    assert marker.exists()
    assert PLAIN_TOKEN in works.stdout
    assert "not trusted" not in works.stderr

    marker.unlink()
    config.write_text(config.read_text() + "# one more line\n")
    changed = privpip("env", "--shell", "bash", cwd=tmp_path)
    assert changed.returncode != 0
    assert not marker.exists(), "a changed file kept the trust of its old content"
    assert "is not trusted" in changed.stderr
    listing = privpip("trust", "--list", cwd=tmp_path)
    assert f"{config}  sha256:" in listing.stdout
    assert "changed since trusted (not trusted)" in listing.stdout

    for env in ({"CI": "true"}, {"PRIVPIP_TRUST": "1"}):
        ci = privpip("env", "--shell", "bash", cwd=tmp_path, env=env)
        assert ci.returncode == 0, ci.stderr
        assert marker.exists()
        marker.unlink()


def test_revoke(index_server, tmp_path):
    marker = tmp_path / "marker"
    write_config(tmp_path, hostile_config(index_server.url, marker), trusted=False)
    assert privpip("trust", cwd=tmp_path).returncode == 0
    revoked = privpip("trust", "--revoke", cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert "is no longer trusted" in revoked.stdout
    assert privpip("env", cwd=tmp_path).returncode != 0
    assert not marker.exists()
    assert privpip("trust", "--list", cwd=tmp_path).stdout == "privpip: no trusted files\n"
    again = privpip("trust", "--revoke", cwd=tmp_path)
    assert again.returncode == 2 and "is not trusted" in again.stderr


def test_token_env_does_not_send_an_unrelated_secret(capture, tmp_path):
    secret = "aws-secret-AKIAXXXXXXXXXXXXXXXX"
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{capture.url}"\n'
                           f'token-env = ["AWS_SECRET_ACCESS_KEY"]\n', trusted=False)
    env = {"AWS_SECRET_ACCESS_KEY": secret}
    result = privpip("status", "--check", cwd=tmp_path, env=env)
    assert "token-env would send $AWS_SECRET_ACCESS_KEY to " + capture.url in result.stderr
    sent = [base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen]
    assert not any(secret in s for s in sent)
    # Control: once trusted, the same command does send it, so the capture server sees it.
    privpip("status", "--check", cwd=tmp_path, env={**env, "PRIVPIP_TRUST": "1"})
    sent = [base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen]
    assert any(secret in s for s in sent)


def test_untrusted_file_keeps_names_and_urls(index_server, tmp_path):
    write_config(tmp_path, index_server.config(extra='token-env = ["MY_TOKEN"]\n'),
                 trusted=False)
    result = privpip("env", "--shell", "bash", cwd=tmp_path, env={"MY_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 77, result.stderr  # no credential: the index is still listed
    assert "token-env would send $MY_TOKEN" in result.stderr


def test_exported_token_waits_for_trust(capture, tmp_path):
    # Issue 19, finding 2: a repository naming `corp` at its own URL received the
    # PRIVPIP_INDEX_CORP_TOKEN a developer exported for their real `corp`.
    config = write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{capture.url}"\n',
                          trusted=False)
    env = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    status = privpip("status", "--check", cwd=tmp_path, env=env)
    assert (f"corp: no credential; PRIVPIP_INDEX_CORP_TOKEN is set but not sent to a URL that "
            f"only {config} names; if you trust that file, run `privpip trust {config}`"
            ) in status.stdout
    for command in (("env", "--shell", "bash"), ("install", "--dry-run", "corp-pkg")):
        result = privpip(*command, cwd=tmp_path, env=env)
        assert result.returncode != 0, command
        assert (f"privpip: error: PRIVPIP_INDEX_CORP_TOKEN is not sent to {capture.url}: only "
                f"{config} names that URL for index 'corp', and you have not trusted that "
                "file") in result.stderr, result.stderr
        assert f"run `privpip trust {config}`" in result.stderr
        assert PLAIN_TOKEN not in result.stdout + result.stderr
    assert capture.auth_seen == []
    # `privpip trust` once, and the token goes there (the capture server sees it).
    assert privpip("trust", cwd=tmp_path).returncode == 0
    privpip("status", "--check", cwd=tmp_path, env=env)
    sent = [base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen]
    assert sent and all(PLAIN_TOKEN in s for s in sent)
    # CI=true (the job runs the checkout anyway) needs no record.
    config.write_text(config.read_text() + "# changed\n")
    before = len(capture.auth_seen)
    assert "not sent to a URL" in privpip("status", "--check", cwd=tmp_path, env=env).stdout
    assert len(capture.auth_seen) == before
    privpip("status", "--check", cwd=tmp_path, env={**env, "CI": "true"})
    assert len(capture.auth_seen) > before


def test_exported_token_goes_to_a_url_of_the_users_own_config(capture, tmp_path):
    user = tmp_path / "user.toml"
    user.write_text(f'[[index]]\nname = "mine"\nurl = "{capture.url}"\n')
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{capture.url}"\n',
                 trusted=False)
    privpip("status", "--check", cwd=tmp_path,
            env={"PRIVPIP_USER_CONFIG": str(user), "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    sent = [base64.b64decode(a.split()[1]).decode() for a in capture.auth_seen]
    assert sent and all(PLAIN_TOKEN in s for s in sent)


def test_project_index_may_not_take_over_a_user_index_name(index_server, capture, tmp_path):
    user = tmp_path / "user.toml"
    user.write_text(index_server.config())
    project = write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{capture.url}"\n', trusted=False)
    result = privpip("status", "--check", cwd=tmp_path,
                     env={"PRIVPIP_USER_CONFIG": str(user), "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 2
    assert "privpip.toml: index 'corp' has URL " + capture.url in result.stderr
    assert f"your own config {user} names 'corp' with URL {index_server.url}" in result.stderr
    assert capture.auth_seen == []
    # The same name with the same URL is fine.
    project.write_text(index_server.config())
    same = privpip("status", cwd=tmp_path, env={"PRIVPIP_USER_CONFIG": str(user),
                                                 "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN})
    assert same.returncode == 0, same.stderr


@pytest.mark.parametrize("user_name, project_name", [
    ("corp", "Corp"), ("corp", "CORP"), ("corp-x", "corp.x"), ("corp-x", "corp_x")])
def test_another_spelling_of_a_user_index_name_takes_nothing(index_server, capture, tmp_path,
                                                             user_name, project_name):
    # Issue 19, finding 1: the names were compared as strings while the variable name
    # PRIVPIP_INDEX_<NAME>_TOKEN folds case and punctuation, so `Corp` read corp's token.
    user = tmp_path / "user.toml"
    user.write_text(index_server.config(user_name))
    write_config(tmp_path, f'[[index]]\nname = "{project_name}"\nurl = "{capture.url}"\n', trusted=False)
    var = f"PRIVPIP_INDEX_{user_name.upper().replace('-', '_')}_TOKEN"
    result = privpip("status", "--check", cwd=tmp_path,
                     env={"PRIVPIP_USER_CONFIG": str(user), var: PLAIN_TOKEN})
    assert result.returncode == 2, result.stderr
    assert f"index {project_name!r} has URL {capture.url}" in result.stderr
    assert f"your own config {user} names {user_name!r}" in result.stderr
    assert capture.auth_seen == []


def test_search_stops_at_the_repository_root(index_server, tmp_path):
    write_config(tmp_path, index_server.config(), trusted=False)
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    result = privpip("status", cwd=repo / "src")
    assert result.returncode == 2
    assert "no private index is configured" in result.stderr


@pytest.mark.skipif(not ROOT, reason="needs root to give a file to another user")
def test_file_of_another_user_is_ignored(index_server, tmp_path):
    config = write_config(tmp_path, index_server.config(), trusted=False)
    os.chown(config, NOBODY, NOBODY)
    assert "is owned by" in (trust.safe_to_read(config) or "")
    result = privpip("status", cwd=tmp_path)
    assert result.returncode == 2
    assert f"privpip: warning: ignoring {config} is owned by" in result.stderr
    assert "not by you" in result.stderr
    # read now: its index has no credential (77), which is no config error (2)
    assert privpip("status", cwd=tmp_path, env={"CI": "true"}).returncode == 77
    refused = privpip("trust", str(config), cwd=tmp_path)
    assert refused.returncode == 2 and "refusing to trust" in refused.stderr


@pytest.mark.skipif(not ROOT, reason="needs root to make a directory of another user")
def test_directory_others_can_write(index_server, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chown(shared, NOBODY, NOBODY)
    shared.chmod(0o777)  # like /tmp without the sticky bit
    config = write_config(shared, index_server.config(), trusted=False)
    work = shared / "work"
    work.mkdir()
    reason = trust.safe_to_read(config, work)
    assert reason is not None and "which other users can write" in reason
    result = privpip("status", cwd=work)
    assert result.returncode == 2 and "other users can write" in result.stderr
    # The sticky bit (/tmp) stops others from replacing a file of yours: fine.
    shared.chmod(0o1777)
    assert trust.safe_to_read(config, work) is None
    assert privpip("status", cwd=work).returncode == 77  # read; its index has no credential
    # ... but a file there of another user is still foreign.
    os.chown(config, NOBODY, NOBODY)
    assert "is owned by" in (trust.safe_to_read(config, work) or "")
    # A directory of your own that others may write is yours to keep.
    os.chown(config, 0, 0)
    os.chown(shared, 0, 0)
    shared.chmod(0o777)
    assert trust.safe_to_read(config, work) is None


def checkout(path: Path, marker: Path) -> Path:
    """A git repository whose privpip.toml runs scripts/get-token.sh, which touches ``marker``
    and prints the token."""
    import subprocess

    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "scripts").mkdir()
    (path / "scripts" / "get-token.sh").write_text(f"touch {shlex.quote(str(marker))}\n"
                                                   f"echo {PLAIN_TOKEN}\n")
    return path


TOKEN_SCRIPT = '[[index]]\nname = "corp"\nurl = "{url}"\ntoken-command = ["sh", "scripts/get-token.sh"]\n'


def test_a_symlinked_project_file_is_not_trusted_through_its_target(index_server, tmp_path):
    # Issue 19, finding 3: `ln -s ../trusted/privpip.toml` in another checkout inherited the
    # target's trust, and the trusted command ran the other checkout's script.
    mine = checkout(tmp_path / "trusted", tmp_path / "ran-mine")
    write_config(mine, TOKEN_SCRIPT.format(url=index_server.url), trusted=False)
    assert privpip("trust", cwd=mine).returncode == 0
    other = checkout(tmp_path / "other", tmp_path / "ran-other")
    (other / "privpip.toml").symlink_to(mine / "privpip.toml")

    result = privpip("env", "--shell", "bash", cwd=other)
    assert result.returncode != 0
    assert f"{other / 'privpip.toml'} is not trusted" in result.stderr
    assert not (tmp_path / "ran-other").exists() and not (tmp_path / "ran-mine").exists()
    # Trusting the link is trusting it where it is: the command runs beside the link.
    assert privpip("trust", cwd=other).returncode == 0
    works = privpip("env", "--shell", "bash", cwd=other)
    assert works.returncode == 0, works.stderr
    assert (tmp_path / "ran-other").exists() and not (tmp_path / "ran-mine").exists()


def test_a_changed_script_of_a_trusted_command_loses_the_trust(index_server, tmp_path):
    # Issue 19, finding 4: trust hashed privpip.toml only; the script it runs could change
    # with the next `git pull` and ran at once. Also: the command runs in the file's
    # directory (here privpip runs in a subdirectory, where scripts/ does not exist).
    marker = tmp_path / "ran"
    repo = checkout(tmp_path / "repo", marker)
    config = write_config(repo, TOKEN_SCRIPT.format(url=index_server.url), trusted=False)
    (repo / "src").mkdir()
    trusted = privpip("trust", cwd=repo / "src")
    assert trusted.returncode == 0, trusted.stderr
    assert f"and {repo / 'scripts' / 'get-token.sh'} (sha256:" in trusted.stdout
    works = privpip("env", "--shell", "bash", cwd=repo / "src")
    assert works.returncode == 0, works.stderr
    assert PLAIN_TOKEN in works.stdout and marker.exists()

    marker.unlink()
    script = repo / "scripts" / "get-token.sh"
    script.write_text(script.read_text() + "echo pulled >&2\n")
    changed = privpip("env", "--shell", "bash", cwd=repo / "src")
    assert changed.returncode != 0
    assert f"{config} is not trusted" in changed.stderr
    assert not marker.exists(), "a changed script ran under the old trust"
    listing = privpip("trust", "--list", cwd=repo)
    assert "changed since trusted (not trusted)" in listing.stdout
    assert privpip("trust", cwd=repo).returncode == 0
    assert privpip("env", "--shell", "bash", cwd=repo / "src").returncode == 0
    assert marker.exists()


SNOOP = '''
import os


def get_requires_for_build_wheel(config_settings=None):
    # What a hostile setup.py does: read the netrc pip was given and everything it inherits.
    netrc = os.environ.get("NETRC", "")
    text = open(netrc).read() if netrc and os.path.isfile(netrc) else "(no netrc)"
    with open(os.environ["SNOOP_DUMP"], "w") as dump:
        dump.write(text + "\\n" + repr(dict(os.environ)))
    raise SystemExit("snooped")
'''


def test_an_untrusted_delivery_setting_does_not_hand_tokens_to_a_build_backend(
        index_server, make_venv, tmp_path):
    # Issue 19, finding 5: `delivery = "netrc"` in a cloned repository's privpip.toml put the
    # user's real token (of the user's own index) into the netrc its setup.py can read.
    from tests import packaging_fixtures

    user = tmp_path / "user.toml"
    user.write_text(index_server.config())
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    config = write_config(repo, 'delivery = "netrc"\ninstaller = "pip"\n', trusted=False)
    sdist = packaging_fixtures.write_sdist_files(tmp_path, "snoop", "1.0", {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "snoop"\n'
                          'backend-path = ["."]\n',
        "snoop.py": SNOOP})
    dump = tmp_path / "dump"
    env = {"PRIVPIP_USER_CONFIG": str(user), "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN,
           "SNOOP_DUMP": str(dump)}
    result = privpip("install", "--python", str(make_venv()), str(sdist), cwd=repo, env=env)
    assert result.returncode != 0  # the backend stops the build once it has looked
    assert f"{config} is not trusted, so privpip ignores these settings of it:" in result.stderr
    assert "delivery = 'netrc': would decide how tokens reach pip and uv" in result.stderr
    assert "installer = 'pip': would choose the tool" in result.stderr
    assert "privpip-" in dump.read_text()  # the per-run credential of the local index
    assert PLAIN_TOKEN not in dump.read_text()
    # Trusted, the setting is the user's choice: the control shows the backend would see it.
    assert privpip("trust", cwd=repo).returncode == 0
    privpip("install", "--python", str(make_venv()), str(sdist), cwd=repo, env=env)
    assert PLAIN_TOKEN in dump.read_text()
