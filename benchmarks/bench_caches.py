"""Benchmark: `privpip install` against plain pip / uv, side by side, cold and warm caches.

Runs privpip as users do (its console script, the user's config naming one index, the token
in PRIVPIP_INDEX_BENCH_TOKEN) and the plain installer with the credential in --index-url,
both against the tests' threaded pypiserver on 127.0.0.1 (tests/multi_pypiserver.py), which
can wait before every answer (as a remote registry does), sends Cache-Control on files and
logs every request, so that upstream downloads are counted. Every round installs into fresh
environments, the two sides in turn, the order alternating; the ratio is the median of the
per-round privpip/plain ratios. Warm cases first fill each side's own cache once.

Cases (``--only``):

- latency: N small wheels (``--packages``, 50) behind ``--latency-ms`` (50) per request,
  ``--installer uv``, no cache (bar 1.15x);
- warm: one large wheel (``--size-mb``, 40), ``--installer uv``, warm cache: zero upstream
  downloads on the privpip side, and at most 2.0x plain uv;
- many-pip-cold, many-pip-warm, many-uv-cold, many-uv-warm: ``--many`` (150) small wheels,
  no latency (no bar; a table against plain pip and uv).

    python benchmarks/bench_caches.py [--rounds 5] [--only latency,warm,...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import packaging_fixtures  # noqa: E402
from tests.helpers import free_port, write_htpasswd  # noqa: E402

TOKEN = "bench-Token_123"
CASES = ("latency", "warm", "many-pip-cold", "many-pip-warm", "many-uv-cold", "many-uv-warm")
BARS = {"latency": 1.15, "warm": 2.0}


def start_server(base: Path, name: str, packages: Path, options: list[str]
                 ) -> tuple[subprocess.Popen[bytes], str, Path]:
    htpasswd = write_htpasswd(base / f"htpasswd-{name}", {"__token__": TOKEN})
    log = base / f"requests-{name}.log"
    log.touch()
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "multi_pypiserver.py"),
                               f"--log={log}", *options, str(port),
                               f"bench={packages}:{htpasswd}"])
    root = f"http://127.0.0.1:{port}/bench"
    for _ in range(300):
        try:
            urllib.request.urlopen(root + "/simple/", timeout=2)  # noqa: S310 - loopback
            break
        except urllib.error.HTTPError:
            break  # 401: up
        except OSError:
            time.sleep(0.1)
    return server, root, log


def downloads(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines()
               if line.startswith("GET /bench/packages/") and line.endswith(" 200"))


def measure(case: str, args: argparse.Namespace, base: Path, env: dict[str, str],
            template: Path, uv: str, privpip: str) -> dict[str, object]:
    """One case, ``args.rounds`` rounds, both sides in turn."""
    packages = base / f"packages-{case}"
    packages.mkdir()
    requirements = base / f"requirements-{case}.txt"
    if case == "warm":
        packaging_fixtures.write_wheel(
            packages, "big-pkg", "1.0",
            {"big_pkg/__init__.py": "VALUE = 1\n",
             "big_pkg/data.txt": secrets.token_hex(args.size_mb << 19)})
        names = ["big-pkg"]
    else:
        count = args.packages if case == "latency" else args.many
        names = [f"bench-lib-{n}" for n in range(count)]
        for name in names:
            packaging_fixtures.write_wheel(
                packages, name, "1.0",
                {f"{name.replace('-', '_')}/__init__.py": f"VALUE = {name!r}\n"})
    requirements.write_text("\n".join(names) + "\n")
    options = ["--cache-control=31536000"]
    if case == "latency":
        options.append(f"--latency-ms={args.latency_ms}")
    server, root, log = start_server(base, case, packages, options)
    config = base / f"config-{case}.toml"
    config.write_text(f'[[index]]\nname = "bench"\nurl = "{root}/simple/"\n'
                      "default = true\n")
    installer = "pip" if "-pip-" in case else "uv"
    warm = case == "warm" or case.endswith("-warm")
    plain_url = root.replace("http://", f"http://__token__:{TOKEN}@") + "/simple/"
    times: dict[str, list[float]] = {"plain": [], "privpip": []}
    counts: dict[str, list[int]] = {"plain": [], "privpip": []}
    ratios: list[float] = []

    def run(kind: str, round_: int) -> float:
        venv = base / f"venv-{case}-{kind}-{round_}"
        if installer == "pip":
            shutil.copytree(template, venv, symlinks=True)
        else:
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)],
                           check=True, env=env)
        python = str(venv / "bin" / "python")
        run_env = {**env, "PRIVPIP_USER_CONFIG": str(config)}
        cache = base / f"cache-{case}-{kind}"
        if installer == "pip":
            run_env.update({"PIP_CACHE_DIR": str(cache)} if warm
                           else {"PIP_NO_CACHE_DIR": "1"})
        else:
            run_env.update({"UV_CACHE_DIR": str(cache)} if warm
                           else {"UV_NO_CACHE": "1"})
        if kind == "plain" and installer == "pip":
            argv = [python, "-m", "pip", "install", "-q", "--index-url",
                    plain_url, "-r", str(requirements)]
        elif kind == "plain":
            argv = [uv, "pip", "install", "-q", "--python", python, "--index-url",
                    plain_url, "-r", str(requirements)]
        else:
            argv = [privpip, "install", "--installer", installer,
                    "--python", python, "-q", "-r", str(requirements)]
        before = downloads(log)
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=base, env=run_env, capture_output=True,
                                text=True)
        took = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{case} {kind} failed:\n{result.stdout}\n{result.stderr}")
        counts[kind].append(downloads(log) - before)
        shutil.rmtree(venv)
        return took

    try:
        if warm:
            for kind in ("plain", "privpip"):
                run(kind, -1)
                counts[kind].clear()  # the filling run downloads, of course
        for round_ in range(args.rounds):
            order = ["plain", "privpip"] if round_ % 2 == 0 else ["privpip", "plain"]
            took = {kind: run(kind, round_) for kind in order}
            for kind, seconds in took.items():
                times[kind].append(seconds)
            ratios.append(took["privpip"] / took["plain"])
    finally:
        server.terminate()
        server.wait(10)
    return {"plain": statistics.median(times["plain"]),
                     "privpip": statistics.median(times["privpip"]),
                     "ratio": statistics.median(ratios),
                     "downloads": (max(counts["plain"]), max(counts["privpip"])),
                     "installer": installer, "count": len(names)}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--many", type=int, default=150)
    parser.add_argument("--size-mb", type=int, default=40)
    parser.add_argument("--only", default="latency,warm")
    args = parser.parse_args()
    cases = [c for c in args.only.split(",") if c]
    if set(cases) - set(CASES):
        sys.exit(f"unknown case(s); choose from {', '.join(CASES)}")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    privpip = str(Path(sys.executable).parent / "privpip")

    with tempfile.TemporaryDirectory(prefix="privpip-bench-") as tmp:
        base = Path(tmp)
        home = base / "home"
        home.mkdir()
        # PYTHONDONTWRITEBYTECODE would make privpip compile its modules on every run
        # (about 150 ms here), which no user's installed privpip does.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "VIRTUAL_ENV", "NETRC", "XDG_"))
               and k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PIP_NO_INPUT="1", UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never",
                   PRIVPIP_INDEX_BENCH_TOKEN=TOKEN)
        template = base / "template"
        subprocess.run([sys.executable, "-m", "venv", str(template)], check=True)
        results: dict[str, dict[str, object]] = {}
        for case in cases:
            results[case] = measure(case, args, base, env, template, uv, privpip)

    uv_version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()
    print(f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, {platform.machine()} "
          f"{platform.system()}, Python {sys.version.split()[0]}, uv {uv_version[1]}; "
          f"{args.rounds} rounds")
    print(f"{'case':<16} {'plain s':>8} {'privpip s':>9} {'ratio':>6} {'bar':>6} "
          f"{'downloads plain/privpip':>24}")
    missed = False
    for case, row in results.items():
        bar = BARS.get(case)
        ratio = float(row["ratio"])  # type: ignore[arg-type]
        plain_dl, privpip_dl = row["downloads"]  # type: ignore[misc]
        over = (bar is not None and ratio > bar) or (case == "warm" and privpip_dl > 0)
        missed |= over
        print(f"{case:<16} {row['plain']:>8.3f} {row['privpip']:>9.3f} {ratio:>5.2f}x "
              f"{(f'{bar:.2f}x' if bar else '-'):>6} {f'{plain_dl} / {privpip_dl}':>24}"
              f"{'  MISSED' if over else ''}")
    print("downloads: the most upstream file downloads (200) of one install in the rounds; "
          "ratio: median of per-round privpip/plain.")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
