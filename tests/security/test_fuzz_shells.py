"""`privpip env` under fuzzing: real shells reproduce arbitrary tokens byte for byte, run nothing.

One example is a batch: one config with many indexes, one token each, so one `privpip env`
and one shell process check them all. PowerShell is not in Debian's archive (`apt-cache policy
powershell` has no candidate), so it is not fuzzed here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.helpers import TESTS, write_config
from tests.security.conftest import budget

PAYLOADS = ["$(touch pwned)", "`touch pwned`", "(touch pwned)", "'; touch pwned; '",
            "\\'; touch pwned; echo '", '"; touch pwned; "', "$(touch pwned)\\", "\\\\\\\\",
            "{touch,pwned}", "%TEMP% $env:HOME ${HOME} $HOME ~ *"]
DUMP = (f"{sys.executable} -c 'import os, json; print(json.dumps("
        "{k: v for k, v in os.environ.items() if k.startswith((\"PIP_\", \"UV_\"))}))'")
SHELLS = {
    "bash": ["bash", "-c", 'eval "$(cat "$1")" && ' + DUMP, "bash"],
    "zsh": ["zsh", "-c", 'eval "$(cat "$1")" && ' + DUMP, "zsh"],
    "sh": ["dash", "-c", 'eval "$(cat "$1")" && ' + DUMP, "dash"],
    "fish": ["fish", "--no-config", "-c", "source $argv[1]; and " + DUMP],
}
CHECKOUT = str(TESTS.parent)
AVAILABLE = [name for name, argv in SHELLS.items() if shutil.which(argv[0])]

# Any Unicode text without NUL (no environment variable can hold one; privpip refuses it),
# of at least 4 characters (privpip refuses shorter tokens as suspicious).
tokens = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=4,
                 max_size=30)


def check_batch(batch: list[str]) -> None:
    batch = batch + PAYLOADS
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = "".join(
            f'[[index]]\nname = "i{n}"\nurl = "https://h{n}.example.com/simple/"\n'
            f"default = {'true' if n == 0 else 'false'}\n"
            for n in range(len(batch)))
        write_config(work, config)
        env = {f"PRIVPIP_INDEX_I{n}_TOKEN": token for n, token in enumerate(batch)}
        expected = {
            "PIP_INDEX_URL": f"https://__token__:{quote(batch[0], safe='')}@h0.example.com/simple/",
            "PIP_EXTRA_INDEX_URL": " ".join(
                f"https://__token__:{quote(token, safe='')}@h{n}.example.com/simple/"
                for n, token in enumerate(batch) if n),
            "UV_DEFAULT_INDEX": "i0=https://h0.example.com/simple/",
            "UV_INDEX": " ".join(f"i{n}=https://h{n}.example.com/simple/"
                                 for n in range(1, len(batch))),
        }
        for n, token in enumerate(batch):
            expected[f"UV_INDEX_I{n}_USERNAME"] = "__token__"
            expected[f"UV_INDEX_I{n}_PASSWORD"] = token
        for shell in AVAILABLE:
            # Bytes, not text: universal newlines would turn a token's "\r" into "\n".
            result = subprocess.run([sys.executable, "-m", "privpip", "env", "--shell", shell],
                                    cwd=work, env={**os.environ, **env, "PYTHONPATH": CHECKOUT},
                                    capture_output=True, stdin=subprocess.DEVNULL)
            assert result.returncode == 0, result.stderr.decode(errors="replace")
            script = work / f"env.{shell}"
            script.write_bytes(result.stdout)
            run = subprocess.run([*SHELLS[shell], str(script)], cwd=work, capture_output=True,
                                 env={"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"})
            assert run.returncode == 0, (shell, run.stderr.decode(errors="replace"))
            got = json.loads(run.stdout)
            for name, value in expected.items():
                assert got.get(name) == value, (shell, name, value, got.get(name))
            assert not list(work.glob("pwned*")), f"{shell} ran a payload"


@pytest.mark.skipif(not AVAILABLE, reason="no shell to test")
@settings(max_examples=budget(8, 500), deadline=None)
@given(st.lists(tokens, min_size=1, max_size=25))
@example(["caf\u00e9 \u20ac \U0001d11e \u2018ps\u2019", "multi\nline\ttab\r", "\x7f\x1b[31m",
          "\uf600\uf6ff\ufffd\ufeff\u200b", "\U0010ffff" * 4, "a=b;c|d&e>f<g"])
@example(["=000", "=ls:=sh", "abc:=ls"])  # zsh's =cmd expansion (found by this test in CI)
def test_every_shell_reproduces_every_byte(batch):
    check_batch(batch)


def test_nul_is_refused(tmp_path):
    """A NUL cannot reach privpip through the environment; from a keyring it is refused."""
    from privpip.errors import UsageError
    from privpip.run import shells

    for shell in ("bash", "zsh", "sh", "fish", "powershell", "dotenv"):
        with pytest.raises(UsageError, match="NUL"):
            shells.export(shell, {"X": "a\0b"})
