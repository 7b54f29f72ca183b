"""A real git smart-HTTP server on 127.0.0.1: `git http-backend` (CGI) behind http.server.

Every request needs HTTP basic auth with the one configured user and token; anything else
gets 401 with WWW-Authenticate, as GitLab/GitHub answer. Every request line and the user it
authenticated as are recorded, so tests can check what git sent (and that no URL held a token).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


def _http_backend() -> str:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=True).stdout.strip()
    return str(Path(exec_path) / "git-http-backend")


@dataclass
class GitServer:
    root: Path
    username: str
    token: str
    port: int = 0
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, user)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, repo: str) -> str:
        return f"http://{self.host}/{repo}"

    def start(self) -> GitServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler_for(state: GitServer) -> type[BaseHTTPRequestHandler]:
    backend = _http_backend()
    expected = "Basic " + base64.b64encode(f"{state.username}:{state.token}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            auth = self.headers.get("Authorization", "")
            user = ""
            if auth.startswith("Basic "):
                try:
                    user = base64.b64decode(auth[6:]).decode().partition(":")[0]
                except ValueError:
                    user = "<garbled>"
            state.requests.append((self.command, self.path, user))
            if auth != expected:
                body = b"authentication required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body = self._read_body()
            parts = urlsplit(self.path)
            env = {
                "PATH": os.environ.get("PATH", ""),
                "GIT_PROJECT_ROOT": str(state.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": unquote(parts.path),
                "QUERY_STRING": parts.query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": user,
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_CONFIG_NOSYSTEM": "1",
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            result = subprocess.run([backend], input=body, env=env, capture_output=True)
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = result.stdout.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

    return Handler


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    full = dict(os.environ)
    full.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                 "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    full.update(env or {})
    return subprocess.run(["git", *args], cwd=cwd, env=full, capture_output=True, text=True,
                          check=True).stdout


def make_bare_repo(root: Path, name: str, files: dict[str, str]) -> Path:
    """A bare repository ``root/name`` with one commit holding ``files``."""
    work = root / (name + "-work")
    work.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=work)
    for path, text in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "initial", cwd=work)
    bare = root / name
    git("clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)
    return bare


# A PEP 517 backend inside the repository itself (backend-path), standard library only, with
# build_editable (PEP 660) so `pip install -e git+...` works without setuptools or PyPI.
IN_TREE_BACKEND = '''
"""A minimal in-tree backend: one module directory, plain and editable wheels."""
import base64, hashlib, os, zipfile

NAME, VERSION, MODULE = "corp-gitdep", "2.0", "corp_gitdep"
DIST = NAME.replace("-", "_")


def _wheel(directory, files):
    info = "%s-%s.dist-info" % (DIST, VERSION)
    files[info + "/METADATA"] = (
        "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, VERSION)).encode()
    files[info + "/WHEEL"] = (b"Wheel-Version: 1.0\\nGenerator: gitdep\\n"
                              b"Root-Is-Purelib: true\\nTag: py3-none-any\\n")
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = ("\\n".join(record) + "\\n").encode()
    name = "%s-%s-py3-none-any.whl" % (DIST, VERSION)
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    path = os.path.join(MODULE, "__init__.py")
    with open(path, "rb") as handle:
        return _wheel(wheel_directory, {MODULE + "/__init__.py": handle.read()})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = (os.path.abspath(".") + "\\n").encode()
    return _wheel(wheel_directory, {"_corp_gitdep_editable.pth": pth})


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError
'''


def gitdep_files() -> dict[str, str]:
    return {
        "pyproject.toml": (
            "[build-system]\n"
            "requires = []\n"
            'build-backend = "gitdep_backend"\n'
            'backend-path = ["."]\n'
        ),
        "gitdep_backend.py": IN_TREE_BACKEND,
        "corp_gitdep/__init__.py": "VALUE = 'corp-gitdep 2.0'\n",
    }
