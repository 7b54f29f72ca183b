"""The start-up budget: what `privpip env`, `install` and `--help` import, and the fast exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import TESTS, launch_probe, write_config

PROBE = launch_probe(before="""
at_spawn = []
if sys.argv[1:2] == ["install"]:
    import privpip.run.runner
    spawn = privpip.run.runner.run
    def spy(*args, **kwargs):  # what was imported when the child was started
        at_spawn.extend(sorted(sys.modules))
        return spawn(*args, **kwargs)
    privpip.run.runner.run = spy
""", after="""
import json
print(json.dumps(at_spawn), file=sys.stderr)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
""")
HEAVY = {"keyring", "rich", "tomli_w", "urllib3", "requests", "platformdirs", "email", "http",
         "concurrent", "asyncio", "urllib.request", "http.client", "difflib", "ssl", "tarfile",
         "dataclasses_json"}
# what `env` may not load beyond that: the child's and the private directory's modules
ENV_ONLY = {"subprocess", "shutil", "tempfile", "random", "bz2", "lzma", "privpip.checks.confusion",
            "privpip.credentials.http", "privpip.run.runner"}


def loaded(args, tmp_path, env):
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(TESTS.parent), **env},
                            capture_output=True, text=True)
    modules = set(json.loads(result.stderr.strip().splitlines()[-1]))
    return sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY), result


def all_loaded(args, tmp_path, env):
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(TESTS.parent), **env},
                            capture_output=True, text=True)
    return set(json.loads(result.stderr.strip().splitlines()[-1])), result


def loaded_at_spawn(result: subprocess.CompletedProcess[str]) -> set[str]:
    return set(json.loads(result.stderr.strip().splitlines()[-2]))


# What `privpip install` starts pip without, also where pip could not be started ahead (a
# wrapper script as the target): dataclasses, secrets (hashlib, OpenSSL), and the local
# index's server, which is built beside pip's start-up (LocalIndex.serve). click (and the
# inspect it imports) is read by then; where pip is started ahead, it is started before click
# (test_pips_interpreter_starts_before_anything_but_the_fast_path_is_imported). json is read
# by then too: the token is exported and the index is the project file's, so the file's
# trust record is checked first (issue 19; 1-2 ms, the SHA-256 is CPython's built-in one).
NOT_BEFORE_PIP = {"dataclasses", "secrets", "hashlib",
                  "http.server", "http.client", "ssl", "email", "concurrent.futures",
                  "privpip.localindex.server", "privpip.localindex.pages"}


def test_env_imports_nothing_heavy(tmp_path):
    write_config(tmp_path, "".join(
        f'[[index]]\nname = "i{n}"\nurl = "https://h{n}.example/simple/"\n' for n in range(3)))
    env = {f"PRIVPIP_INDEX_I{n}_TOKEN": f"token-{n}" for n in range(3)}
    env["PRIVPIP_USER_CONFIG"] = str(tmp_path / "none.toml")
    modules, result = loaded(["env", "--shell", "bash"], tmp_path, env)
    assert "export PIP_EXTRA_INDEX_URL=" in result.stdout
    assert modules == []
    everything, _ = all_loaded(["env", "--shell", "bash"], tmp_path, env)
    assert everything & ENV_ONLY == set()


# A CA bundle given to pip (this machine's environment may set one) is loaded before pip runs
# when an upstream is https: a bad one is an error first (see test below).
CA_VARIABLES = ("PIP_CERT", "PIP_CLIENT_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                "SSL_CERT_FILE", "SSL_CERT_DIR")


def _install_probe(tmp_path, delivery, **extra):
    write_config(tmp_path,
        '[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\ndefault = true\n')
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho \"$@\"\n")
    fake.chmod(0o755)
    env = {"PRIVPIP_INDEX_CORP_TOKEN": "token", "PRIVPIP_USER_CONFIG": str(tmp_path / "none"),
           "TMPDIR": str(tmp_path), **{var: "" for var in CA_VARIABLES}, **extra}
    args = ["install", "--delivery", delivery, "--python", str(fake), "--dry-run", "-q",
            "--upgrade", "--index-url=https://h.example/simple/", "corp-dep"]
    return all_loaded(args, tmp_path, env)


def test_install_imports_only_what_running_pip_needs(tmp_path):
    """No keyring (tokens in variables), no dependency-confusion module (no index declares
    `packages`), no difflib for the pip options passed through, no shutil/tempfile."""
    everything, result = _install_probe(tmp_path, "netrc")
    assert result.stdout.strip() == ("-m pip install --dry-run -q --upgrade "
                                     "--index-url=https://h.example/simple/ corp-dep")
    heavy = {m for m in everything if m in HEAVY or m.split(".")[0] in HEAVY}
    assert heavy == set()
    # (gettext stays: click's own modules import it)
    assert everything & {"shutil", "tempfile", "random", "bz2", "lzma", "privpip.checks.confusion",
                         "privpip.credentials.http"} == set()
    assert "subprocess" in everything  # the child is run: the probe saw the real path
    assert loaded_at_spawn(result) & NOT_BEFORE_PIP == set()


def test_routed_install_imports_the_server_and_nothing_else_heavy(tmp_path):
    """Through the local index (the default) the install needs an HTTP server and client and
    TLS for the upstreams; still no keyring, rich, tomli_w, difflib or dependency-confusion
    module. The --index-url is taken over: pip never sees it."""
    everything, result = _install_probe(tmp_path, "local")
    assert result.stdout.strip() == "-m pip install --dry-run -q --upgrade corp-dep"
    allowed = {"http", "http.client", "http.server", "email", "ssl", "concurrent"}
    heavy = {m for m in everything if (m in HEAVY or m.split(".")[0] in HEAVY)
             and m.split(".")[0] not in allowed}
    assert heavy == set()
    assert everything & {"privpip.checks.confusion", "tarfile", "difflib"} == set()
    assert loaded_at_spawn(result) & NOT_BEFORE_PIP == set()
    assert "privpip.localindex.server" in everything  # built once pip was running


def test_a_ca_bundle_for_an_https_upstream_is_loaded_before_pip_runs(tmp_path):
    """A configured bundle is read before pip starts, so that a bad one stops the run with a
    message naming it, instead of failing every request later."""
    import ssl

    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    _, result = _install_probe(tmp_path, "local", PIP_CERT=str(bundle))
    assert "PIP_CERT" in result.stderr or "pip's cert" in result.stderr, result.stderr
    assert "names a CA bundle that cannot be read" in result.stderr
    good = ssl.get_default_verify_paths().cafile
    if good:
        _, result = _install_probe(tmp_path, "local", PIP_CERT=good)
        assert "ssl" in loaded_at_spawn(result)


def test_help_imports_nothing_heavy(tmp_path):
    modules, result = loaded(["--help"], tmp_path, {})
    assert "Usage: privpip" in result.stdout
    assert modules == []


def test_lazy_command_help_matches_the_commands_own():
    import click

    from privpip.cli import COMMANDS, cli

    for name, (_, _, short) in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        if command.hidden:
            assert short == "", name
        else:
            assert command.get_short_help_str(limit=300) == short, name


PIP_FORMS = [
    ["-q", "x"], ["--upgrade", "x"], ["-r", "req.txt"], ["-rreq.txt"], ["--index-url=x", "y"],
    ["--index-url", "x", "y"], ["-Ur", "req.txt"], ["--", "corp-lib==1.2"], ["-q", "--", "x"],
    ["--index", "corp", "-q", "x"], ["-x", "corp", "--python", "py", "--", "-q"],
    ["-q", "--index", "corp", "x"], ["--allow-public", "a", "--upgrade", "--pre", "x"],
    ["--no-such-privpip-option", "x"], ["--upg", "x"], ["--install", "x"], ["-", "x"],
    ["--installer", "uv", "--dry-run", "x"], ["--installer=pip", "-e", ".", "--", "--x"],
]


def test_passed_through_options_parse_exactly_as_with_plain_click():
    """The PassThrough parser only skips the "did you mean" search: every form of a pip
    option reaches pip as click would pass it, and privpip's own options still parse."""
    import click

    from privpip.cli.install import install
    from privpip.cli.run import run

    for command in (install, run):
        plain = click.Command(command.name, params=command.params,
                              context_settings=command.context_settings)
        for args in PIP_FORMS:
            ours = command.make_context(command.name, list(args)).params
            theirs = plain.make_context(command.name, list(args)).params
            assert ours == theirs, args
    params = install.make_context("install", ["--index", "corp", "-Ur", "req.txt", "--",
                                              "x"]).params
    assert params["indexes"] == ("corp",) and params["pip_args"] == ("-Ur", "req.txt", "--", "x")


