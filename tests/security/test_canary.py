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

from tests import packaging_fixtures
from tests.helpers import free_port, installed, start_pypiserver, write_htpasswd
from tests.security import leakscan
from tests.security.leakscan import Ctx, RunResult, Scenario
from tests.security.stubs import StubIndex

pytestmark = pytest.mark.skipif(leakscan.skip_reason() is not None,
                                reason=str(leakscan.skip_reason()))

ENV_TOKEN = {"PRIVPIP_INDEX_CORP_TOKEN": "{token}"}
STDOUT = frozenset({"stdout"})
STDOUT_STDERR = frozenset({"stdout", "stderr"})
PLAINTEXT_KEYRING = "keyrings.alt.file.PlaintextKeyring"
# keyring's CLI with privpip's backend, which answers from the scenario's privpip.toml
KEYRING_CLI = ("-m", "keyring")
PLUGIN = {"PYTHON_KEYRING_BACKEND": "privpip.keyring_backend.PrivpipKeyring"}
# `git credential fill` for a git+https dependency on the configured [[git]] host.
GIT_CONFIG = '\n[[git]]\nhost = "git.example.com"\ntoken-env = ["CANARY_GIT_TOKEN"]\n'
GIT_ENV = {"CANARY_GIT_TOKEN": "{token}", "PRIVPIP_CONFIG": "{cwd}/privpip.toml"}
# A child of `privpip run` that prints its whole environment, as a CI debug step might.
PRINT_ENVIRONMENT = "import os\nfor item in sorted(os.environ.items()): print('%s=%s' % item)"


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


def plaintext_keyring(ctx: Ctx) -> None:
    """An empty keyrings.alt file keyring in the scenario's HOME: the store `login` writes."""
    ctx.env["PYTHON_KEYRING_BACKEND"] = PLAINTEXT_KEYRING
    ctx.secret_stores.add(ctx.home / ".local/share/python_keyring/keyring_pass.cfg")
    ctx.write_config()


def keyring_backend(backend: str, url: str | None = None):
    def setup(ctx: Ctx) -> None:
        ctx.env["PYTHON_KEYRING_BACKEND"] = backend
        ctx.env["PRIVPIP_KEYRING_TIMEOUT"] = "1"
        ctx.write_config(url=url)
    return setup


def stub_with_keyring(code: int):
    """A stub answering ``code`` and a plaintext keyring: `login` must store nothing."""
    def setup(ctx: Ctx) -> None:
        stub("status", code)(ctx)
        ctx.env["PYTHON_KEYRING_BACKEND"] = PLAINTEXT_KEYRING
        ctx.write_config(url=ctx.extra["stub"].url)
    return setup


def unreachable_with_keyring(ctx: Ctx) -> None:
    ctx.env["PYTHON_KEYRING_BACKEND"] = PLAINTEXT_KEYRING
    ctx.write_config(url=f"http://127.0.0.1:{free_port()}/simple/")


def no_config(ctx: Ctx) -> None:
    pass


def fake_token_command(body: str):
    """A stand-in for a cloud CLI on PATH (outside the scanned tree: its source holds the
    canary), configured as the index's token-command."""
    def setup(ctx: Ctx) -> None:
        bin_dir = ctx.root.parent / "bin"
        bin_dir.mkdir(exist_ok=True)
        script = bin_dir / "fake-cli"
        script.write_text(f"#!{sys.executable}\nimport sys\nTOKEN = {ctx.token!r}\n{body}\n")
        script.chmod(0o755)
        ctx.env["PATH"] = f"{bin_dir}{os.pathsep}{ctx.base_env['PATH']}"
        ctx.write_config(extra='token-command = ["fake-cli", "get-token"]\n')
        ctx.env["PRIVPIP_TRUST"] = "1"  # the scenario wrote the file (tests/test_trust.py)
    return setup


def owned_and_squatted(default: bool):
    """`packages` owns corp-*; the public index (a loopback pypiserver) has corp-dep 99.0."""
    def setup(ctx: Ctx) -> None:
        public = ctx.fixture("public_index")
        ctx.write_config(top=f'public-index = "{public}"\n\n', default=default,
                         extra='packages = ["corp-*"]\n')
    return setup


