"""pip's arguments and requirement files are read once per run (privpip.core.pipargs.walk):
routing, the dependency confusion check and git's delivery share that one reading.

A real `privpip install -r req.txt` (real pip, pypiserver) runs with an audit hook that
counts privpip's own opens of each requirement file; pip, a separate process, is not counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PLAIN_TOKEN, TESTS, installed, launch_probe, venv_python, write_config

PROBE = launch_probe(before="""
import json
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.fsdecode(args[0]))
sys.addaudithook(hook)
""", after="""
print("OPENED " + json.dumps(opened), file=sys.stderr)
""")


def opens(tmp_path: Path, venv: Path, *args: str) -> tuple[dict[str, int], str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent),
           "PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
    result = subprocess.run([sys.executable, "-c", PROBE, "install", "--python",
                             venv_python(venv), *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("OPENED "))
    paths = [Path(tmp_path, p).resolve() for p in json.loads(line.removeprefix("OPENED "))]
    names = ("req.txt", "nested.txt")
    shown = "\n".join(str(p) for p in paths if p.name.endswith(names))
    return {n: paths.count((tmp_path / n).resolve()) for n in names}, shown


@pytest.mark.parametrize("delivery", ["local", "netrc"])
def test_each_requirement_file_is_opened_once(index_server, make_venv, tmp_path, delivery):
    """Every consumer is active: the local index takes over the file's index line (private
    copies), the netrc delivery's confusion check reads the names (an index declares
    `packages`), and a [[git]] host makes git's delivery ask whether git will run."""
    write_config(tmp_path, f'delivery = "{delivery}"\n'
                 + index_server.config(extra='packages = ["corp-*"]\n')
                 + '\n[[git]]\nhost = "git.example.com"\n')
    # The same index again: taken over (local) and merged with the configured one.
    index_line = f"--extra-index-url {index_server.url}\n" if delivery == "local" else ""
    (tmp_path / "req.txt").write_text(f"{index_line}-r nested.txt\n")
    (tmp_path / "nested.txt").write_text("corp-dep\n")
    venv = make_venv()
    counts, opened = opens(tmp_path, venv, "-r", "req.txt")
    # (the local delivery's private copies, 1-req.txt and 2-nested.txt, are written, not read)
    assert counts == {"req.txt": 1, "nested.txt": 1}, opened
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
