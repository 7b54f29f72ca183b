"""`privpip completion`: the shipped scripts match, and index names complete in real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TESTS, privpip, write_config

COMPLETIONS = TESTS.parent / "completions"
FILES = {"bash": "privpip.bash", "zsh": "_privpip", "fish": "privpip.fish"}
CONFIG = (
    '[[index]]\nname = "corp"\nurl = "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple/"\n'
    '[[index]]\nname = "corp-mirror"\nurl = "https://mirror.example.com/simple/"\n'
    '[[index]]\nname = "team"\nurl = "https://team.example.com/simple/"\n'
)
REGENERATE = ("regenerate it from the checkout with `PYTHONPATH=. python -m privpip completion "
              "SHELL > completions/FILE` (see docs/readme-git-completion.md)")


@pytest.mark.parametrize("shell", sorted(FILES))
def test_shipped_scripts_are_current(shell):
    result = privpip("completion", shell)
    assert result.returncode == 0, result.stderr
    shipped = (COMPLETIONS / FILES[shell]).read_text(encoding="utf-8")
    assert result.stdout == shipped, f"completions/{FILES[shell]} is stale; {REGENERATE}"


def test_unknown_shell():
    result = privpip("completion", "tcsh")
    assert result.returncode == 2
    assert "Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of 'bash', 'zsh', 'fish'." \
        in result.stderr
    assert "Traceback" not in result.stderr


def complete(words: str, cwd: Path, protocol: str = "bash_complete",
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """click's completion protocol, exactly as the shell scripts drive it."""
    cword = len(words.split()) if words.endswith(" ") else len(words.split()) - 1
    return privpip(cwd=cwd, env={"_PRIVPIP_COMPLETE": protocol, "COMP_WORDS": words,
                                 "COMP_CWORD": str(cword), **(env or {})})


@pytest.mark.parametrize(("words", "expected"), [
    ("privpip install --index ", "plain,corp\nplain,corp-mirror\nplain,team\n"),
    ("privpip install -x co", "plain,corp\nplain,corp-mirror\n"),
    ("privpip install --index corp --index t", "plain,team\n"),
    ("privpip pip --index ", "plain,corp\nplain,corp-mirror\nplain,team\n"),
    ("privpip env -x corp-", "plain,corp-mirror\n"),
    ("privpip install --index zzz", "\n"),
    ("privpip ", "".join(f"plain,{name}\n" for name in [
        "audit", "completion", "env", "index", "init", "install", "login", "logout", "migrate",
        "pip", "run", "scan", "serve", "status", "token", "trust", "upload"])),
])
def test_index_names_complete(tmp_path, words, expected):
    write_config(tmp_path, CONFIG)
    result = complete(words, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")


def test_descriptions_are_the_urls(tmp_path):
    write_config(tmp_path, CONFIG)
    result = complete("privpip install --index t", tmp_path, "zsh_complete")
    assert result.stdout == "plain\nteam\nhttps://team.example.com/simple/\n"


def test_config_option_is_honoured(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('[[index]]\nname = "elsewhere"\nurl = "https://e.example.com/simple/"\n',
                     encoding="utf-8")
    write_config(tmp_path, CONFIG)
    result = complete(f"privpip --config {other} install --index ", tmp_path)
    assert result.stdout == "plain,elsewhere\n"
    result = complete("privpip install --index ", tmp_path, env={"PRIVPIP_CONFIG": str(other)})
    assert result.stdout == "plain,elsewhere\n"


@pytest.mark.parametrize("text", ["[[index]\nname =", '[[index]]\nname = "x"\nurl = "ftp://x"\n'])
def test_broken_config_completes_nothing_quietly(tmp_path, text):
    write_config(tmp_path, text)
    result = complete("privpip install --index ", tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "\n", "")


def test_completion_resolves_no_credential(tmp_path):
    """Completing must not touch the keyring: keyring is not even imported."""
    write_config(tmp_path, CONFIG)
    # privpip leaves through os._exit (no atexit handlers): report the modules there.
    code = ("import os, sys\n"
            "real_exit = os._exit\n"
            "def report(code):\n"
            "    print(sorted(m for m in sys.modules if m.startswith('keyring')), file=sys.stderr)\n"
            "    sys.stderr.flush()\n"
            "    real_exit(code)\n"
            "os._exit = report\n"
            "sys.argv = ['privpip']\n"
            "from privpip.launch import main\nmain()\n")
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "_PRIVPIP_COMPLETE": "bash_complete",
           "COMP_WORDS": "privpip install --index ", "COMP_CWORD": "3"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.stdout == "plain,corp\nplain,corp-mirror\nplain,team\n"
    assert result.stderr == "[]\n"


@pytest.mark.parametrize("words", [["login"], ["logout"], ["index", "remove"],
                                   ["run", "--index"], ["upload", "--index"]])
def test_commands_taking_an_index_name_complete_it(words, tmp_path, monkeypatch):
    from click.shell_completion import ShellComplete

    from privpip.cli import cli

    write_config(tmp_path, CONFIG)
    monkeypatch.chdir(tmp_path)
    items = ShellComplete(cli, {}, "privpip", "_X").get_completions(words, "corp")
    assert [(i.value, i.help) for i in items] == [
        ("corp", "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple/"),
        ("corp-mirror", "https://mirror.example.com/simple/")]


def test_no_config_completes_nothing_and_fails_nothing(tmp_path, monkeypatch):
    from click.shell_completion import ShellComplete

    from privpip.cli import cli

    monkeypatch.chdir(tmp_path)
    assert ShellComplete(cli, {}, "privpip", "_X").get_completions(["login"], "") == []


# ---------------------------------------------------------------------------
# real shells running the shipped scripts


@pytest.fixture
def privpip_on_path(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "privpip"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m privpip "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PYTHONPATH": str(TESTS.parent)}


def test_bash_completes_index_names(tmp_path, privpip_on_path):
    write_config(tmp_path, CONFIG)
    script = (f"source {COMPLETIONS / 'privpip.bash'}\n"
              "COMP_WORDS=(privpip install --index c); COMP_CWORD=3\n"
              "_privpip_completion privpip\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=tmp_path,
                            env=privpip_on_path, capture_output=True, text=True, timeout=60)
    assert (result.stdout, result.stderr) == ("corp\ncorp-mirror\n", "")


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_index_names(tmp_path, privpip_on_path):
    write_config(tmp_path, CONFIG)
    script = (f"source {COMPLETIONS / 'privpip.fish'}\n"
              "complete --do-complete 'privpip install --index '\n")
    result = subprocess.run(["fish", "--no-config", "-c", script], cwd=tmp_path,
                            env=privpip_on_path, capture_output=True, text=True, timeout=60)
    assert result.stdout == (
        "corp\thttps://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple/\n"
        "corp-mirror\thttps://mirror.example.com/simple/\n"
        "team\thttps://team.example.com/simple/\n"), result.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_parses_and_registers(tmp_path, privpip_on_path):
    script = (f"autoload -Uz compinit && compinit -u -D\nsource {COMPLETIONS / '_privpip'}\n"
              "print -r -- ${_comps[privpip]}\n")
    result = subprocess.run(["zsh", "-f", "-c", script], cwd=tmp_path, env=privpip_on_path,
                            capture_output=True, text=True, timeout=60)
    assert (result.stdout, result.returncode) == ("_privpip_completion\n", 0), result.stderr
