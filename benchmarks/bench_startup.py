"""privpip's own cost, measured side by side against a baseline: the bars of benchmarks/README.md.

    python benchmarks/bench_startup.py [--rounds N] [--install-rounds N]

(a) `privpip env`, three indexes, tokens in variables, against `python -c "import click"`.
(b) `privpip install --dry-run` of one wheel against plain pip with the credentials inside
    PIP_INDEX_URL, same authenticated local index (pypiserver on 127.0.0.1).
(c) `privpip env`, the three tokens in the keyring and keyring left to detect its backend as
    on a user's machine (no PYTHON_KEYRING_BACKEND, no keyringrc.cfg, nothing remembered by
    `privpip login`; keyrings.alt installed, so detection picks its file backend), against
    the same command with the tokens in variables.
Rows without a bar show the same keyring lookup once the backend is known (remembered by
`privpip login`, or named in PYTHON_KEYRING_BACKEND), for comparison.

The machine is shared and noisy, so every round runs every command once, in turn; the table
shows each command's median and the median of the per-round ratios to its baseline.
Needs pypiserver[passlib] and keyrings.alt in the running environment.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
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
# privpip as a user runs it: its console script. `python -m privpip` also imports runpy
# (importlib.util, contextlib, functools, collections: about 3 ms), which `privpip` does
# not; (b) is also measured that way, as a row without a bar.
_SCRIPT = Path(sys.executable).with_name("privpip")
PRIVPIP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "privpip"]
Case = tuple[list[str], dict[str, str]]
CPU = False


def measured(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """One run of ``argv``: (wall-clock seconds, the child's user + system CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall-clock seconds, or with --cpu the child's CPU seconds: on a machine shared with
    other work, CPU time varies far less than wall-clock time."""
    wall, cpu = measured(argv, env, cwd)
    return cpu if CPU else wall


def interleaved(cases: dict[str, Case], cwd: Path, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for argv, env in cases.values():  # warm-up: file cache, .pyc files
        timed(argv, env, cwd)
    for _ in range(rounds):
        for name, (argv, env) in cases.items():
            samples[name].append(timed(argv, env, cwd))
    return samples


def trust(work: Path, env: dict[str, str]) -> None:
    """`privpip trust` for work/privpip.toml in ``env``'s HOME, as a teammate does once."""
    subprocess.run([*PRIVPIP, "trust", str(work / "privpip.toml")], env=env, cwd=work,
                   check=True, stdout=subprocess.DEVNULL)


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "PYTHON_KEYRING", "KEYRING_", "XDG_"))}
    env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PYTHONPATH=str(ROOT), NO_COLOR="1",
               PRIVPIP_USER_CONFIG=str(home / "no-user-config.toml"))
    return env


Row = tuple[str, float, "float | None", "float | None"]  # name, median, ratio, bar


