"""privpip's keyring backend against keyring's own file backend: the bar of benchmarks/README.md.

    python benchmarks/bench_keyring.py [--rounds N] [--cpu]

(d) `keyring get URL __token__` with privpip installed beside keyring and keyrings.alt, the
    token stored by privpip (in keyrings.alt's file, the backend privpip remembers), keyring
    detecting its backend as on a user's machine (it picks its chainer, which asks privpip),
    against the same command with the token in keyrings.alt's file and no privpip installed
    (keyring detects and picks the file backend).
Rows without a bar: the token exported instead of stored; a URL privpip does not know (the
file backend answers after privpip found nothing); the file backend named in
PYTHON_KEYRING_BACKEND (no detection at all).

Both sides run the same interpreter and `python -m keyring`; they differ only in whether
privpip's distribution (its `keyring.backends` entry point) is on the path.
Needs keyrings.alt in the running environment.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_startup  # noqa: E402
from bench_startup import Row, clean_env, interleaved, rows_for  # noqa: E402

TOKEN = "bench-token-1234567890"
URL = "https://pypi.corp.example/simple/"


def libraries(work: Path, with_privpip: bool) -> Path:
    """This environment's site-packages as links, with or without privpip's distribution."""
    site_packages = Path(next(p for p in site.getsitepackages() if p.endswith("site-packages")))
    libs = work / ("libs-privpip" if with_privpip else "libs-plain")
    libs.mkdir()
    for entry in site_packages.iterdir():
        if entry.suffix == ".pth" or entry.name.startswith("__editable__"):
            continue  # the checkout itself comes from PYTHONPATH, on both sides
        if entry.name.startswith("privpip") and not with_privpip:
            continue
        (libs / entry.name).symlink_to(entry)
    return libs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds (default 20)")
    parser.add_argument("--cpu", action="store_true",
                        help="compare CPU time (user + system) instead of wall-clock time")
    args = parser.parse_args()
    bench_startup.CPU = args.cpu
    import compileall

    compileall.compile_dir(str(ROOT / "privpip"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="privpip-bench-keyring-"))
    try:
        return measure(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, args: argparse.Namespace) -> int:
    py = sys.executable
    project = work / "project"
    (project / ".git").mkdir(parents=True)
    (project / "privpip.toml").write_text(f'[[index]]\nname = "corp"\nurl = "{URL}"\n')

    def side(home: str, with_privpip: bool) -> dict[str, str]:
        env = clean_env(work / home)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no Secret Service: the file backend
        env["PYTHONPATH"] = f"{libraries(work, with_privpip)}{os.pathsep}{ROOT}"
        return env

    plain = side("home-plain", with_privpip=False)
    subprocess.run([py, "-c", "import sys, keyrings.alt.file as f\n"
                    "f.PlaintextKeyring().set_password(sys.argv[1], '__token__', sys.argv[2])",
                    URL, TOKEN], env=plain, check=True)
    stored = side("home-privpip", with_privpip=True)
    # The state `privpip login` leaves: the token in the backend privpip's store chose
    # (detection, without privpip's own backend), which it remembers.
    subprocess.run([py, "-c", "import os, sys\nfrom privpip.credentials.store import KeyringStore\n"
                    "KeyringStore.from_env(os.environ).set(sys.argv[1], '__token__', sys.argv[2])",
                    URL, TOKEN], env=stored, check=True, cwd=project)
    # An exported token goes only to a URL of a trusted file (the user ran `privpip trust`);
    # another value than the stored one shows that privpip answered.
    subprocess.run([py, "-m", "privpip", "trust"], env=stored, cwd=project, check=True,
                   capture_output=True)
    exported = {**stored, "PRIVPIP_INDEX_CORP_TOKEN": TOKEN + "-exported"}
    named = {**plain, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    other = "https://elsewhere.example/simple/"
    subprocess.run([py, "-m", "keyring", "set", other, "__token__"], input=TOKEN + "\n",
                   text=True, env=stored, check=True, cwd=project)
    get = [py, "-m", "keyring", "get"]
    for env, token in ((stored, TOKEN), (plain, TOKEN), (exported, TOKEN + "-exported")):
        found = subprocess.run([*get, URL, "__token__"], env=env, cwd=project,
                               capture_output=True, text=True)
        assert found.stdout == token + "\n", found.stderr  # each side really answers

    base = "keyring get, file backend (no privpip)"
    samples = interleaved({
        base: ([*get, URL, "__token__"], plain),
        "(d) keyring get, privpip, token stored": ([*get, URL, "__token__"], stored),
        "keyring get, privpip, token exported": ([*get, URL, "__token__"], exported),
        "keyring get, privpip, URL it does not know": ([*get, other, "__token__"], stored),
        "keyring get, file backend named in env": ([*get, URL, "__token__"], named),
    }, project, args.rounds)
    rows = rows_for(samples, base, {
        "(d) keyring get, privpip, token stored": 1.5,
        "keyring get, privpip, token exported": None,
        "keyring get, privpip, URL it does not know": None,
        "keyring get, file backend named in env": None,
    })
    return report(rows, args)


def report(rows: list[Row], args: argparse.Namespace) -> int:
    """Print the table (machine, date, rounds first); 1 when a bar is missed."""
    print(f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
          f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, "
          f"{args.rounds} rounds, {'CPU' if args.cpu else 'wall-clock'} time")
    print(f"| {'command':<44} | {'median':>8} | {'ratio':>6} | {'bar':>6} | verdict |")
    print(f"| {'-' * 44} | {'-' * 8} | {'-' * 6} | {'-' * 6} | ------- |")
    failed = False
    for name, median, ratio, bar in rows:
        verdict = "" if bar is None or ratio is None else ("ok" if ratio <= bar else "OVER")
        failed |= verdict == "OVER"
        ratio_text = "base" if ratio is None else f"{ratio:.2f}x"
        bar_text = "" if bar is None else f"{bar:.2f}x"
        print(f"| {name:<44} | {median * 1000:>6.1f}ms | {ratio_text:>6} | {bar_text:>6} | "
              f"{verdict:<7} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
