"""The run's context: environment, directory, flags, verbose notes, the config (loaded once)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from privpip.config import Config
    from privpip.run.pip_ahead import PipAhead


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _decline(question: str) -> bool:
    return False  # no command asked the user: nothing optional happens


class Context:
    """What every command starts from. The config is read on first use and then kept, so that
    every step of one run (confusion check, credentials, delivery, git helper) sees the same
    files."""

    def __init__(self, env: Mapping[str, str], cwd: Path, config_path: str | None = None,
                 verbose: bool = False, interactive: bool = False,
                 log: Callable[[str], None] = _stderr, pip_ahead: PipAhead | None = None,
                 confirm: Callable[[str], bool] = _decline) -> None:
        self.env = env
        self.cwd = cwd
        self.config_path = config_path
        self.verbose = verbose
        self.interactive = interactive
        self.log = log
        # A yes/no question to the user (default no); the commands' layer supplies the prompt,
        # so that the layers below ask without knowing click.
        self.confirm = confirm
        self.pip_ahead = pip_ahead  # pip's interpreter, started by privpip.run.pip_ahead.guess
        self._config: Config | None = None

    def note(self, message: str) -> None:
        """A line for --verbose (never a token)."""
        if self.verbose:
            self.log(f"privpip: {message}")

    @property
    def config(self) -> Config:
        """The project file (or --config / $PRIVPIP_CONFIG) and the user file, loaded once."""
        if self._config is None:
            from privpip import config

            cfg = config.load(self.cwd, self.env, self.config_path)
            for path in cfg.files:
                self.note(f"config: {path}")
            for note in cfg.notes:
                self.note(note)
            self._config = cfg
        return self._config

    def project_file(self) -> Path | None:
        """The project file this run reads (absolute), None when only the user file applies."""
        from privpip import config

        found = config.project_file(self.cwd, self.env, self.config_path)
        return (self.cwd / found).resolve() if found is not None else None
