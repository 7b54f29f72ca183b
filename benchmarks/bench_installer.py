"""Benchmark: `privpip install` with pip vs `privpip install --installer uv`, same install.

Starts a local pypiserver (its WSGI app behind a threaded server, see
tests/multi_pypiserver.py) with htpasswd authentication on 127.0.0.1, fills it with a small
dependency tree (a meta package requiring N wheels, plus an sdist whose build backend is
only on that index), and installs the same requirements into a fresh virtual environment
with each installer, alternating, for several rounds. Caches are off for both (a cold
install, as in CI). Prints the medians and the pip/uv ratio.

    python benchmarks/bench_installer.py [--rounds 5] [--wheels 30] [--python PATH]
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
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import packaging_fixtures  # noqa: E402
from tests.helpers import free_port, write_htpasswd  # noqa: E402

TOKEN = "bench-Token_123"


def populate(packages: Path, wheels: int) -> None:
    packaging_fixtures.populate(packages)
    names = [f"bench-lib-{n}" for n in range(wheels)]
    for name in names:
        module = name.replace("-", "_")
        packaging_fixtures.write_wheel(packages, name, "1.0",
                                       {f"{module}/__init__.py": f"VALUE = {name!r}\n"})
    packaging_fixtures.write_wheel(packages, "bench-all", "1.0",
                                   {"bench_all/__init__.py": "VALUE = 'bench-all'\n"},
                                   requires=[*names, "corp-dep"])


def start_server(packages: Path, htpasswd: Path, extra: Sequence[str] = ()
                 ) -> tuple[subprocess.Popen[bytes], str]:
    import urllib.error
    import urllib.request

    port = free_port()
    # the tests' threaded pypiserver (a deep listen queue: uv opens many connections at once),
    # one index under /bench
    script = Path(__file__).resolve().parent.parent / "tests" / "multi_pypiserver.py"
    server = subprocess.Popen([sys.executable, str(script), str(port),
                               f"bench={packages}:{htpasswd}", *extra])
    root = f"http://127.0.0.1:{port}/bench"
    for _ in range(300):
        try:
            urllib.request.urlopen(root + "/simple/", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # 401: up
        except OSError:
            time.sleep(0.1)
    return server, root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--wheels", type=int, default=30)
    parser.add_argument("--python", default=sys.executable, help="the target environment's Python")
    args = parser.parse_args()
    from privpip.errors import UsageError
    from privpip.run.delivery.uv import find_uv  # privpip's own rule: PATH, else the uv package

    try:
        uv = find_uv(os.environ)
    except UsageError as exc:
        sys.exit(exc.message)

    with tempfile.TemporaryDirectory(prefix="privpip-bench-") as tmp:
        base = Path(tmp)
        populate(base / "packages", args.wheels)
        server, root = start_server(base / "packages",
                                    write_htpasswd(base / "htpasswd", {"__token__": TOKEN}))
        try:
            project = base / "project"
            project.mkdir()
            (project / "privpip.toml").write_text(
                f'[[index]]\nname = "bench"\nurl = "{root}/simple/"\ndefault = true\n')
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PIP_", "UV_", "PRIVPIP_", "VIRTUAL_ENV", "XDG_"))}
            env.update(HOME=str(base / "home"), PYTHONPATH=str(ROOT),
                       PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1",
                       PIP_DISABLE_PIP_VERSION_CHECK="1", UV_NO_CACHE="1",
                       PRIVPIP_INDEX_BENCH_TOKEN=TOKEN)
            # The exported token reaches the project's URL once the file is trusted (in the
            # benchmark's own HOME, not the user's).
            subprocess.run([sys.executable, "-m", "privpip", "trust"], cwd=project, env=env,
                           check=True, stdout=subprocess.DEVNULL)
            template = base / "template"
            subprocess.run([args.python, "-m", "venv", str(template)], check=True)
            pip_version = subprocess.run(  # the pip inside the fresh environments
                [str(template / "bin" / "python"), "-m", "pip", "--version"],
                capture_output=True, text=True, env=env).stdout.split()[1]
            times: dict[str, list[float]] = {"pip": [], "uv": []}
            for round_ in range(args.rounds):
                order = ["pip", "uv"] if round_ % 2 == 0 else ["uv", "pip"]
                for installer in order:
                    venv = base / f"venv-{installer}-{round_}"
                    shutil.copytree(template, venv, symlinks=True)
                    argv = [sys.executable, "-m", "privpip", "install", "--installer", installer,
                            "--python", str(venv / "bin" / "python"), "-q", "bench-all", "corp-app"]
                    start = time.perf_counter()
                    result = subprocess.run(argv, cwd=project, env=env, capture_output=True,
                                            text=True)
                    elapsed = time.perf_counter() - start
                    if result.returncode != 0:
                        sys.exit(f"{installer} failed:\n{result.stderr}")
                    times[installer].append(elapsed)
                    shutil.rmtree(venv)
        finally:
            server.terminate()
            server.wait(10)

    pip_median = statistics.median(times["pip"])
    uv_median = statistics.median(times["uv"])
    version = " ".join(
        subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()[:2])
    print(f"{args.wheels + 3} packages (incl. one sdist with a private build backend), "
          f"cold caches, {args.rounds} rounds, {os.cpu_count()} CPUs, target {args.python}")
    print(f"{'installer':<20} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, label in (("pip", f"pip {pip_version}"), ("uv", version)):
        row = times[name]
        print(f"{label:<20} {statistics.median(row):>9.2f} {min(row):>7.2f} {max(row):>7.2f}")
    print(f"ratio pip/uv (medians): {pip_median / uv_median:.1f}x")


if __name__ == "__main__":
    main()
