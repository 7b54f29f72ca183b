"""Benchmark: `pip download` of a 40 MB wheel through the local index vs. pip straight to the index.

Starts pypiserver (threaded, see threaded_pypiserver.py) with htpasswd authentication on
127.0.0.1 holding one large wheel, then alternates, for several rounds:

- plain: pip with the credential inside --index-url (the fastest thing pip can do);
- local: pip against privpip's LocalIndex (started in this process, as privpip runs it) with the
  per-run credential in a private netrc; the index streams the file from pypiserver.

Caches are off. Prints the medians and the local/plain ratio (the bar: at most 1.15x).

    python benchmarks/bench_localindex.py [--rounds 7] [--size-mb 40]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_installer import start_server  # noqa: E402

from privpip.localindex import LocalIndex, Upstream  # noqa: E402
from privpip.secret import Secret  # noqa: E402
from tests import packaging_fixtures  # noqa: E402
from tests.helpers import write_htpasswd  # noqa: E402

TOKEN = "bench-Token_123"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size-mb", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="privpip-bench-") as tmp:
        base = Path(tmp)
        packages = base / "packages"
        packages.mkdir()
        wheel = packaging_fixtures.write_wheel(
            packages, "big-pkg", "1.0", {"big_pkg/__init__.py": "VALUE = 1\n",
                                         "big_pkg/data.txt": secrets.token_hex(args.size_mb << 19)})
        size = wheel.stat().st_size
        server, root = start_server(packages, write_htpasswd(base / "htpasswd",
                                                             {"__token__": TOKEN}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "VIRTUAL_ENV", "NETRC"))}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", PIP_NO_INPUT="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
        times: dict[str, list[float]] = {"plain": [], "local": []}
        try:
            upstream = Upstream("bench", f"{root}/simple/", owns=("big-pkg",),
                                username="__token__", token=Secret(TOKEN))
            with LocalIndex([upstream]) as index:
                netrc = base / "netrc"
                netrc.touch(mode=0o600)
                netrc.write_text(f"machine {index.host}\nlogin {index.username}\n"
                                 f"password {index.password.reveal()}\n")
                port = root.rsplit(":", 1)[1]
                urls = {"plain": f"http://__token__:{TOKEN}@127.0.0.1:{port}/simple/",
                        "local": index.url}
                for round_ in range(args.rounds):
                    order = ["plain", "local"] if round_ % 2 == 0 else ["local", "plain"]
                    for kind in order:
                        dest = base / f"dl-{kind}-{round_}"
                        run_env = {**env, "NETRC": str(netrc)} if kind == "local" else env
                        start = time.perf_counter()
                        result = subprocess.run(
                            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d",
                             str(dest), "--index-url", urls[kind], "big-pkg"],
                            env=run_env, capture_output=True, text=True)
                        elapsed = time.perf_counter() - start
                        if result.returncode != 0:
                            sys.exit(f"{kind} failed:\n{result.stderr}")
                        if (dest / wheel.name).read_bytes() != wheel.read_bytes():
                            sys.exit(f"{kind}: the downloaded wheel differs")
                        times[kind].append(elapsed)
                problems = index.problems()
                if problems:
                    sys.exit("\n".join(p.describe() for p in problems))
        finally:
            server.terminate()
            server.wait(10)

    pip_version = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
    print(f"pip download of a {size / 1e6:.1f} MB wheel, no cache, {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs, pip {pip_version}, Python {sys.version.split()[0]}")
    print(f"{'path':<34} {'median s':>9} {'min s':>7} {'max s':>7}")
    labels = {"plain": "plain pip (credential in the URL)", "local": "through the local index"}
    for kind, label in labels.items():
        row = times[kind]
        print(f"{label:<34} {statistics.median(row):>9.3f} {min(row):>7.3f} {max(row):>7.3f}")
    ratio = statistics.median(times["local"]) / statistics.median(times["plain"])
    print(f"ratio local/plain (medians): {ratio:.2f}x (bar: <= 1.15x)")


if __name__ == "__main__":
    main()
