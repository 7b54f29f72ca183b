"""privpip's overhead, as ratios against a baseline run side by side (interleaved rounds).

    python benchmarks/bench_startup.py [--rounds N]

1. `privpip env` (three indexes, environment tokens) and `privpip --help`
   against `python -c "import click"`: the budget is 1.3x.
2. `privpip install corp-dep` against plain `pip install corp-dep` with the same
   authenticated local index (pypiserver on 127.0.0.1) and the same token: the budget
   is 1.10x. corp-dep is one tiny wheel, so pip's own work is as small as it gets and
   privpip's fixed cost (one more interpreter start) weighs the most.
3. The same for corp-app, an sdist built in pip's isolated build environment: a typical
   install of a private package.

The machines are shared and noisy, so each round runs every command once, in turn, and
the table reports medians and the ratio of medians. Needs pypiserver[passlib].
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import start_pypiserver, write_htpasswd  # noqa: E402
from tests.packaging_fixtures import populate  # noqa: E402

TOKEN = "bench-token-1234567890"


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved(cases: dict[str, tuple[list[str], dict[str, str]]], cwd: Path,
                rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for argv, env in cases.values():  # warm-up: file cache, .pyc files
        timed(argv, env, cwd)
    for _ in range(rounds):
        for name, (argv, env) in cases.items():
            samples[name].append(timed(argv, env, cwd))
    return {name: statistics.median(values) for name, values in samples.items()}


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "PYTHON_KEYRING"))}
    env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PYTHONPATH=str(ROOT), NO_COLOR="1")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds for start-up (default 30)")
    parser.add_argument("--install-rounds", type=int, default=10,
                        help="rounds for install (default 10)")
    args = parser.parse_args()

    # An installed privpip has bytecode (pip compiles on install) like click has; a checkout
    # run with PYTHONDONTWRITEBYTECODE=1 would recompile every module on every start.
    import compileall

    compileall.compile_dir(str(ROOT / "privpip"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="privpip-bench-"))
    rows = []
    server = None
    try:
        env = clean_env(work)
        py = sys.executable
        # 1. start-up
        (work / "privpip.toml").write_text("".join(
            f'[[index]]\nname = "i{n}"\nurl = "https://h{n}.example/simple/"\n' for n in range(3)))
        startup_env = {**env, **{f"PRIVPIP_INDEX_I{n}_TOKEN": f"tok-{n}" for n in range(3)}}
        medians = interleaved({
            "python -c 'import click'": ([py, "-c", "import click"], startup_env),
            "privpip env": ([py, "-m", "privpip", "env", "--shell", "bash"], startup_env),
            "privpip --help": ([py, "-m", "privpip", "--help"], startup_env),
        }, work, args.rounds)
        base = medians["python -c 'import click'"]
        for name, value in medians.items():
            rows.append((name, value, value / base, 1.3 if name != "python -c 'import click'"
                         else None))

        # 2. install through privpip against plain pip, same index and token
        packages = work / "packages"
        populate(packages)
        htpasswd = write_htpasswd(work / "htpasswd", {"__token__": TOKEN})
        server, root = start_pypiserver(packages, htpasswd, "download,list,update",
                                        work / "server.log")
        (work / "privpip.toml").write_text(
            f'[[index]]\nname = "corp"\nurl = "{root}/simple/"\ndefault = true\n')
        venv = work / "venv"
        subprocess.run([py, "-m", "venv", str(venv)], check=True)
        target = str(venv / "bin" / "python")
        pip_args = ["install", "--force-reinstall", "--no-deps", "corp-dep"]
        plain_env = {**env, "PIP_INDEX_URL": root.replace("://", f"://__token__:{quote(TOKEN)}@")
                     + "/simple/"}
        privpip_env = {**env, "PRIVPIP_INDEX_CORP_TOKEN": TOKEN}
        medians = interleaved({
            "pip install corp-dep": ([target, "-m", "pip", *pip_args], plain_env),
            "privpip install corp-dep": ([py, "-m", "privpip", "install", "--python", target,
                                          *pip_args[1:]], privpip_env),
        }, work, args.install_rounds)
        base = medians["pip install corp-dep"]
        for name, value in medians.items():
            rows.append((name, value, value / base, 1.10 if name.startswith("privpip") else None))

        # 3. a typical install: an sdist built in pip's isolated environment, whose build
        #    backend comes from the private index too.
        sdist_args = ["install", "--force-reinstall", "--no-deps", "corp-app"]
        medians = interleaved({
            "pip install corp-app (sdist)": ([target, "-m", "pip", *sdist_args], plain_env),
            "privpip install corp-app": ([py, "-m", "privpip", "install", "--python", target,
                                          *sdist_args[1:]], privpip_env),
        }, work, max(3, args.install_rounds // 2))
        base = medians["pip install corp-app (sdist)"]
        for name, value in medians.items():
            rows.append((name, value, value / base, 1.10 if name.startswith("privpip") else None))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'command':<30} {'median':>9} {'ratio':>7} {'budget':>7}  verdict")
    failed = False
    for name, value, ratio, budget in rows:
        verdict = "" if budget is None else ("ok" if ratio <= budget else "OVER")
        failed |= verdict == "OVER"
        budget_text = f"{budget:.2f}x" if budget else "base"
        print(f"{name:<30} {value * 1000:>7.1f}ms {ratio:>6.2f}x {budget_text:>7}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
