"""The import budget: `privpip env` and `--help` load neither keyring, rich nor tomli_w."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import TESTS

PROBE = """
import sys
sys.argv = ["privpip", *sys.argv[1:]]
import os
def exit_here(code):  # main() ends with os._exit; the probe still has to report
    raise SystemExit(code)
os._exit = exit_here
from privpip.cli import main
try:
    main()
except SystemExit:
    pass
import json
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"keyring", "rich", "tomli_w", "urllib3",
               "requests", "platformdirs", "email", "http", "concurrent", "asyncio"})
print(json.dumps(heavy), file=sys.stderr)
"""


def loaded(args, tmp_path, env):
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(TESTS.parent), **env},
                            capture_output=True, text=True)
    return json.loads(result.stderr.strip().splitlines()[-1]), result


def test_env_imports_nothing_heavy(tmp_path):
    (tmp_path / "privpip.toml").write_text("".join(
        f'[[index]]\nname = "i{n}"\nurl = "https://h{n}.example/simple/"\n' for n in range(3)))
    env = {f"PRIVPIP_INDEX_I{n}_TOKEN": f"token-{n}" for n in range(3)}
    env["PRIVPIP_USER_CONFIG"] = str(tmp_path / "none.toml")
    modules, result = loaded(["env", "--shell", "bash"], tmp_path, env)
    assert "export PIP_EXTRA_INDEX_URL=" in result.stdout
    assert modules == []


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
