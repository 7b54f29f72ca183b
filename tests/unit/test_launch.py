"""The entry point: pip's interpreter guessed and started ahead for `privpip install`, then
click parses every line (there is no second parser), and the run's Context is built once."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from privpip.run import pip_ahead
from privpip.run.pip_ahead import guess


@pytest.fixture
def started(monkeypatch):
    """The interpreters the guess would start (nothing is started)."""
    calls: list[str] = []
    monkeypatch.setattr(pip_ahead.PipAhead, "start",
                        classmethod(lambda cls, python, env: calls.append(python)))
    return calls


@pytest.fixture
def venv(tmp_path):
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    return python


@pytest.mark.parametrize("words", [
    ["--python", "{venv}", "corp-dep"],
    ["--python={venv}", "-r", "requirements.txt"],
    ["--index", "corp", "--delivery", "netrc", "--python", "{venv}", "--", "corp-lib"],
    ["-x", "corp", "--python", "{env}", "--upgrade", "corp-dep"],  # an environment directory
    ["--installer", "pip", "--python", "{venv}", "x"],
])
def test_the_guess_starts_the_interpreter_named_by_python(words, started, venv):
    argv = ["install", *(w.format(venv=venv, env=venv.parent.parent) for w in words)]
    guess(argv, {"PATH": ""})
    assert started == [str(venv)]


def test_without_python_it_starts_the_active_environment(started, venv):
    guess(["install", "corp-dep"], {"VIRTUAL_ENV": str(venv.parent.parent), "PATH": ""})
    assert started == [str(venv)]


@pytest.mark.parametrize(("argv", "env"), [
    (["install", "--installer", "uv", "x"], {}),
    (["install", "--installer=uv", "x"], {}),
    (["install", "x"], {"PRIVPIP_INSTALLER": "uv"}),
    (["install", "--help"], {}),
    (["install", "-h"], {}),
    (["install", "x"], {"_PRIVPIP_COMPLETE": "bash_complete"}),
    (["install", "--python", "/nonexistent/python", "x"], {}),  # click's error comes later
    (["pip", "install", "x"], {}),
    (["-v", "install", "x"], {}),
    (["env"], {}),
    ([], {}),
])
def test_no_interpreter_where_pip_will_not_run_or_cannot_be_found(argv, env, started):
    assert guess(argv, {"PATH": "", **env}) is None
    assert started == []


def test_options_after_double_dash_are_pips(started, venv):
    guess(["install", "--python", str(venv), "--", "--python", "/elsewhere"], {"PATH": ""})
    assert started == [str(venv)]


def test_the_root_group_builds_the_one_context_with_the_interpreter_started_ahead(tmp_path):
    """privpip.launch hands what it started to click as ``obj``; the root group's Context
    carries it to the pipeline (the only place a Context is built for a command line)."""
    import click

    from privpip.cli import cli
    from privpip.context import Context

    marker = object()
    seen: list[Context] = []

    @click.command("probe")
    @click.pass_obj
    def probe(ctx: Context) -> None:
        seen.append(ctx)

    with mock.patch.dict("privpip.cli.COMMANDS", {"probe": ("install", "install", "")}), \
            mock.patch("privpip.cli.install.install", probe), \
            mock.patch.dict(os.environ, {"PRIVPIP_NO_INPUT": "1"}):
        cli.main(["--config", "c.toml", "probe"], prog_name="privpip", standalone_mode=False,
                 obj=marker)
    (ctx,) = seen
    assert ctx.pip_ahead is marker and ctx.config_path == "c.toml" and not ctx.interactive
