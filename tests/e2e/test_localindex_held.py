"""Small files held for the run: a HEAD is answered with one upstream GET, and the range and
the whole file that uv asks for next come from that body (privpip/localindex/held.py).

A loopback upstream that logs every request (method, path, Range), serves single byte ranges
and answers If-None-Match with 304, as registries do.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import threading
from collections.abc import Iterator

import pytest

from privpip.localindex import LocalIndex, Upstream
from privpip.localindex.held import PER_FILE, Held, Holder, byte_range

SMALL = os.urandom(5000)
BIG = os.urandom(PER_FILE + 1)
FILES = {"/dl/small-1.0-py3-none-any.whl": SMALL, "/dl/big-1.0-py3-none-any.whl": BIG}
PAGE = b"<html><body>" + b"".join(
    b'<a href="%s">%s</a>' % (path.encode(), path.rpartition("/")[2].encode()) for path in FILES
) + b"</body></html>"
ETAG = '"v1"'


class Registry(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str | None]]

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Range")))
        if self.path == "/simple/sized/":  # PEP 691 JSON with PEP 700 sizes
            page = json.dumps({"meta": {"api-version": "1.1"}, "name": "sized", "files": [
                {"filename": path.rpartition("/")[2], "url": path, "hashes": {},
                 "size": len(body)} for path, body in FILES.items()]}).encode()
            self._send(200, page, head, {"Content-Type": "application/vnd.pypi.simple.v1+json"})
            return
        if self.path.startswith("/simple/"):
            self._send(200, PAGE, head, {"Content-Type": "text/html"})
            return
        body = FILES[self.path]
        extra = {"ETag": ETAG, "Cache-Control": "max-age=600", "Accept-Ranges": "bytes",
                 "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
        if self.headers.get("If-None-Match") == ETAG:
            self._send(304, b"", True, extra)
            return
        wanted = self.headers.get("Range")
        if wanted and "," not in wanted:
            start, _, end = wanted.removeprefix("bytes=").partition("-")
            first = len(body) - int(end) if start == "" else int(start)
            last = len(body) - 1 if start == "" or end == "" else int(end)
            extra["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
            self._send(206, body[first:last + 1], head, extra)
            return
        self._send(200, body, head, extra)

    def _send(self, status: int, body: bytes, head: bool, extra: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


@pytest.fixture
def registry() -> Iterator[tuple[Upstream, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             type("R", (Registry,), {"seen": seen}))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Upstream("corp", f"http://127.0.0.1:{server.server_address[1]}/simple/"), seen
    server.shutdown()
    server.server_close()


class Client:
    def __init__(self, index: LocalIndex, project: str = "demo") -> None:
        raw = f"{index.username}:{index.password.reveal()}".encode()
        self.auth = "Basic " + base64.b64encode(raw).decode()
        self.conn = http.client.HTTPConnection("127.0.0.1", index.port, timeout=30)
        self.conn.request("GET", f"/simple/{project}/", headers={"Authorization": self.auth,
                                                                 "Accept": "text/html"})
        page = self.conn.getresponse().read().decode()
        self.paths = {name: page.split('href="')[i + 1].split("#")[0].split('"')[0]
                      for i, name in enumerate(("small", "big"))}

    def ask(self, method: str, which: str, **headers: str
            ) -> tuple[int, http.client.HTTPResponse, bytes]:
        self.conn.request(method, self.paths[which],
                          headers={"Authorization": self.auth, **headers})
        response = self.conn.getresponse()
        return response.status, response, response.read()


def _file_requests(seen: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    return [s for s in seen if s[1].startswith("/dl/")]


def test_a_head_fetches_a_small_file_once_and_the_range_and_body_come_from_it(registry):
    up, seen = registry
    with LocalIndex([up]) as index:
        client = Client(index)
        status, response, body = client.ask("HEAD", "small")
        assert (status, body) == (200, b"")
        assert response.getheader("Content-Length") == str(len(SMALL))
        assert response.getheader("Accept-Ranges") == "bytes"
        assert response.getheader("ETag") == ETAG  # the upstream's caching headers, kept
        assert response.getheader("Cache-Control") == "max-age=600"
        assert _file_requests(seen) == [("GET", "/dl/small-1.0-py3-none-any.whl", None)]
        # uv's range read of the wheel's end, then of a piece inside it
        status, response, body = client.ask("GET", "small", Range="bytes=-100")
        assert (status, body) == (206, SMALL[-100:])
        assert response.getheader("Content-Range") == f"bytes 4900-4999/{len(SMALL)}"
        status, response, body = client.ask("GET", "small", Range="bytes=10-19")
        assert (status, body, response.getheader("Content-Length")) == (206, SMALL[10:20], "10")
        # the whole file, to install it
        status, response, body = client.ask("GET", "small")
        assert (status, body, response.getheader("ETag")) == (200, SMALL, ETAG)
        assert len(_file_requests(seen)) == 1
        # served whole, the body is let go: the next ask goes upstream again
        status, _, body = client.ask("GET", "small")
        assert (status, body) == (200, SMALL)
        assert len(_file_requests(seen)) == 2


def test_conditions_and_ranges_it_does_not_answer_go_upstream(registry):
    up, seen = registry
    with LocalIndex([up]) as index:
        client = Client(index)
        assert client.ask("HEAD", "small")[0] == 200
        status, _, body = client.ask("GET", "small", **{"If-None-Match": ETAG})
        assert (status, body) == (304, b"")  # the upstream's own 304
        status, _, body = client.ask("GET", "small", Range="bytes=0-1,5-6")
        assert status == 200 and body == SMALL  # this upstream ignores multiple ranges
        assert [s[0] for s in _file_requests(seen)] == ["GET", "GET", "GET"]
        assert _file_requests(seen)[2][2] == "bytes=0-1,5-6"


def test_a_file_larger_than_the_limit_is_passed_through(registry):
    up, seen = registry
    with LocalIndex([up]) as index:
        client = Client(index)
        status, response, body = client.ask("HEAD", "big")
        assert (status, body) == (200, b"")
        assert response.getheader("Content-Length") == str(len(BIG))
        status, _, body = client.ask("GET", "big", Range="bytes=-10")
        assert (status, body) == (206, BIG[-10:])
        status, _, body = client.ask("GET", "big")
        assert (status, body) == (200, BIG)
        assert [(s[0], s[2]) for s in _file_requests(seen)] == [
            ("GET", None), ("GET", "bytes=-10"), ("GET", None)]


def test_a_file_the_page_says_is_large_gets_a_head(registry):
    up, seen = registry
    with LocalIndex([up]) as index:
        client = Client(index, "sized")
        assert client.ask("HEAD", "small")[0] == 200
        status, response, _ = client.ask("HEAD", "big")
        assert (status, response.getheader("Content-Length")) == (200, str(len(BIG)))
        assert [s[0] for s in _file_requests(seen)] == ["GET", "HEAD"]


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-9", 100, (0, 10)),
    ("bytes=90-", 100, (90, 100)),
    ("bytes=-10", 100, (90, 100)),
    ("bytes=-500", 100, (0, 100)),
    ("bytes=95-200", 100, (95, 100)),
    ("BYTES = 1 - 2", 100, (1, 3)),
    ("bytes=100-", 100, None),
    ("bytes=5-3", 100, None),
    ("bytes=-0", 100, None),
    ("bytes=-", 100, None),
    ("bytes=0-1,5-6", 100, None),
    ("items=0-1", 100, None),
    ("bytes=\u00b2-3", 100, None),
    ("bytes=0-9", 0, None),
])
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


def test_the_holder_lets_the_oldest_go_beyond_its_budget():
    holder = Holder(per_file=10, budget=25)
    for n in range(4):
        holder.put(str(n), Held((), b"x" * 10))
    assert [holder.get(str(n)) is not None for n in range(4)] == [False, False, True, True]
    holder.drop("2")  # served whole: its room is free again
    holder.put("4", Held((), b"y" * 10))
    assert [holder.get(str(n)) is not None for n in range(5)] == [False, False, False, True, True]
    holder.put("3", Held((), b"z" * 5))  # put again: replaced, not counted twice
    holder.put("5", Held((), b"w" * 10))
    assert [holder.get(str(n)) is not None for n in range(6)] == [
        False, False, False, True, True, True]
