"""The run's context: the config is read once per run, whatever the command does with it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from privpip import config
from privpip.cli import cli
from privpip.context import Context
from tests.helpers import write_config

CONFIG = """\
[[index]]
name = "corp"
url = "https://pkgs.example.com/simple/"
default = true
packages = ["corp-*"]

[[git]]
host = "git.example.com"
"""


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = config.load

    def counting(cwd: Path, *args: object, **kwargs: object) -> config.Config:
        calls.append(cwd)
        return real(cwd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(config, "load", counting)
    return calls


def test_context_loads_the_config_once(tmp_path, loads):
    write_config(tmp_path, CONFIG)
    notes: list[str] = []
    ctx = Context({"PRIVPIP_USER_CONFIG": str(tmp_path / "none")}, tmp_path, verbose=True,
                  log=notes.append)
    assert ctx.config is ctx.config
    assert len(loads) == 1
    assert notes == [f"privpip: config: {tmp_path / 'privpip.toml'}"]


@pytest.mark.parametrize("args", [
    ["install", "--python", sys.executable, "--", "--dry-run", "--no-index", "corp-lib"],
    ["pip", "--python", sys.executable, "--version"],
    ["run", "--", sys.executable, "-c", "pass"],
    ["env", "--shell", "bash"],
    ["env", "--shell", "bash", "--unset"],
])
def test_each_command_reads_the_config_once(tmp_path, monkeypatch, loads, args):
    """Regression: install read it three times and pip/run/audit twice, by different paths."""
    write_config(tmp_path, CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVPIP_INDEX_CORP_TOKEN", "t0ken-value")
    monkeypatch.setenv("PRIVPIP_USER_CONFIG", str(tmp_path / "none"))
    result = CliRunner().invoke(cli, ["--no-input", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert len(loads) == 1, args