def upload_server(password: str | None = None):
    """A fresh pypiserver (its files outside the scanned tree) whose one user has the canary
    as password, or ``password``; a wheel to upload in the project's dist/."""
    def setup(ctx: Ctx) -> None:
        base = ctx.root.parent / "upload-server"
        packages = base / "packages"
        packages.mkdir(parents=True)
        htpasswd = write_htpasswd(base / "htpasswd", {ctx.user: password or ctx.token})
        process, root = start_pypiserver(packages, htpasswd, "download,list,update",
                                         base / "server.log")

        def stop() -> None:
            process.terminate()
            process.wait(10)
        ctx.cleanups.append(stop)
        ctx.extra["packages"] = packages
        ctx.write_config(url=f"{root}/simple/")
        (ctx.cwd / "dist").mkdir(exist_ok=True)
        packaging_fixtures.write_wheel(ctx.cwd / "dist", "corp-up", "1.0",
                                       {"corp_up/__init__.py": "VALUE = 'corp-up 1.0'\n"})
    return setup


def upload_stub(code: int):
    def setup(ctx: Ctx) -> None:
        stub("status", code)(ctx)
        (ctx.cwd / "dist").mkdir(exist_ok=True)
        packaging_fixtures.write_wheel(ctx.cwd / "dist", "corp-up", "1.0",
                                       {"corp_up/__init__.py": "VALUE = 'corp-up 1.0'\n"})
    return setup


def git_host(ctx: Ctx) -> None:
    ctx.write_config(extra=GIT_CONFIG)
    ctx.env["PRIVPIP_TRUST"] = "1"  # token-env: the scenario wrote the file


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


def keyring_store_lacks_token(ctx: Ctx, result: RunResult) -> None:
    """After logout (or a refused login) the keyring file, if any, no longer holds the token."""
    forms = leakscan.secret_forms(ctx.user, ctx.token)
    for store in ctx.secret_stores:
        if store.exists():
            assert not leakscan.find_forms(store.read_bytes(), forms), f"{store} kept the token"


def stdout_is(expected: str):
    def check(ctx: Ctx, result: RunResult) -> None:
        assert result.stdout.decode() == expected.format_map(ctx.fields())
    return check


def only_stderr_masks(ctx: Ctx, result: RunResult) -> None:
    """`env --shell github`: stderr holds nothing but ::add-mask:: commands for the token."""
    lines = result.stderr.decode().splitlines()
    assert lines, "no ::add-mask:: lines"
    assert all(line.startswith("::add-mask::") for line in lines), lines
    assert f"::add-mask::{ctx.token.replace('%', '%25')}" in lines


def token_only_in(*prefixes: str):
    """The token appears on stdout only in lines that start with one of ``prefixes``."""
    def check(ctx: Ctx, result: RunResult) -> None:
        forms = leakscan.secret_forms(ctx.user, ctx.token)
        for line in result.stdout.splitlines():
            if not line.decode(errors="replace").startswith(prefixes):
                hits = leakscan.find_forms(line, forms)
                assert not hits, f"token ({', '.join(hits)}) in {line[:60]!r}"
        assert any(line.decode(errors="replace").startswith(prefixes)
                   for line in result.stdout.splitlines())
    return check


def uploaded(filename: str):
    def check(ctx: Ctx, result: RunResult) -> None:
        assert (ctx.extra["packages"] / filename).is_file(), "the server has no such file"
    return check