def rows_for(samples: dict[str, list[float]], base: str,
             bars: dict[str, float | None]) -> list[Row]:
    rows: list[Row] = [(base, statistics.median(samples[base]), None, None)]
    for name, bar in bars.items():
        ratios = [a / b for a, b in zip(samples[name], samples[base], strict=True)]
        rows.append((name, statistics.median(samples[name]), statistics.median(ratios), bar))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds for env (default 30)")
    parser.add_argument("--install-rounds", type=int, default=10,
                        help="rounds for install (default 10)")
    parser.add_argument("--only", choices=["env", "install"],
                        help="run only the env rows (a, c) or only the install row (b)")
    parser.add_argument("--cpu", action="store_true",
                        help="compare CPU time (user + system) instead of wall-clock time")
    args = parser.parse_args()
    global CPU
    CPU = args.cpu

    # An installed privpip has bytecode (pip compiles on install) like click has; a checkout
    # run with PYTHONDONTWRITEBYTECODE=1 would recompile every module on every start.
    import compileall

    compileall.compile_dir(str(ROOT / "privpip"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="privpip-bench-"))
    py = sys.executable
    rows: list[Row] = []
    server = None
    try:
        env = clean_env(work / "home")
        indexes = [f"https://h{n}.example/simple/" for n in range(3)]
        (work / "privpip.toml").write_text("".join(
            f'[[index]]\nname = "i{n}"\nurl = "{url}"\n' for n, url in enumerate(indexes)))
        in_vars = {**env, **{f"PRIVPIP_INDEX_I{n}_TOKEN": f"tok-{n}" for n in range(3)}}
        trust(work, env)  # a teammate's exported tokens reach a project's URLs once trusted
        # (c): the same tokens in keyrings.alt's file backend of a separate HOME, where nothing
        # names the backend and nothing was remembered.
        detect = clean_env(work / "home-detect")
        subprocess.run([py, "-c", "import sys, keyrings.alt.file as f\nk = f.PlaintextKeyring()\n"
                        "for n, url in enumerate(sys.argv[1:]): "
                        "k.set_password(url, '__token__', f'tok-{n}')", *indexes],
                       env=detect, check=True)
        trust(work, detect)
        named = {**detect, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
        # The state `privpip login` leaves: tokens stored through privpip's store, which
        # remembers the backend that stored them.
        remembered = clean_env(work / "home-remembered")
        subprocess.run([py, "-c", "import os, sys\n"
                        "from privpip.credentials.store import KeyringStore\n"
                        "s = KeyringStore.from_env(os.environ)\n"
                        "for n, url in enumerate(sys.argv[1:]): "
                        "s.set(url, '__token__', f'tok-{n}')", *indexes],
                       env=remembered, check=True, cwd=work)
        trust(work, remembered)
        env_cmd = [*PRIVPIP, "env", "--shell", "bash"]
        samples = {} if args.only == "install" else interleaved({
            "python -c 'import click'": ([py, "-c", "import click"], in_vars),
            "(a) privpip env, tokens in vars": (env_cmd, in_vars),
            "(c) privpip env, keyring, detected": (env_cmd, detect),
            "privpip env, keyring, remembered": (env_cmd, remembered),
            "privpip env, keyring, named in env": (env_cmd, named),
        }, work, args.rounds)
        if samples:
            rows += rows_for(samples, "python -c 'import click'",
                             {"(a) privpip env, tokens in vars": 1.3})
            rows += rows_for(samples, "(a) privpip env, tokens in vars", {
                "(c) privpip env, keyring, detected": 1.8,
                "privpip env, keyring, remembered": None,
                "privpip env, keyring, named in env": None,
            })
        if args.only == "env":
            return report(rows, args)

        # (b) install --dry-run through privpip against plain pip, same index and token
        packages = work / "packages"
        populate(packages)
        htpasswd = write_htpasswd(work / "htpasswd", {"__token__": TOKEN})
        server, root = start_pypiserver(packages, htpasswd, "download,list,update",
                                        work / "server.log")
        (work / "privpip.toml").write_text(
            f'[[index]]\nname = "corp"\nurl = "{root}/simple/"\ndefault = true\n')
        trust(work, env)
        venv = work / "venv"
        subprocess.run([py, "-m", "venv", str(venv)], check=True)
        target = str(venv / "bin" / "python")
        pip_args = ["install", "--dry-run", "--no-deps", "corp-dep"]
        plain_env = {**env, "PIP_INDEX_URL": root.replace("://", f"://__token__:{quote(TOKEN)}@")
                     + "/simple/"}
        privpip_env = {**env, "PRIVPIP_INDEX_CORP_TOKEN": TOKEN}
        samples = interleaved({
            "pip install --dry-run corp-dep": ([target, "-m", "pip", *pip_args], plain_env),
            "(b) privpip install --dry-run": ([*PRIVPIP, "install", "--python", target,
                                               *pip_args[1:]], privpip_env),
            "privpip install --delivery netrc --dry-run": (
                [*PRIVPIP, "install", "--delivery", "netrc", "--python", target,
                 *pip_args[1:]], privpip_env),
            "(b) as python -m privpip install": ([py, "-m", "privpip", "install", "--python",
                                                  target, *pip_args[1:]], privpip_env),
        }, work, args.install_rounds)
        # (b) is the default: through the per-run local index (issue 11 keeps the same bar)
        # In CPU time (b) has no bar: privpip's own work now runs beside pip's start-up (pip
        # started ahead, the server built in a thread), so it adds CPU time, not waiting.
        rows += rows_for(samples, "pip install --dry-run corp-dep",
                         {"(b) privpip install --dry-run": None if CPU else 1.10,
                          "privpip install --delivery netrc --dry-run": None,
                          "(b) as python -m privpip install": None})
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report(rows, args)


def report(rows: list[Row], args: argparse.Namespace) -> int:
    """Print the table (machine, date, rounds first); 1 when a bar is missed."""
    print(f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
          f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, "
          f"{args.rounds} rounds for env, {args.install_rounds} for install, "
          f"{'CPU' if CPU else 'wall-clock'} time")
    print(f"| {'command':<38} | {'median':>8} | {'ratio':>6} | {'bar':>6} | verdict |")
    print(f"| {'-' * 38} | {'-' * 8} | {'-' * 6} | {'-' * 6} | ------- |")
    failed = False
    for name, median, ratio, bar in rows:
        verdict = "" if bar is None or ratio is None else ("ok" if ratio <= bar else "OVER")
        failed |= verdict == "OVER"
        ratio_text = "base" if ratio is None else f"{ratio:.2f}x"
        bar_text = "" if bar is None else f"{bar:.2f}x"
        print(f"| {name:<38} | {median * 1000:>6.1f}ms | {ratio_text:>6} | {bar_text:>6} | "
              f"{verdict:<7} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
