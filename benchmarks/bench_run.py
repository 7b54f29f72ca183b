"""`privpip run -- true` of this checkout against another one, side by side: what a change to
the run path (the watcher, issue 19) costs.

    git worktree add ../privpip-before <commit before the change>
    python benchmarks/bench_run.py --baseline ../privpip-before [--rounds 40]

Both run on this interpreter (`python -m privpip`, each checkout first on PYTHONPATH), with
one trusted index in a private HOME and an exported token; every round runs every command
once, in turn (which checkout goes first alternates). Prints the medians of wall-clock time
and of CPU time (user + system, children included), and the median of the per-round ratios.
No bar: `privpip run`'s COMMAND is usually pip, a build or a lock tool, which take seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_startup import measured  # one timing of a child for every benchmark here

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "run -- true (local index)": ["run", "--", "true"],
    "run --delivery netrc -- true": ["run", "--delivery", "netrc", "--", "true"],
    "run --delivery netrc -- sh -c 'sleep 0 & wait'": [
        "run", "--delivery", "netrc", "--", "sh", "-c", "sleep 0 & wait"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True,
                        help="another checkout of privpip (the code before the change)")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    trees = {"baseline": args.baseline.resolve(), "this": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp, "home"), Path(tmp, "work")
        home.mkdir()
        work.mkdir()
        (work / "privpip.toml").write_text(
            '[[index]]\nname = "corp"\nurl = "https://corp.example/simple/"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "XDG_", "PYTHON"))}
        env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, NO_COLOR="1",
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
                   PRIVPIP_INDEX_CORP_TOKEN="bench-token-1234567890")
        envs = {name: {**env, "PYTHONPATH": str(tree)} for name, tree in trees.items()}
        # Each checkout records trust in its own format (trusted.json before 2026-12,
        # trusted.toml since, which replaces the JSON file): this one first, then the other.
        for tree in ("this", "baseline"):
            subprocess.run([sys.executable, "-m", "privpip", "trust"], env=envs[tree],
                           cwd=work, check=True, stdout=subprocess.DEVNULL)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {
            (c, t): [] for c in COMMANDS for t in trees}
        for argv in COMMANDS.values():  # warm-up: file cache, .pyc files
            for tree in trees:
                measured([sys.executable, "-m", "privpip", *argv], envs[tree], work)
        for at in range(args.rounds):
            for command, argv in COMMANDS.items():
                order = list(trees) if at % 2 else list(trees)[::-1]
                for tree in order:
                    samples[command, tree].append(
                        measured([sys.executable, "-m", "privpip", *argv], envs[tree], work))
    print(f"{args.rounds} rounds; ms: baseline / this (median ratio)")
    print("| command | wall | CPU |")
    print("| --- | --- | --- |")
    for command in COMMANDS:
        cells = []
        for kind in (0, 1):
            base = [s[kind] for s in samples[command, "baseline"]]
            this = [s[kind] for s in samples[command, "this"]]
            ratio = statistics.median(b / a for a, b in zip(base, this, strict=True))
            cells.append(f"{statistics.median(base) * 1000:.1f} / "
                         f"{statistics.median(this) * 1000:.1f} ({ratio:.2f}x)")
        print(f"| {command} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
