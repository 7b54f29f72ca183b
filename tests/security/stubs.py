"""Tiny loopback index servers for failure paths pypiserver cannot produce on demand.

``StubIndex("status", code=500)`` answers every request with ``code`` (401 with a Basic
challenge); ``StubIndex("trickle")`` serves one project whose wheel arrives a byte at a time,
and sets ``started`` once the download is under way. Both record the Authorization headers
they receive, so a test can prove the canary really reached the server. A POST (an upload)
is read and answered like a GET.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import packaging_fixtures


class StubIndex:
    def __init__(self, mode: str, code: int = 200) -> None:
        self.mode = mode
        self.code = code
        self.auth_seen: list[str] = []
        self.started = threading.Event()
        self.stopping = threading.Event()
        if mode == "trickle":
            with tempfile.TemporaryDirectory() as tmp:
                path = packaging_fixtures.write_wheel(
                    Path(tmp), "corp-slow", "1.0",
                    {"corp_slow/__init__.py": "VALUE = 'slow'\n" + "#" * 4000 + "\n"})
                self.wheel_name = path.name
                self.wheel = path.read_bytes()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                auth = self.headers.get("Authorization")
                if auth:
                    stub.auth_seen.append(auth)
                if stub.mode == "status":
                    return self.reply(stub.code, b"stub says %d\n" % stub.code)
                if not auth:
                    return self.reply(401, b"authenticate\n")
                if self.path.rstrip("/").endswith("/simple/corp-slow"):
                    digest = hashlib.sha256(stub.wheel).hexdigest()
                    link = f"/files/{stub.wheel_name}#sha256={digest}"
                    body = f'<html><body><a href="{link}">{stub.wheel_name}</a></body></html>'
                    return self.reply(200, body.encode(), "text/html")
                if self.path.startswith("/files/"):
                    return self.trickle()
                return self.reply(404, b"not here\n")

            def do_POST(self) -> None:  # noqa: N802 - an upload: read it, then answer alike
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def reply(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(code)
                if code == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="stub"')
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def trickle(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(stub.wheel)))
                self.end_headers()
                try:
                    for n in range(len(stub.wheel)):
                        if stub.stopping.is_set():
                            return
                        self.wfile.write(stub.wheel[n : n + 1])
                        self.wfile.flush()
                        if n == 16:
                            stub.started.set()
                        time.sleep(0.05)
                except OSError:
                    return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a TLS ClientHello sent to this plain-HTTP server, a dropped client

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