def test_passed_through_options_do_not_load_difflib():
    code = ("import sys\nfrom privpip.cli.install import install\n"
            "install.make_context('install', ['-q', '--upgrade', '--index-url=x', '-Ur', 'r'])\n"
            "print('difflib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(TESTS.parent)}).stdout
    assert out.strip() == "False"


def privpip(args, tmp_path, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent),
           "PRIVPIP_USER_CONFIG": str(tmp_path / "none"),
           **{f"PRIVPIP_INDEX_I{n}_TOKEN": f"token-{n}" for n in range(3)}}
    write_config(tmp_path, "".join(
        f'[[index]]\nname = "i{n}"\nurl = "https://h{n}.example/simple/"\n' for n in range(3)))
    return subprocess.run([sys.executable, "-m", "privpip", *args], cwd=tmp_path, env=env,
                          **kwargs)


def test_version_output_is_clicks():
    from click.testing import CliRunner

    from privpip import __version__
    from privpip.cli import cli

    for flag in ("--version", "-V"):
        result = CliRunner().invoke(cli, [flag])
        assert result.exit_code == 0 and result.output == f"privpip, version {__version__}\n"


def test_fast_exit_flushes_piped_output_and_keeps_statuses(tmp_path):
    """main() leaves with os._exit: output written to a pipe is all there, statuses stay."""
    env_out = privpip(["env", "--shell", "bash"], tmp_path, capture_output=True, text=True)
    assert env_out.returncode == 0 and env_out.stdout.count("export ") >= 2
    assert env_out.stdout.endswith("\n")
    bad = privpip(["env", "--shell", "nosuch"], tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "Invalid value" in bad.stderr
    missing = privpip(["env", "--index", "nosuch"], tmp_path, capture_output=True, text=True)
    assert missing.returncode != 0 and missing.stderr.startswith("privpip: error:")
    version = privpip(["--version"], tmp_path, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("privpip, version ")


CLOSED_STDOUT = """
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
code = "import sys; sys.argv = ['privpip', *sys.argv[1:]]; import privpip.launch as c; c." + sys.argv[1]
p = subprocess.run([sys.executable, "-c", code, *sys.argv[2:]], stdout=w, stderr=subprocess.PIPE,
                   text=True)
print(p.returncode, p.stderr.strip().splitlines()[-1:])
"""


@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("args", [["--version"], ["env", "--shell", "bash"]])
def test_a_closed_stdout_ends_as_before_the_fast_exit(tmp_path, args, buffered):
    """A reader that went away (``privpip env | head -0``): the status and the last message
    are those of the normal exit (``guarded(_run)`` alone, as before the fast exit)."""
    privpip(["--version"], tmp_path, capture_output=True)  # writes privpip.toml
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent),
           "PRIVPIP_USER_CONFIG": str(tmp_path / "none"),
           **{f"PRIVPIP_INDEX_I{n}_TOKEN": f"token-{n}" for n in range(3)}}
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"

    def outcome(call):
        return subprocess.run([sys.executable, "-c", CLOSED_STDOUT, call, *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True).stdout

    assert outcome("main()") == outcome("guarded(c._run)")


PROBE_AHEAD = launch_probe(before="""
before = set(sys.modules)
spawn = os.posix_spawn
at_start = []
def spy(*args, **kwargs):  # what privpip imported before pip's interpreter was started
    at_start.append(sorted(set(sys.modules) - before))
    return spawn(*args, **kwargs)
os.posix_spawn = spy
""", after="""
import json
print(json.dumps(at_start), file=sys.stderr)
""")
# The entry point, the guess and what it reads, and what `from __future__` loads: nothing else
# may delay the interpreter that imports pip (privpip/run/pip_ahead.py).
BEFORE_PIP_AHEAD = {"privpip", "privpip.launch", "privpip.errors", "privpip.run.target",
                    "privpip.run.pip_ahead", "privpip.run.pip_ahead_child", "__future__",
                    "privpip.run"}


def test_pips_interpreter_starts_before_anything_but_the_fast_path_is_imported(tmp_path):
    """`privpip install` starts the target interpreter (which imports pip meanwhile) before
    importing typing, re, pathlib, subprocess, the config reader or anything else."""
    write_config(tmp_path,
        '[[index]]\nname = "corp"\nurl = "http://127.0.0.1:9/simple/"\ndefault = true\n')
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "PRIVPIP_INDEX_CORP_TOKEN": "token",
           "PRIVPIP_USER_CONFIG": str(tmp_path / "none")}
    result = subprocess.run([sys.executable, "-c", PROBE_AHEAD, "install", "--python",
                             sys.executable, "--", "--help"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pip install [options]" in result.stdout, result.stderr  # pip's own help: it ran
    starts = json.loads(result.stderr.strip().splitlines()[-1])
    assert len(starts) == 1, starts
    assert set(starts[0]) <= BEFORE_PIP_AHEAD, set(starts[0]) - BEFORE_PIP_AHEAD