def file_says(name: str, *texts: str):
    def check(ctx: Ctx, result: RunResult) -> None:
        content = (ctx.cwd / name).read_text()
        for text in texts:
            assert text in content, f"expected {text!r} in {name}"
    return check


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
             setup=second_index("keyring.backends.fail.Keyring"), expect=77,
             check=says("no credential for index 'other'", "which keeps no tokens"),
             pip_artifacts=False),
    Scenario("keyring-locked", install("corp-dep"), env=ENV_TOKEN,
             setup=second_index("locked.LockedKeyring"), expect=77,
             check=says("KeyringLocked"), pip_artifacts=False),
    Scenario("keyring-hanging", install("corp-dep"), env=ENV_TOKEN,
             setup=second_index("blocking.BlockingKeyring"), expect=77,
             check=both(says("did not answer within 1 s"), quick(15)), pip_artifacts=False),
    Scenario("two-credentials-one-host-netrc", install("--delivery", "netrc", "corp-dep"),
             env={**ENV_TOKEN, "PRIVPIP_INDEX_OTHER_TOKEN": "another-token"},
             setup=same_host_other_path, expect=1, check=says("are both on"),
             pip_artifacts=False),
    # The local index (default) asks each index with its own credential: no refusal.
    Scenario("two-credentials-one-host-local", install("corp-dep"),
             env={**ENV_TOKEN, "PRIVPIP_INDEX_OTHER_TOKEN": "another-token"},
             setup=same_host_other_path, check=has_installed("corp_dep", "corp-dep 1.0")),
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
    Scenario("sigint-during-download-netrc", install("--delivery", "netrc", "corp-slow"),
             env=ENV_TOKEN, setup=stub("trickle"), signal=signal.SIGINT, expect=1,
             check=both(token_reached, says("Operation cancelled by user"))),
    Scenario("sigterm-during-download-netrc", install("--delivery", "netrc", "corp-slow"),
             env=ENV_TOKEN, setup=stub("trickle"), signal=signal.SIGTERM,
             expect=-signal.SIGTERM, check=token_reached),
    # ---- login / logout: the token comes in on stdin, goes to the keyring file only
    Scenario("login-stdin", ("login", "corp"), stdin="{token}\n", setup=plaintext_keyring,
             check=both(keyring_store_holds_token, says("stored the token", "accepted")),
             pip_artifacts=False),
    Scenario("login-wrong-token-401", ("login", "corp"), stdin="{token}\n",
             setup=stub_with_keyring(401), expect=1,
             check=both(token_reached, says("HTTP 401", "nothing was stored"),
                        keyring_store_lacks_token), pip_artifacts=False),
    Scenario("login-forbidden-403", ("login", "corp"), stdin="{token}\n",
             setup=stub_with_keyring(403), expect=1,
             check=both(token_reached, says("HTTP 403", "nothing was stored")),
             pip_artifacts=False),
    Scenario("login-unreachable", ("login", "corp"), stdin="{token}\n",
             setup=unreachable_with_keyring, expect=1,
             check=says("could not check the token", "--no-verify"), pip_artifacts=False),
    Scenario("login-keyring-missing", ("login", "corp", "--no-insecure-fallback"),
             stdin="{token}\n",
             setup=keyring_backend("keyring.backends.fail.Keyring"), expect=1,
             check=says("cannot store a token", "which keeps no tokens"), pip_artifacts=False),
    Scenario("login-keyring-hanging", ("login", "corp"), stdin="{token}\n",
             setup=keyring_backend("blocking.BlockingKeyring"), expect=1,
             check=both(says("did not answer within 1 s"), quick(15)), pip_artifacts=False),
    Scenario("logout", ("logout", "corp"), setup=keyring_with_token,
             check=both(says("removed the token"), keyring_store_lacks_token),
             pip_artifacts=False),
    # ---- status: sources are named, tokens never shown (--show-prefix: 4 characters)
    Scenario("status-env-token", ("-v", "status"), env=ENV_TOKEN,
             check=says("env:PRIVPIP_INDEX_CORP_TOKEN"), pip_artifacts=False),
    Scenario("status-check-keyring-token", ("status", "--check"), setup=keyring_with_token,
             check=both(says("keyring", "ok"), keyring_store_holds_token), pip_artifacts=False),
    Scenario("status-json-show-prefix", ("status", "--json", "--show-prefix", "--check"),
             env=ENV_TOKEN, check=says('"prefix": "cnry', '"ok": true'), pip_artifacts=False),
    Scenario("status-check-rejected", ("status", "--check"), env=ENV_TOKEN,
             setup=stub("status", 401), expect=1, check=both(token_reached, says("rejected")),
             pip_artifacts=False),
    # ---- run: the child gets NETRC, and uv's UV_INDEX_<NAME>_PASSWORD (documented: README
    # "Any tool: privpip run", `privpip run --help`); nothing else holds the token.
    Scenario("run-python", ("-v", "run", "--", "{python}", "-c", "print('child ran')"),
             env=ENV_TOKEN, check=says("child ran"), pip_artifacts=False),
    Scenario("run-child-prints-environment-local",
             ("run", "--", "{python}", "-c", PRINT_ENVIRONMENT), env=ENV_TOKEN,
             check=says("NETRC=", "PIP_INDEX_URL=http://127."), pip_artifacts=False),
    Scenario("run-child-prints-environment",
             ("run", "--delivery", "netrc", "--", "{python}", "-c", PRINT_ENVIRONMENT),
             env=ENV_TOKEN, allowed=STDOUT, required=STDOUT,
             check=both(token_only_in("UV_INDEX_CORP_PASSWORD="), says("NETRC=")),
             pip_artifacts=False),
    Scenario("run-pip-download-netrc",
             ("run", "--", "{python}", "-m", "pip", "-v", "download", "--no-deps", "-d",
              "{cwd}/dl", "corp-dep"), env=ENV_TOKEN, check=says("Saved")),
    # ---- upload: twine gets TWINE_PASSWORD in its environment, never on its command line
    Scenario("upload-wheel", ("-v", "upload", "{cwd}/dist/corp_up-1.0-py3-none-any.whl"),
             env=ENV_TOKEN, setup=upload_server(),
             check=uploaded("corp_up-1.0-py3-none-any.whl"), pip_artifacts=False),
    Scenario("upload-wrong-token-pypiserver", ("-v", "upload", "{cwd}/dist"), env=ENV_TOKEN,
             setup=upload_server(password="not-the-canary-123"), expect=1,
             check=says("403"), pip_artifacts=False),
    Scenario("upload-401-stub", ("upload", "{cwd}/dist"), env=ENV_TOKEN,
             setup=upload_stub(401), expect=1, check=token_reached, pip_artifacts=False),
    # ---- env for GitHub Actions: variables on stdout, ::add-mask:: commands on stderr
    Scenario("env-github", ("env", "--shell", "github"), env=ENV_TOKEN, allowed=STDOUT_STDERR,
             required=STDOUT_STDERR, check=only_stderr_masks, pip_artifacts=False),
    # ---- git's credential helper: answers its configured host only
    Scenario("git-credential-get", ("git-credential", "get"), env=GIT_ENV, setup=git_host,
             stdin="protocol=https\nhost=git.example.com\npath=group/dep.git\n\n",
             allowed=STDOUT, required=STDOUT,
             check=stdout_is("username=oauth2\npassword={token}\n"), pip_artifacts=False),
    Scenario("git-credential-other-host", ("git-credential", "get"), env=GIT_ENV,
             setup=git_host, stdin="protocol=https\nhost=evil.example.com\n\n",
             check=stdout_is(""), pip_artifacts=False),
    Scenario("git-credential-cleartext-http", ("git-credential", "get"), env=GIT_ENV,
             setup=git_host, stdin="protocol=http\nhost=git.example.com\n\n",
             check=stdout_is(""), pip_artifacts=False),
    Scenario("git-credential-smuggled-host", ("git-credential", "get"), env=GIT_ENV,
             setup=git_host,
             stdin="protocol=https\nhost=evil.example.com\rhost=git.example.com\n\n",
             check=both(stdout_is(""), says("ignoring the request")), pip_artifacts=False),
    # ---- token-command: its stdout is the token and is never shown, also when it fails
    Scenario("token-command", install("corp-dep"), setup=fake_token_command("print(TOKEN)"),
             check=both(has_installed("corp_dep", "corp-dep 1.0"),
                        says("token from command:fake-cli"))),
    Scenario("token-command-fails", install("corp-dep"),
             setup=fake_token_command("print(TOKEN)\nsys.stderr.write('fake-cli: ExpiredToken\\n')"
                                      "\nsys.exit(3)"),
             expect=1, check=says("`fake-cli` exited with status 3", "fake-cli: ExpiredToken"),
             pip_artifacts=False),
    Scenario("token-command-two-lines", install("corp-dep"),
             setup=fake_token_command("print(TOKEN)\nprint(TOKEN)"), expect=1,
             check=says("printed more than one line"), pip_artifacts=False),
    # ---- `privpip token`, and privpip's keyring backend as other tools reach it
    Scenario("token-piped", ("token", "corp"), env=ENV_TOKEN, allowed=STDOUT, required=STDOUT,
             pip_artifacts=False),
    Scenario("keyring-plugin-get", ("get", "{index_url}", "{user}"), program=KEYRING_CLI,
             env={**ENV_TOKEN, **PLUGIN}, allowed=STDOUT, required=STDOUT, pip_artifacts=False),
    Scenario("keyring-plugin-token-command-fails", ("get", "{index_url}", "{user}"),
             program=KEYRING_CLI, env=PLUGIN,
             setup=fake_token_command("print(TOKEN)\nsys.stderr.write(TOKEN + ' expired\\n')"
                                      "\nsys.exit(3)"),
             expect=1, check=says("`fake-cli` exited with status 3", " expired"),
             pip_artifacts=False),
    Scenario("keyring-plugin-pip-import",
             ("install", "-v", "--keyring-provider", "import", "--index-url", "{index_url}",
              "--target", "{root}/target", "corp-dep"), program=("-m", "pip"),
             env={**ENV_TOKEN, **PLUGIN, "PIP_NO_INPUT": "1"},
             check=says("Successfully installed corp-dep"), pip_artifacts=False),
    # ---- dependency confusion: audit, and an install refused before pip runs
    Scenario("audit", ("audit",), env=ENV_TOKEN, setup=owned_and_squatted(default=True),
             expect=1, check=says("danger  corp-dep", "on the public index: 99.0"),
             pip_artifacts=False),
    Scenario("install-refused-dependency-confusion", install("--delivery", "netrc", "corp-dep"),
             env=ENV_TOKEN,
             setup=owned_and_squatted(default=False), expect=1,
             check=says("refusing to install", "--allow-public corp-dep"), pip_artifacts=False),
    # With the local index (default) the squatted copy is never seen: the owner's version.
    Scenario("install-local-owned-name-from-owner", install("corp-dep"), env=ENV_TOKEN,
             setup=owned_and_squatted(default=False),
             check=has_installed("corp_dep", "corp-dep 1.0")),
    # ---- commands that handle no token, run with one in the environment anyway
    Scenario("init", ("init",), env=ENV_TOKEN, setup=no_config,
             check=file_says("privpip.toml", "[[index]]"), pip_artifacts=False),
    Scenario("index-add", ("index", "add", "other", "https://other.example.com/simple/",
                           "--token-env", "OTHER_TOKEN"), env=ENV_TOKEN,
             check=file_says("privpip.toml", 'name = "other"'), pip_artifacts=False),
    # ---- install --installer uv: uv reads UV_INDEX_<NAME>_PASSWORD; nothing else may hold it
    Scenario("install-uv", ("-v", "--no-input", "install", "--installer", "uv", "--python",
                            "{python}", "-v", "corp-dep"), env=ENV_TOKEN,
             check=has_installed("corp_dep", "corp-dep 1.0")),
    Scenario("install-uv-build-backend-prints-environment",
             ("-v", "--no-input", "install", "--installer", "uv", "--python", "{python}", "-v",
              "corp-envdump"), env=ENV_TOKEN, expect=(1, 2),
             check=says("envdump: NETRC=", "this backend always fails")),
    Scenario("completion-bash", ("completion", "bash"), env=ENV_TOKEN, pip_artifacts=False),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_no_leak(scenario: Scenario, canary_index, make_venv, tmp_path, request):
    root = leakscan.make_root(tmp_path)
    ctx = Ctx(
        root=root,
        venv=make_venv(),
        token=leakscan.CANARY_UNICODE if scenario.canary == "unicode" else leakscan.CANARY_ASCII,
        user=leakscan.CANARY_USER,
        index_url=canary_index.url,
        base_env=leakscan.scenario_env(root),
        fixture=request.getfixturevalue,
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
