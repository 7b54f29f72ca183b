"""pypiserver's WSGI app behind a threaded wsgiref server with a deep listen queue.

pypiserver's default server (wsgiref, one request at a time, listen backlog 5) drops the
connections of a client that opens many at once (uv does), and the client then waits for
TCP's SYN retransmission (1 s, 3 s, ...): that would measure the server, not the installer.

    python threaded_pypiserver.py PORT PACKAGES HTPASSWD
"""

from __future__ import annotations

import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pypiserver


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    port, packages, htpasswd = sys.argv[1:4]
    app = pypiserver.app(roots=[packages], password_file=htpasswd,
                         authenticate=["download", "list", "update"], disable_fallback=True)
    make_server("127.0.0.1", int(port), app, server_class=Server,
                handler_class=QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
