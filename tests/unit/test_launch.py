"""privpip.launch.plain_install against click: the same result, or None (click parses it)."""

from __future__ import annotations

import os
from unittest import mock

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privpip.cli import cli
from privpip.launch import Install, plain_install

# Words a command line after `privpip install` is made of: install's own options in every
# form, pip's options (some of them named like privpip's), values, separators, odd shapes.
WORDS = [
    "--index", "-x", "--index=corp", "-xcorp", "-x=corp", "--python", "--python=.venv", "--python=",
    "--allow-public", "--allow-public=corp-lib", "--delivery", "--delivery=local",
    "--delivery=netrc", "--delivery=bogus", "--installer", "--installer=uv",
    "--installer=pip", "--installer=Pip", "-h", "--help", "--help=x", "-Uh", "-Ux",
    "-r", "-rreq.txt", "-U", "-q", "-v", "-vv", "--upgrade", "--index-url",
    "--index-url=https://h.example/simple/", "--extra-index-url", "--config", "--no-input",
    "--verbose", "-e", "--pre", "--dry-run", "--", "-", "---x", "--=x",
    "corp", "corp-dep", "req.txt", "local", "netrc", "uv", "pip", ".venv", "",
]
# Values of each variable click reads for these options; unset most of the time, so that most
# generated lines reach the fast path and are compared.
ENV_VALUES = {
    "PRIVPIP_DELIVERY": [None] * 4 + ["local", "netrc", "", "bogus", "Local"],
    "PRIVPIP_INSTALLER": [None] * 4 + ["pip", "uv", "", "bogus"],
    "PRIVPIP_CONFIG": [None] * 4 + ["cfg.toml", ""],
    "PRIVPIP_NO_INPUT": [None] * 4 + ["1", "true", "0", "false", "", "yes", "TRUE", " 1 "],
}
VARIABLES = list(ENV_VALUES)


def click_install(argv: list[str], env: dict[str, str]) -> Install | None:
    """What click passes to the root group and to `install` for ``argv``; None when click
    stops instead (an error, --help, or global options that the fast path does not read)."""
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    with mock.patch.dict(os.environ, {**clean, **env}, clear=True):
        try:
            root = cli.make_context("privpip", list(argv), resilient_parsing=False)
            rest = [*getattr(root, "_protected_args", []), *root.args]
            if not rest or rest[0] != "install" or root.params["verbose"]:
                return None
            command = cli.get_command(root, "install")
            assert command is not None
            sub = command.make_context("install", rest[1:], parent=root)
        except (click.exceptions.Exit, click.ClickException):
            return None
    p = sub.params
    return Install(root.params["config_path"], root.params["no_input"], p["indexes"],
                   p["python"], p["allow_public"], p["delivery"], p["installer"],
                   p["pip_args"])


def test_every_line_of_up_to_two_words_parses_as_with_click():
    compared = 0
    for first in [None, *WORDS]:
        for second in [None, *WORDS]:
            argv = ["install", *(w for w in (first, second) if w is not None)]
            fast = plain_install(argv, {})
            if fast is not None:
                assert fast == click_install(argv, {}), argv
                compared += 1
    assert compared > 1500  # most lines take the fast path: the comparison is not vacuous


@settings(max_examples=1000, deadline=None)
@given(words=st.lists(st.sampled_from(WORDS), max_size=7),
       values=st.fixed_dictionaries({var: st.sampled_from(ENV_VALUES[var])
                                     for var in VARIABLES}))
def test_the_fast_parse_is_clicks_or_none(words, values):
    env = {var: value for var, value in values.items() if value is not None}
    argv = ["install", *words]
    fast = plain_install(argv, env)
    if fast is not None:
        assert fast == click_install(argv, env), (argv, env)


@pytest.mark.parametrize("words", [
    ["-r", "requirements.txt"],
    ["corp-dep==1.0"],
    ["--python", ".venv", "--", "corp-lib==1.2"],
    ["--index=corp", "-U", "--pre", "pkg"],
    ["-x", "corp", "--delivery", "netrc", "--installer=uv", "-e", "."],
    ["--dry-run", "--no-deps", "corp-dep"],
    ["-q", "--upgrade", "--index-url=https://h.example/simple/", "corp-dep"],
    ["-Ur", "req.txt", "--python", "x"],  # after the first argument, all of it is pip's
])
def test_common_lines_take_the_fast_path_with_clicks_result(words):
    argv = ["install", *words]
    fast = plain_install(argv, {})
    assert fast is not None
    assert fast == click_install(argv, {})


@pytest.mark.parametrize("argv", [
    ["-v", "install", "x"], ["--config", "c.toml", "install", "x"], ["install", "-h"],
    ["install", "--help"], ["install", "--python"], ["install", "--delivery", "ftp", "x"],
    ["install", "-Ux", "corp"], ["env"], [],
])
def test_everything_else_is_left_to_click(argv):
    assert plain_install(argv, {}) is None


def test_an_unusual_environment_is_left_to_click():
    assert plain_install(["install", "x"], {"PRIVPIP_DELIVERY": "bogus"}) is None
    assert plain_install(["install", "x"], {"PRIVPIP_NO_INPUT": "maybe"}) is None
    assert plain_install(["install", "x"], {"PRIVPIP_CONFIG": ""}) is None
    assert plain_install(["install", "x"], {"_PRIVPIP_COMPLETE": "bash_complete"}) is None
    assert plain_install(["install", "x"], {"PRIVPIP_NO_INPUT": "1", "PRIVPIP_CONFIG": "c"}) \
        == Install("c", True, (), None, (), None, None, ("x",))
