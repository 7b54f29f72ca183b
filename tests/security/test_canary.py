"""The canary suite: every command and failure path, searched for the token in every channel.

To cover a new command, append a Scenario to SCENARIOS: a name, privpip's argv, environment
additions, a setup callable, the expected exit status and the channels allowed to hold the
token. See tests/security/leakscan.py for the channels and the placeholders. For example:

    Scenario("login-from-stdin", ("login", "corp", "--stdin"), stdin="{token}\\n",
             setup=keyring_backend_only, pip_artifacts=False),
    Scenario("git-credential-get", ("git-credential", "get"), stdin="protocol=https\\n...",
             env=ENV_TOKEN, allowed=STDOUT, required=STDOUT, pip_artifacts=False),

A store privpip writes on purpose (a keyring file, an opt-in credential file) goes into
``ctx.secret_stores`` in the setup: excluded from the file scan, and worth checking that it
does hold the token (see keyring_store_holds_token).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.conftest import free_port, installed
from tests.security import leakscan
from tests.security.leakscan import Ctx, RunResult, Scenario
from tests.security.stubs import StubIndex

pytestmark = pytest.mark.skipif(leakscan.skip_reason() is not None,
                                reason=str(leakscan.skip_reason()))

ENV_TOKEN = {"PRIVPIP_INDEX_CORP_TOKEN": "{token}"}
STDOUT = frozenset({"stdout"})


def install(*pip_args: str) -> tuple[str, ...]:
    """privpip -v install ... -v: as much output from both as they will give."""
    return ("-v", "--no-input", "install", "--python", "{python}", *pip_args, "-v")


# ---------------------------------------------------------------------------
# setups and checks


def stub(mode: str, code: int = 200, scheme: str = "http"):
    def setup(ctx: Ctx) -> None:
        server = StubIndex(mode, code)
        ctx.cleanups.append(server.stop)
        ctx.extra["stub"] = server
        if mode == "trickle":
            ctx.ready = server.started
        ctx.write_config(url=server.url.replace("http://", f"{scheme}://"))
    return setup


def config_at(url: str):
    def setup(ctx: Ctx) -> None:
        ctx.write_config(url=url.format(port=free_port()))
    return setup


def keyring_with_token(ctx: Ctx) -> None:
    ctx.env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    subprocess.run([sys.executable, "-m", "keyring", "set", ctx.index_url, ctx.user],
                   input=ctx.token + "\n", text=True, check=True, capture_output=True,
                   env={**ctx.base_env, **ctx.env})
    store = ctx.home / ".local/share/python_keyring/keyring_pass.cfg"
    assert store.is_file()
    ctx.secret_stores.add(store)
    ctx.write_config()


def second_index(keyring_backend: str):
    def setup(ctx: Ctx) -> None:
        ctx.write_config(extra='\n[[index]]\nname = "other"\n'
                               'url = "https://other.example.com/simple/"\n')
        ctx.env["PYTHON_KEYRING_BACKEND"] = keyring_backend
        ctx.env["PRIVPIP_KEYRING_TIMEOUT"] = "1"
    return setup


def same_host_other_path(ctx: Ctx) -> None:
    ctx.write_config(extra=f'\n[[index]]\nname = "other"\nurl = "{ctx.index_url}other/"\n')


def wrong_user(ctx: Ctx) -> None:
    ctx.write_config(username="other-user")


def malformed_toml(ctx: Ctx) -> None:
    (ctx.cwd / "privpip.toml").write_text('[[index]\nname = "corp"\nurl = "https://x/simple/"\n')


def token_pasted_into_url(ctx: Ctx) -> None:
    """The mistake the file check exists for: a token pasted into the committed URL."""
    import tomli_w

    url = f"https://{ctx.user}:{quote(ctx.token, safe='')}@pkgs.example.com/simple/"
    path = ctx.cwd / "privpip.toml"
    path.write_text(tomli_w.dumps({"index": [{"name": "corp", "url": url}]}))
    ctx.planted.add(path)


def token_reached(ctx: Ctx, result: RunResult) -> None:
    expected = "Basic " + base64.b64encode(f"{ctx.user}:{ctx.token}".encode()).decode()
    assert expected in ctx.extra["stub"].auth_seen, "the canary never reached the server"


def says(*texts: str):
    def check(ctx: Ctx, result: RunResult) -> None:
        output = (result.stdout + result.stderr).decode(errors="replace")
        for text in texts:
            assert text in output, f"expected {text!r} in the output"
    return check


def both(*checks):
    def check(ctx: Ctx, result: RunResult) -> None:
        for one in checks:
            one(ctx, result)
    return check


def has_installed(module: str, value: str):
    def check(ctx: Ctx, result: RunResult) -> None:
        assert installed(ctx.venv, module) == value
    return check


def keyring_store_holds_token(ctx: Ctx, result: RunResult) -> None:
    """The control: the file scan finds the token where it is supposed to be."""
    (store,) = ctx.secret_stores
    forms = leakscan.secret_forms(ctx.user, ctx.token)
    assert leakscan.find_forms(store.read_bytes(), forms), "the scan cannot see the keyring store"


def quick(limit: float):
    def check(ctx: Ctx, result: RunResult) -> None:
        assert result.elapsed < limit, f"took {result.elapsed:.1f} s"
    return check


# ---------------------------------------------------------------------------
# the scenarios

SCENARIOS = [
    Scenario("install-sdist-env-token",
             install("corp-app", "--report", "{cwd}/report.json"), env=ENV_TOKEN,
             check=has_installed("corp_app", "corp-app 1.0")),
    Scenario("install-wheel-keyring-token",
             install("corp-dep", "--report", "{cwd}/report.json"), setup=keyring_with_token,
             check=both(has_installed("corp_dep", "corp-dep 1.0"), keyring_store_holds_token,
                        says("token from keyring"))),
    Scenario("pip-download",
             ("--no-input", "pip", "--python", "{python}", "download", "--no-deps", "-d",
              "{cwd}/dl", "corp-dep"), env=ENV_TOKEN, check=says("Saved")),
    Scenario("env-bash", ("env", "--shell", "bash"), env=ENV_TOKEN, allowed=STDOUT,
             required=STDOUT, pip_artifacts=False),
    Scenario("env-fish-non-ascii", ("env", "--shell", "fish"), env=ENV_TOKEN, allowed=STDOUT,
             required=STDOUT, canary="unicode", pip_artifacts=False),
    Scenario("install-non-ascii-token-refused", install("corp-dep"), env=ENV_TOKEN, expect=1,
             canary="unicode", check=says("non-ASCII"), pip_artifacts=False),
    Scenario("wrong-token-403-pypiserver", install("corp-dep"), env=ENV_TOKEN, setup=wrong_user,
             expect=1, check=says("403")),
    Scenario("wrong-token-401", install("corp-dep"), env=ENV_TOKEN, setup=stub("status", 401),
             expect=1, check=both(token_reached, says("401"))),
    Scenario("forbidden-403", install("corp-dep"), env=ENV_TOKEN, setup=stub("status", 403),
             expect=1, check=both(token_reached, says("403"))),
    Scenario("index-500", install("corp-dep"), env=ENV_TOKEN, setup=stub("status", 500),
             expect=1, check=both(token_reached, says("500"))),
    Scenario("unreachable-host", install("corp-dep"), env=ENV_TOKEN,
             setup=config_at("http://127.0.0.1:{port}/simple/"), expect=1),
    Scenario("dns-failure", install("corp-dep"), env=ENV_TOKEN,
             setup=config_at("https://pkgs.privpip-test.invalid/simple/"), expect=1),
    Scenario("tls-failure", install("corp-dep"), env=ENV_TOKEN,
             setup=stub("status", 200, scheme="https"), expect=1, check=says("SSL")),
    Scenario("malformed-config", install("corp-dep"), env=ENV_TOKEN, setup=malformed_toml,
             expect=2, check=says("invalid TOML"), pip_artifacts=False),
    Scenario("token-pasted-into-config-url", install("corp-dep"), env=ENV_TOKEN,
             setup=token_pasted_into_url, expect=2, check=says("has credentials written"),
             pip_artifacts=False),
    Scenario("keyring-missing", install("corp-dep"), env=ENV_TOKEN,
             setup=second_index("keyring.backends.fail.Keyring"), expect=1,
             check=says("no credential for index 'other'", "no keyring backend"),
             pip_artifacts=False),
    Scenario("keyring-locked", install("corp-dep"), env=ENV_TOKEN,
             setup=second_index("locked.LockedKeyring"), expect=1,
             check=says("KeyringLocked"), pip_artifacts=False),
    Scenario("keyring-hanging", install("corp-dep"), env=ENV_TOKEN,
             setup=second_index("blocking.BlockingKeyring"), expect=1,
             check=both(says("did not answer within 1 s"), quick(15)), pip_artifacts=False),
    Scenario("two-credentials-one-host", install("corp-dep"),
             env={**ENV_TOKEN, "PRIVPIP_INDEX_OTHER_TOKEN": "another-token"},
             setup=same_host_other_path, expect=1, check=says("are both on"),
             pip_artifacts=False),
    # Build backends run inside pip with the install's environment (SECURITY.md): this one
    # prints all of it, as a CI debug step might. privpip keeps its own token variables out.
    Scenario("build-backend-prints-environment", install("corp-envdump"), env=ENV_TOKEN,
             expect=1, check=says("envdump: NETRC=", "this backend always fails")),
    Scenario("sigint-during-download", install("corp-slow"), env=ENV_TOKEN,
             setup=stub("trickle"), signal=signal.SIGINT, expect=1,  # pip's own status for a KeyboardInterrupt
             check=both(token_reached, says("Operation cancelled by user"))),
    Scenario("sigterm-during-download", install("corp-slow"), env=ENV_TOKEN,
             setup=stub("trickle"), signal=signal.SIGTERM, expect=-signal.SIGTERM,
             check=token_reached),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_no_leak(scenario: Scenario, canary_index, make_venv, tmp_path):
    root = leakscan.make_root(tmp_path)
    ctx = Ctx(
        root=root,
        venv=make_venv(),
        token=leakscan.CANARY_UNICODE if scenario.canary == "unicode" else leakscan.CANARY_ASCII,
        user=leakscan.CANARY_USER,
        index_url=canary_index.url,
        base_env=leakscan.scenario_env(root),
    )
    try:
        scenario.setup(ctx)
        result = leakscan.run(scenario, ctx)
    finally:
        for cleanup in reversed(ctx.cleanups):
            cleanup()
    stderr = result.stderr.decode(errors="replace")
    expected = scenario.expect if isinstance(scenario.expect, tuple) else (scenario.expect,)
    assert result.returncode in expected, (
        f"exit {leakscan.signal_name(result.returncode)}, expected {expected}\n{stderr[-3000:]}")
    assert result.leaks == [], "\n".join(result.leaks)
    missing = scenario.required - result.found_in
    assert not missing, f"the token should be in {sorted(missing)}: the scan proves nothing"
    assert leakscan.leftovers(ctx) == []
    # pip prints a failing build backend's traceback; privpip itself must never print one.
    assert "privpip: internal error" not in stderr
    assert not re.search(r'File "[^"]*/privpip/\w+\.py"', stderr), stderr[-3000:]
    assert not list(ctx.cwd.glob("pwned*")) and not list(root.glob("**/pwned*"))
    if scenario.check is not None:
        scenario.check(ctx, result)


def test_forms_are_found():
    """The scanner finds every form it claims to, embedded in other bytes."""
    forms = leakscan.secret_forms(leakscan.CANARY_USER, leakscan.CANARY_UNICODE)
    assert len(forms) >= 8
    for name, value in forms.items():
        assert leakscan.find_forms(b"before " + value + b" after", forms), name
    assert leakscan.find_forms(b"nothing here", forms) == []
    assert os.sep not in leakscan.RUN_ID
