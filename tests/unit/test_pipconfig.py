"""pipconfig finds pip's index settings where pip does: checked against real pip's own answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from privpip.core import pipconfig


def pip_says(env: dict[str, str], command: str = "install") -> dict[str, list[str]]:
    """What real pip's option parser ends up with for the index options of ``command``."""
    code = (
        "import json, sys\n"
        "from pip._internal.commands import create_command\n"
        "options, _ = create_command(sys.argv[1]).parse_args([])\n"
        "print(json.dumps({'index-url': [options.index_url],\n"
        "                  'extra-index-url': options.extra_index_urls,\n"
        "                  'find-links': options.find_links}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, command], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def layout(tmp_path: Path, isolated: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_DIRS"] = str(tmp_path / "xdg")
    del env["PIP_CONFIG_FILE"]
    write(tmp_path / "xdg/pip/pip.conf",
          "[global]\nindex-url = http://127.0.0.1:1/global/\nfind-links = /opt/g\n")
    write(isolated / ".pip/pip.conf", "[global]\nextra-index-url = http://127.0.0.1:1/legacy/\n")
    write(isolated / ".config/pip/pip.conf",
          "# the user's file\n[global]\nextra_index_url =\n    http://127.0.0.1:1/a/\n"
          "    http://127.0.0.1:1/b/\n[install]\nindex-url = http://127.0.0.1:1/install/\n")
    return env


def files_of(env: dict[str, str]) -> list[tuple[str, str]]:
    return [(kind, str(path)) for kind, path in pipconfig.config_files(env, sys.prefix)]


def test_locations_and_lines(layout: dict[str, str], isolated: Path, tmp_path: Path) -> None:
    found = pipconfig.settings(layout, sys.prefix)
    assert [(s.kind, s.section, s.key, s.location) for s in found] == [
        ("global", "global", "index-url", f"{tmp_path}/xdg/pip/pip.conf:2"),
        ("global", "global", "find-links", f"{tmp_path}/xdg/pip/pip.conf:3"),
        ("user", "global", "extra-index-url", f"{isolated}/.pip/pip.conf:2"),
        ("user", "global", "extra-index-url", f"{isolated}/.config/pip/pip.conf:3"),
        ("user", "install", "index-url", f"{isolated}/.config/pip/pip.conf:7"),
    ]
    assert found[3].values == ("http://127.0.0.1:1/a/", "http://127.0.0.1:1/b/")


def test_effective_matches_pip(layout: dict[str, str]) -> None:
    chosen = pipconfig.effective(pipconfig.settings(layout, sys.prefix))
    said = pip_says(layout)
    assert said == {key: list(setting.values) for key, setting in chosen.items()}
    assert chosen["index-url"].section == "install"
    download = pipconfig.effective(pipconfig.settings(layout, sys.prefix), "download")
    assert pip_says(layout, "download")["index-url"] == list(download["index-url"].values)
    assert download["index-url"].section == "global"


def test_variables_beat_files_and_blank_is_ignored(layout: dict[str, str]) -> None:
    layout["PIP_EXTRA_INDEX_URL"] = "http://127.0.0.1:1/env1/ http://127.0.0.1:1/env2/"
    layout["PIP_INDEX_URL"] = ""
    chosen = pipconfig.effective(pipconfig.settings(layout, sys.prefix))
    assert chosen["extra-index-url"].where == "PIP_EXTRA_INDEX_URL"
    assert chosen["extra-index-url"].values == ("http://127.0.0.1:1/env1/",
                                                "http://127.0.0.1:1/env2/")
    assert chosen["index-url"].section == "install"
    assert pip_says(layout)["extra-index-url"] == list(chosen["extra-index-url"].values)


def test_config_file_variable_hides_user_files(layout: dict[str, str], tmp_path: Path) -> None:
    own = write(tmp_path / "own.conf", "[global]\nextra-index-url = http://127.0.0.1:1/own/\n")
    layout["PIP_CONFIG_FILE"] = str(own)
    kinds = [kind for kind, _ in files_of(layout)]
    assert "user" not in kinds and kinds[-1] == "env-file"
    chosen = pipconfig.effective(pipconfig.settings(layout, sys.prefix))
    assert chosen["extra-index-url"].values == ("http://127.0.0.1:1/own/",)
    assert pip_says(layout)["extra-index-url"] == ["http://127.0.0.1:1/own/"]


def test_devnull_reads_no_file_at_all(layout: dict[str, str]) -> None:
    # pip skips every file, global and site ones included (configuration.py, os.devnull).
    layout["PIP_CONFIG_FILE"] = os.devnull
    assert files_of(layout) == []
    assert pip_says(layout)["index-url"] == ["https://pypi.org/simple"]


def test_unreadable_or_broken_file_is_skipped(tmp_path: Path, isolated: Path) -> None:
    write(isolated / ".config/pip/pip.conf", "index-url = no section header\n")
    env = {"HOME": str(isolated), "XDG_CONFIG_HOME": str(isolated / ".config"),
           "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert [s for s in pipconfig.settings(env) if s.kind == "user"] == []
