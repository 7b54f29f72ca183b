"""`privpip env` output evaluated by real shells reproduces every byte and runs nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import HOSTILE_TOKEN, privpip, write_config

TOKENS = [
    HOSTILE_TOKEN,
    "caf\u00e9 \u20ac \U0001d11e \u2018ps-quote\u2019 \\'",
    "multi\nline\ttab",
    "$HOME ${HOME} %s -n -e \\n",
    "'; touch pwned; '",
    '"; touch pwned; "',
    "`touch pwned`",
    "\\\\\\\\",  # tokens shorter than 4 characters are refused: 4 of each
    "''''",
    "end with backslash\\",
    "\x1b[31mred\x1b[0m \x7f\x01",  # click.echo used to strip ANSI sequences
]
URL = "https://pkgs.example.com/simple/"
DUMP = (f"{sys.executable} -c 'import os, json; print(json.dumps("
        "{k: v for k, v in os.environ.items() if k.startswith((\"PIP_INDEX\", \"PIP_EXTRA\", \"UV_\"))}))'")
SHELLS = {
    "bash": ["bash", "-c", 'eval "$(cat "$1")"; ' + DUMP, "bash"],
    "zsh": ["zsh", "-c", 'eval "$(cat "$1")"; ' + DUMP, "zsh"],
    "sh": ["dash", "-c", 'eval "$(cat "$1")"; ' + DUMP, "dash"],
    "fish": ["fish", "-c", "source $argv[1]; " + DUMP],
}


def env_output(tmp_path: Path, shell: str, token: str) -> Path:
    write_config(tmp_path,
        f'[[index]]\nname = "corp"\nurl = "{URL}"\ndefault = true\n'
        '[[index]]\nname = "extra.idx"\nurl = "https://other.example.com/simple/"\n'
        'username = "bot"\n')
    result = privpip("env", "--shell", shell, cwd=tmp_path, env={
        "PRIVPIP_INDEX_CORP_TOKEN": token, "PRIVPIP_INDEX_EXTRA_IDX_TOKEN": token[::-1]})
    assert result.returncode == 0, result.stderr
    out = tmp_path / f"env.{shell}"
    out.write_text(result.stdout)
    return out


def expected(token: str) -> dict[str, str]:
    return {
        "PIP_INDEX_URL": f"https://__token__:{quote(token, safe='')}@pkgs.example.com/simple/",
        "PIP_EXTRA_INDEX_URL":
            f"https://bot:{quote(token[::-1], safe='')}@other.example.com/simple/",
        "UV_DEFAULT_INDEX": f"corp={URL}",
        "UV_INDEX": "extra.idx=https://other.example.com/simple/",
        "UV_INDEX_CORP_USERNAME": "__token__",
        "UV_INDEX_CORP_PASSWORD": token,
        "UV_INDEX_EXTRA_IDX_USERNAME": "bot",
        "UV_INDEX_EXTRA_IDX_PASSWORD": token[::-1],
    }


@pytest.mark.parametrize("shell", list(SHELLS))
def test_shell_reproduces_every_byte(shell, tmp_path):
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    for n, token in enumerate(TOKENS):
        work = tmp_path / str(n)
        work.mkdir()
        script = env_output(work, shell, token)
        result = subprocess.run([*argv, str(script)], cwd=work, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == expected(token), token
        assert not (work / "pwned").exists()


def test_dotenv_reproduces_every_byte(tmp_path):
    dotenv = pytest.importorskip("dotenv")
    for n, token in enumerate(t for t in TOKENS if "${" not in t and "\\" not in t):
        work = tmp_path / str(n)
        work.mkdir()
        values = dotenv.dotenv_values(env_output(work, "dotenv", token))
        assert values == expected(token), token


def test_dotenv_refuses_what_it_cannot_express(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{URL}"\n')
    result = privpip("env", "--shell", "dotenv", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": "a${HOME}b"})
    assert result.returncode == 2
    assert "contains '${' or a backslash, which dotenv loaders" in result.stderr
    assert result.stdout == ""


def test_unset(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{URL}"\n')
    result = privpip("env", "--unset", "--shell", "bash", cwd=tmp_path)
    assert result.stdout == ("unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_DEFAULT_INDEX UV_INDEX "
                             "UV_INDEX_CORP_USERNAME UV_INDEX_CORP_PASSWORD\n")
    result = privpip("env", "--unset", "--shell", "fish", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "set -e PIP_INDEX_URL"


def test_shell_detected_from_SHELL(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{URL}"\n')
    result = privpip("env", cwd=tmp_path, env={"SHELL": "/usr/bin/fish",
                                               "PRIVPIP_INDEX_CORP_TOKEN": "t0ken"})
    assert result.stdout.startswith("set -gx PIP_EXTRA_INDEX_URL 'https://__token__:t0ken@")


def test_exact_output_bash(tmp_path):
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{URL}"\n')
    result = privpip("env", "--shell", "bash", cwd=tmp_path,
                     env={"PRIVPIP_INDEX_CORP_TOKEN": "it's"})
    assert result.stdout == (
        "export PIP_EXTRA_INDEX_URL=https://__token__:it%27s@pkgs.example.com/simple/\n"
        "export UV_INDEX=corp=https://pkgs.example.com/simple/\n"
        "export UV_INDEX_CORP_USERNAME=__token__\n"
        "export UV_INDEX_CORP_PASSWORD='it'\"'\"'s'\n"
        # what --unset restores or removes
        "export PRIVPIP_ENV_SET='PIP_EXTRA_INDEX_URL UV_INDEX UV_INDEX_CORP_USERNAME "
        "UV_INDEX_CORP_PASSWORD'\n"
    )
    assert result.stderr == ""


def test_env_keeps_the_shells_index_lists_and_unset_restores_them(tmp_path):
    """An existing PIP_EXTRA_INDEX_URL / UV_INDEX (the PyTorch index) stays after privpip's;
    `env` twice changes nothing more; `env --unset` gives back exactly what was there, and
    removes what was not."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    # Trusted, as a user's own file is: the exported tokens go to its URLs (issue 19).
    write_config(tmp_path, f'[[index]]\nname = "corp"\nurl = "{URL}"\ndefault = true\n'
                 '[[index]]\nname = "team"\nurl = "https://team.example.com/simple/"\n')
    torch = "https://download.pytorch.org/whl/cpu"
    command = [sys.executable, "-m", "privpip"]
    script = (
        'pp() { PYTHONPATH="$SRC" "$PY" -m privpip "$@"; }\n'
        'eval "$(pp env --shell bash)"; eval "$(pp env --shell bash)"\n'
        'printf "%s\\n" "$PIP_EXTRA_INDEX_URL" "$UV_INDEX" "${PIP_INDEX_URL:+set}"\n'
        'eval "$(pp env --shell bash --unset)"\n'
        'printf "%s\\n" "$PIP_EXTRA_INDEX_URL" "$UV_INDEX" "${PIP_INDEX_URL-unset}" '
        '"${PRIVPIP_SAVED_PIP_EXTRA_INDEX_URL-gone}" "${UV_DEFAULT_INDEX-unset}"\n')
    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith(("PIP_", "UV_", "PRIVPIP_"))}
    env.update({"PIP_CONFIG_FILE": "/dev/null", "HOME": str(tmp_path), "PY": command[0],
                "SRC": str(Path(__file__).resolve().parents[2]),
                "PRIVPIP_INDEX_CORP_TOKEN": "c0rp-token", "PRIVPIP_INDEX_TEAM_TOKEN": "t3am-token",
                "PIP_EXTRA_INDEX_URL": torch, "UV_INDEX": f"torch={torch}"})
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"https://__token__:t3am-token@team.example.com/simple/ {torch}",
        f"team=https://team.example.com/simple/ torch={torch}",
        "set",
        torch, f"torch={torch}", "unset", "gone", "unset",
    ]
