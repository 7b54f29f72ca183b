"""A refused token names where it came from and the fix for that source (issue 24): `unset`
for a variable that hides a stored token, `privpip login` for the keyring, the command's own
messages for a token command, the CI setting in CI; one line, for either delivery."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tests.helpers import PLAIN_TOKEN, PLAINTEXT, WRONG_TOKEN, pp, venv_python, write_config

ENV_VAR = "env:PRIVPIP_INDEX_CORP_TOKEN"


def refusal(index_server, project: Path, venv: Path, delivery: str, env: dict[str, str]
            ) -> list[str]:
    """The privpip lines after a failed install of corp-dep: the local index's one line, or
    the netrc delivery's probe (a line and its hint)."""
    result = pp("install", "--delivery", delivery, "--python", venv_python(venv), "corp-dep",
                cwd=project, env={**PLAINTEXT, **env})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("privpip: index"))
    return lines[first:]


def expected(index_server, delivery: str, source: str, hint: str) -> list[str]:
    if delivery == "local":
        return [f"privpip: index 'corp' ({index_server.url}corp-dep/) answered 403 "
                f"Forbidden to the token from {source}; {hint}"]
    return [f"privpip: index corp ({index_server.url}) rejected the token from {source} "
            "(user __token__): HTTP 403", f"  hint: {hint}"]


@pytest.fixture
def project(index_server, tmp_path: Path) -> Path:
    write_config(tmp_path, index_server.config())
    return tmp_path


@pytest.mark.parametrize("delivery", ["local", "netrc"])
def test_a_variable_that_hides_a_stored_token_is_to_be_unset(index_server, project, make_venv,
                                                             delivery):
    venv = make_venv()
    wrong = {"PRIVPIP_INDEX_CORP_TOKEN": WRONG_TOKEN}
    # Nothing stored: the variable is the only token, so it must be made right.
    assert refusal(index_server, project, venv, delivery, wrong) == expected(
        index_server, delivery, ENV_VAR,
        "set PRIVPIP_INDEX_CORP_TOKEN to a valid token (it is wrong, expired or may not read "
        "packages), or `unset PRIVPIP_INDEX_CORP_TOKEN` and run `privpip login corp`")
    # A valid token in the keyring that the variable overrides: unset it.
    login = pp("login", "corp", cwd=project, env=PLAINTEXT, input=PLAIN_TOKEN)
    assert login.returncode == 0, login.stderr
    assert refusal(index_server, project, venv, delivery, wrong) == expected(
        index_server, delivery, ENV_VAR,
        "`unset PRIVPIP_INDEX_CORP_TOKEN`: it overrides the token stored in the keyring for "
        "index corp; or set PRIVPIP_INDEX_CORP_TOKEN to a valid token")
    # In CI the variable is the job's setting.
    assert refusal(index_server, project, venv, delivery, {**wrong, "CI": "true"}) == expected(
        index_server, delivery, ENV_VAR,
        "the CI variable PRIVPIP_INDEX_CORP_TOKEN holds a wrong or expired token: update it in "
        "the CI/CD settings (a masked secret)")


def test_a_wrong_keyring_token_is_replaced_with_login(index_server, project, make_venv):
    stored = pp("login", "corp", "--no-verify", cwd=project, env=PLAINTEXT, input=WRONG_TOKEN)
    assert stored.returncode == 0, stored.stderr
    assert refusal(index_server, project, make_venv(), "local", {}) == expected(
        index_server, "local", "keyring",
        "store a new token with `privpip login corp` (it checks the token first), or set "
        "PRIVPIP_INDEX_CORP_TOKEN")


def test_a_token_commands_refused_token_points_at_its_messages(index_server, tmp_path,
                                                               make_venv):
    script = tmp_path / "vault-token"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      "print('vault: using a cached token from yesterday', file=sys.stderr)\n"
                      f"print({WRONG_TOKEN!r})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    write_config(tmp_path, index_server.config(extra=f'token-command = ["{script}"]\n'))
    result = pp("install", "--python", venv_python(make_venv()), "corp-dep", cwd=tmp_path,
                env={**PLAINTEXT, "PRIVPIP_TRUST": "1"})
    assert result.returncode == 1
    assert "vault: using a cached token from yesterday" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"privpip: index 'corp' ({index_server.url}corp-dep/) answered 403 Forbidden to the "
        "token from command:" + str(script) + "; the token `" + str(script) + "` printed was "
        "refused: its own messages, if any, are above; sign in with it again or check the "
        "token's scope, or set PRIVPIP_INDEX_CORP_TOKEN")


def test_a_refusal_is_one_line_without_a_withheld_page_line(index_server, tmp_path, make_venv):
    """corp (asked first) refuses its token; the same server under another name has the
    package. The page is withheld (fail closed), and the refusal's line is the only one."""
    other = index_server.url.replace("127.0.0.1", "localhost")
    write_config(tmp_path, index_server.config("corp", default=False)
                 + f'[[index]]\nname = "pub"\nurl = "{other}"\ndefault = true\n')
    env = {**PLAINTEXT, "PRIVPIP_INDEX_CORP_TOKEN": WRONG_TOKEN,
           "PRIVPIP_INDEX_PUB_TOKEN": PLAIN_TOKEN}
    result = pp("install", "--python", venv_python(make_venv()), "corp-dep", cwd=tmp_path,
                env=env)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("privpip:")] == [
        f"privpip: index 'corp' ({index_server.url}corp-dep/) answered 403 Forbidden to the "
        f"token from {ENV_VAR}; set PRIVPIP_INDEX_CORP_TOKEN to a valid token (it is wrong, "
        "expired or may not read packages), or `unset PRIVPIP_INDEX_CORP_TOKEN` and run "
        "`privpip login corp`"]
