"""The README's first command: examples/local-index/demo.py tells its story in order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_prints_privpips_lines_before_pips_output():
    if not (Path(sys.executable).parent / "privpip").exists():
        pytest.skip("privpip's console script is not installed beside this interpreter")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "local-index" / "demo.py")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    step = next(n for n, line in enumerate(lines) if line.startswith("5. $ privpip -v install"))
    story = lines[step:]
    config = next(n for n, line in enumerate(story) if "privpip: config:" in line)
    pip_says = next(n for n, line in enumerate(story) if "Successfully installed" in line)
    assert config < pip_says, "\n".join(story)
    assert "6. the installed package says: 'hello from a private index'" in lines
    assert "   the token appeared in privpip's output: False" in lines
