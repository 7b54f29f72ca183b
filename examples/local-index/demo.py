"""A complete, local demonstration of privpip against a password-protected index.

It starts pypiserver with basic authentication on 127.0.0.1, publishes a small
package that exists only there, and installs it with `privpip install` into a fresh
virtual environment. The token reaches pip through privpip only: it is in no file of
the project, in no URL, and in no command line.

Run it from the repository root (the README's first command does this):

    python3 -m venv .demo && .demo/bin/python -m pip install . 'pypiserver[passlib]' \
        && .demo/bin/python examples/local-index/demo.py
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def write_wheel(directory: Path) -> None:
    """hello-private 1.0: the package only the private index has."""
    info = "hello_private-1.0.dist-info"
    files = {
        "hello_private/__init__.py": 'def greet():\n    return "hello from a private index"\n',
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: hello-private\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: demo\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
        f"{info}/RECORD": "",
    }
    with zipfile.ZipFile(directory / "hello_private-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    from passlib.apache import HtpasswdFile

    work = Path(tempfile.mkdtemp(prefix="privpip-demo-"))
    server = None
    try:
        packages = work / "packages"
        packages.mkdir()
        write_wheel(packages)
        token = "demo-" + secrets.token_urlsafe(16)
        htpasswd = HtpasswdFile(str(work / "htpasswd"), new=True)
        htpasswd.set_password("__token__", token)
        htpasswd.save()

        port = free_port()
        print(f"1. starting a private index on http://127.0.0.1:{port}/simple/ "
              "(basic auth required)")
        server = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port),
             "-P", str(work / "htpasswd"), "-a", "download,list,update", str(packages)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/", timeout=1)
            except urllib.error.HTTPError:
                break  # 401: it is up and wants credentials
            except OSError:
                time.sleep(0.1)

        project = work / "project"
        project.mkdir()
        config = (HERE / "privpip.toml").read_text().replace("8765", str(port))
        (project / "privpip.toml").write_text(config)
        print("2. the project's committed privpip.toml (no secret in it):\n")
        print("   " + config.strip().replace("\n", "\n   ") + "\n")

        print("3. creating a fresh virtual environment to install into")
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)

        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull  # ignore this machine's pip configuration
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        # How CI passes a token; on a laptop `privpip login demo` stores it in the keyring.
        env["PRIVPIP_INDEX_DEMO_TOKEN"] = token
        env["VIRTUAL_ENV"] = str(venv)
        # privpip's trust record (and pip's cache) go to this demo's directory, not yours.
        env["HOME"] = str(work / "home")
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            env.pop(var, None)
        print("4. $ privpip trust   (an exported token goes to a URL that a project file names "
              "only once you trusted the file)\n")
        trusted = subprocess.run([str(BIN / "privpip"), "trust"], cwd=project, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print("   " + trusted.stdout.strip().replace("\n", "\n   ") + "\n")
        if trusted.returncode != 0:
            print(f"privpip trust failed with exit status {trusted.returncode}")
            return trusted.returncode
        print("5. $ privpip -v install hello-private   (token from PRIVPIP_INDEX_DEMO_TOKEN)\n")
        # One stream, in the order written: privpip's -v lines (stderr) come before pip's
        # output (stdout), as on a terminal.
        result = subprocess.run([str(BIN / "privpip"), "-v", "install", "hello-private"],
                                cwd=project, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        output = result.stdout
        print("   " + output.strip().replace("\n", "\n   ") + "\n")
        if result.returncode != 0:
            print(f"privpip install failed with exit status {result.returncode}")
            return result.returncode
        greeting = subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import hello_private; print(hello_private.greet())"],
            capture_output=True, text=True, check=True).stdout.strip()
        print(f"6. the installed package says: {greeting!r}")
        print(f"   the token appeared in privpip's output: {token in output}")
        return 0 if token not in output else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
