"""Several pypiserver apps on ONE host and port, each under its own path with its own htpasswd.

Two indexes on the same host with different users and tokens is the case pip cannot do alone
(it looks credentials up per host). Threaded with a deep listen queue: pypiserver's default
server (wsgiref, one request at a time, backlog 5) drops the connections of a client that
opens many at once (uv does), which then waits for TCP's SYN retransmission (1 s, 3 s, ...).
The benchmarks use it too, with one index.

    python multi_pypiserver.py [OPTIONS] PORT PREFIX=PACKAGES:HTPASSWD [PREFIX=...]

Options:

    --401                 a username with an empty password gets 401, as GitLab, Artifactory
                          and Nexus answer, instead of pypiserver's 403. pip sends `USER:` for
                          an index URL `http://USER@host/...` and asks its keyring provider
                          only after a 401.
    --latency-ms=N        wait N ms before answering each request (as a remote registry does)
    --cache-control=SECS  file downloads carry "Cache-Control: public, max-age=SECS" (pypiserver
                          sends Last-Modified and answers If-Modified-Since with 304 anyway)
    --log=PATH            append "METHOD PATH STATUS" for every request (downloads counted)

An empty HTPASSWD (``PREFIX=PACKAGES:``) serves that index without authentication, like
PyPI or the PyTorch index.
"""

from __future__ import annotations

import sys
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import shift_path_info

import pypiserver


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _empty_password(header: str) -> bool:
    import base64
    import binascii

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        return base64.b64decode(value).decode("utf-8", "replace").partition(":")[2] == ""
    except (binascii.Error, ValueError):
        return False


def main() -> None:
    options = {k: v for k, _, v in (a[2:].partition("=") for a in sys.argv[1:]
                                    if a.startswith("--"))}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    empty_password_401 = "401" in options
    latency = float(options.get("latency-ms", 0)) / 1000
    cache_control = int(options["cache-control"]) if "cache-control" in options else None
    log_path = options.get("log")
    log_lock = threading.Lock()
    port = int(args[0])
    apps = {}
    for spec in args[1:]:
        prefix, _, rest = spec.partition("=")
        packages, _, htpasswd = rest.partition(":")
        apps[prefix] = pypiserver.app(
            roots=[packages], password_file=htpasswd or ".",
            authenticate=["download", "list", "update"] if htpasswd else [],
            disable_fallback=True, cache_control=cache_control)

    def dispatch(environ, start_response):
        if latency:
            time.sleep(latency)
        line = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        app = apps.get(shift_path_info(environ) or "")
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such index\n"]
        if empty_password_401 and _empty_password(environ.get("HTTP_AUTHORIZATION", "")):
            del environ["HTTP_AUTHORIZATION"]  # pypiserver then asks for credentials: 401
        if log_path is None:
            return app(environ, start_response)

        def logged(status, headers, exc_info=None):
            with log_lock, open(log_path, "a", encoding="utf-8") as handle:
                handle.write(f"{line} {status.split()[0]}\n")
            return start_response(status, headers, exc_info)

        return app(environ, logged)

    make_server("127.0.0.1", port, dispatch, server_class=Server,
                handler_class=QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
