"""Benchmark: pip and uv through the local index vs. straight to the index, side by side.

Starts pypiserver (threaded, see tests/multi_pypiserver.py) with htpasswd authentication on
127.0.0.1 holding one large wheel and a small package with one dependency, starts privpip's
LocalIndex in this process (as privpip runs it), then for several rounds runs every pair below
once, in turn, the order of each pair alternating from round to round:

- download: ``pip download`` of the large wheel; plain pip has the credential inside
  --index-url, the local side gets the per-run credential through a private netrc (bar 1.15x);
- pip-dry-run: ``pip install --dry-run small-pkg`` (resolves small-pkg and its dependency),
  same two deliveries (bar 1.10x);
- uv-dry-run: ``uv pip install --dry-run small-pkg``; plain uv has the credential in the URL,
  the local side has the per-run credential in the local URL's userinfo, as privpip gives it
  to uv (bar 1.2x).
- three-indexes: ``pip install --dry-run small-pkg`` with three upstream indexes, each
  answering after ``--latency-ms`` (a remote registry): two private ones (authenticated,
  without the names) and last the one that has them, as PyPI comes after private indexes.
  Plain pip gets all three (--index-url and two --extra-index-url); the local index asks
  them at once for each name and serves the first in order that has it (first-index), so
  asking three costs no serial round trip per index (bar 1.10x).

Caches are off. Prints the machine, the medians, the median of per-round ratios and the bars;
exits 1 when a bar is missed.

    python benchmarks/bench_localindex.py [--rounds 7] [--size-mb 40] [--only download,...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_installer import start_server  # noqa: E402

from privpip.checks.provenance import Recorder  # noqa: E402
from privpip.core.secret import Secret  # noqa: E402
from privpip.localindex import LocalIndex, Upstream  # noqa: E402
from tests import packaging_fixtures  # noqa: E402
from tests.helpers import write_htpasswd  # noqa: E402

TOKEN = "bench-Token_123"
BARS = {"download": 1.15, "pip-dry-run": 1.10, "uv-dry-run": 1.2, "three-indexes": 1.10}
LABELS = {
    "download": "pip download, {size} wheel",
    "pip-dry-run": "pip install --dry-run small-pkg",
    "uv-dry-run": "uv pip install --dry-run small-pkg",
    "three-indexes": "the same, 3 indexes, {latency} ms each",
}


def _version(*command: str) -> str:
    out = subprocess.run([sys.executable, "-m", *command, "--version"], capture_output=True,
                         text=True).stdout.split()
    return out[1] if len(out) > 1 else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size-mb", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=20,
                        help="three-indexes: each upstream's delay per request")
    parser.add_argument("--only", default=",".join(BARS),
                        help="comma-separated: " + ", ".join(BARS))
    args = parser.parse_args()
    cases = [c for c in args.only.split(",") if c]
    unknown = set(cases) - set(BARS)
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory(prefix="privpip-bench-") as tmp:
        base = Path(tmp)
        packages = base / "packages"
        packages.mkdir()
        wheel = packaging_fixtures.write_wheel(
            packages, "big-pkg", "1.0", {"big_pkg/__init__.py": "VALUE = 1\n",
                                         "big_pkg/data.txt": secrets.token_hex(args.size_mb << 19)})
        packaging_fixtures.write_wheel(packages, "small-dep", "1.0",
                                       {"small_dep/__init__.py": "VALUE = 1\n"})
        packaging_fixtures.write_wheel(packages, "small-pkg", "1.0",
                                       {"small_pkg/__init__.py": "VALUE = 1\n"},
                                       requires=["small-dep"])
        size = wheel.stat().st_size
        htpasswd = write_htpasswd(base / "htpasswd", {"__token__": TOKEN})
        server, root = start_server(packages, htpasswd)
        empty = base / "empty"
        empty.mkdir()
        three, three_root = start_server(packages, htpasswd, extra=[
            f"--latency-ms={args.latency_ms}", f"private1={empty}:{htpasswd}",
            f"private2={empty}:{htpasswd}"])
        three_root = three_root.removesuffix("/bench")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "VIRTUAL_ENV", "NETRC"))}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", PIP_NO_INPUT="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1", UV_NO_CACHE="1", UV_NO_CONFIG="1")
        times: dict[str, dict[str, list[float]]] = {c: {"plain": [], "local": []} for c in cases}
        ratios: dict[str, list[float]] = {c: [] for c in cases}
        try:
            upstream = Upstream("bench", f"{root}/simple/", owns=("big-pkg", "small-*"),
                                username="__token__", token=Secret(TOKEN))
            # Two private indexes first, the one with the names last (first-index order).
            order = ("private1", "private2", "bench")
            upstreams3 = [Upstream(n if n != "bench" else "public", f"{three_root}/{n}/simple/",
                                   username="__token__", token=Secret(TOKEN)) for n in order]
            plain3 = [f"{three_root}/{n}/simple/".replace("http://", f"http://__token__:{TOKEN}@")
                      for n in order]
            # As privpip runs it: every file hashed while it streams (provenance).
            with LocalIndex([upstream], recorder=Recorder()) as index, \
                    LocalIndex(upstreams3, recorder=Recorder()) as index3:
                netrc = base / "netrc"
                netrc.touch(mode=0o600)
                netrc.write_text(f"machine {index.host}\nlogin {index.username}\n"
                                 f"password {index.password.reveal()}\n")
                plain_url = root.replace("http://", f"http://__token__:{TOKEN}@") + "/simple/"
                userinfo = f"{quote(index.username, safe='')}:" \
                           f"{quote(index.password.reveal(), safe='')}"
                local_uv_url = index.url.replace("http://", f"http://{userinfo}@")
                netrc3 = base / "netrc3"
                netrc3.touch(mode=0o600)
                netrc3.write_text(f"machine {index3.host}\nlogin {index3.username}\n"
                                  f"password {index3.password.reveal()}\n")

                def command(case: str, kind: str, dest: Path) -> tuple[list[str], dict[str, str]]:
                    local = kind == "local"
                    run_env = {**env, "NETRC": str(netrc)} if local and case != "uv-dry-run" \
                        else env
                    if case == "download":
                        return ([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                                 "-d", str(dest), "--index-url",
                                 index.url if local else plain_url, "big-pkg"], run_env)
                    if case == "pip-dry-run":
                        return ([sys.executable, "-m", "pip", "install", "-q", "--dry-run",
                                 "--ignore-installed", "--index-url",
                                 index.url if local else plain_url, "small-pkg"], run_env)
                    if case == "three-indexes":
                        indexes = ["--index-url", index3.url] if local else [
                            "--index-url", plain3[2], "--extra-index-url", plain3[0],
                            "--extra-index-url", plain3[1]]
                        return ([sys.executable, "-m", "pip", "install", "-q", "--dry-run",
                                 "--ignore-installed", *indexes, "small-pkg"],
                                {**env, "NETRC": str(netrc3)} if local else env)
                    return ([sys.executable, "-m", "uv", "pip", "install", "-q", "--dry-run",
                             "--python", sys.executable, "--index-url",
                             local_uv_url if local else plain_url, "small-pkg"], run_env)

                for round_ in range(args.rounds):
                    for case in cases:
                        order = ["plain", "local"] if round_ % 2 == 0 else ["local", "plain"]
                        took = {}
                        for kind in order:
                            dest = base / f"dl-{case}-{kind}-{round_}"
                            argv, run_env = command(case, kind, dest)
                            start = time.perf_counter()
                            result = subprocess.run(argv, env=run_env, capture_output=True,
                                                    text=True)
                            took[kind] = time.perf_counter() - start
                            if result.returncode != 0:
                                sys.exit(f"{case} {kind} failed:\n{result.stderr}")
                            if case == "download" and (
                                    (dest / wheel.name).read_bytes() != wheel.read_bytes()):
                                sys.exit(f"{kind}: the downloaded wheel differs")
                            times[case][kind].append(took[kind])
                        ratios[case].append(took["local"] / took["plain"])
                problems = index.problems() + index3.problems()
                if problems:
                    sys.exit("\n".join(p.describe() for p in problems))
        finally:
            for process in (server, three):
                process.terminate()
                process.wait(10)

    print(f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
          f"{platform.machine()} {platform.system()}, Python {sys.version.split()[0]}, "
          f"pip {_version('pip')}, uv {_version('uv')}; {args.rounds} rounds, no caches")
    print(f"{'case':<38} {'plain s':>8} {'local s':>8} {'ratio':>6} {'bar':>6}")
    missed = False
    for case in cases:
        plain = statistics.median(times[case]["plain"])
        local = statistics.median(times[case]["local"])
        ratio = statistics.median(ratios[case])
        missed |= ratio > BARS[case]
        label = LABELS[case].format(size=f"{size / 1e6:.0f} MB", latency=args.latency_ms)
        print(f"{label:<38} {plain:>8.3f} {local:>8.3f} {ratio:>5.2f}x {BARS[case]:>5.2f}x"
              f"{'  MISSED' if ratio > BARS[case] else ''}")
    print("plain: credential in the index URL; local: through LocalIndex (pip: per-run "
          "credential in a 0600 netrc; uv: in the local URL's userinfo). ratio: median of "
          "per-round local/plain.")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
