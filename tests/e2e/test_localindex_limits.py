"""The local index's hardening against loopback upstreams: TLS with a company CA, deadlines,
the page size cap, methods and odd request targets, and what its request log shows."""

from __future__ import annotations

import base64
import datetime
import gzip
import http.client
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from privpip.core.secret import Secret
from privpip.errors import PrivpipError
from privpip.localindex import LocalIndex, Upstream, ssl_context
from privpip.localindex import tls as tls_module

PAGE = b'<html><body><a href="/dl/demo-1.0.tar.gz#sha256=00">demo-1.0.tar.gz</a></body></html>'


class Upstream_(http.server.BaseHTTPRequestHandler):
    """A loopback upstream; the class attributes choose how it misbehaves."""

    protocol_version = "HTTP/1.1"
    seen: list[str]
    mode = "ok"  # ok | trickle-page | trickle-file | big | bomb
    size = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.path.startswith("/dl/"):
            body = b"x" * 4000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.mode == "trickle-file":
                return self._trickle(body)
            self.wfile.write(body)
            return
        body = PAGE
        extra = {}
        if self.mode == "big":
            body = PAGE + b"<!--" + b"x" * self.size + b"-->"
        elif self.mode == "bomb":
            body = gzip.compress(PAGE + b" " * self.size)
            extra["Content-Encoding"] = "gzip"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if self.mode == "trickle-page":
            return self._trickle(body)
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "4000")
        self.end_headers()

    def _trickle(self, body: bytes) -> None:
        try:
            for n in range(len(body)):
                self.wfile.write(body[n:n + 1])
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass


def serve(mode: str = "ok", size: int = 0, context: ssl.SSLContext | None = None
          ) -> tuple[http.server.ThreadingHTTPServer, list[str]]:
    seen: list[str] = []
    handler = type("H", (Upstream_,), {"seen": seen, "mode": mode, "size": size})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, list[str]]]:
    server, seen = serve()
    yield Upstream("corp", f"http://127.0.0.1:{server.server_address[1]}/simple/"), seen
    server.shutdown()


def auth(index: LocalIndex) -> dict[str, str]:
    raw = f"{index.username}:{index.password.reveal()}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def ask(index: LocalIndex, method: str, target: str, headers: dict[str, str] | None = None,
        body: bytes | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    """One raw request: the target goes on the wire exactly as given (no client clean-up)."""
    conn = http.client.HTTPConnection("127.0.0.1", index.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{index.port}")
        for key, value in (headers if headers is not None else auth(index)).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read(), response
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# TLS


def _make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA (ca.pem) and a server certificate for 127.0.0.1 (server.pem, key.pem)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        return _make_ca_openssl(directory)
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("privpip test CA"))
          .issuer_name(name("privpip test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          # Python 3.13's default context (and pip's) verifies strictly: key identifiers
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(cert.public_bytes(pem))
    (directory / "key.pem").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "ca.pem", directory / "server.pem", directory / "key.pem"


def _make_ca_openssl(directory: Path) -> tuple[Path, Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("neither cryptography nor openssl is available")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=privpip test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (directory / "ext").write_text("subjectAltName=IP:127.0.0.1\n"
                                   "authorityKeyIdentifier=keyid\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext")
    return directory / "ca.pem", directory / "server.pem", directory / "key.pem"


@pytest.fixture(scope="module")
def https_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Upstream, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    ca, cert, key = _make_ca(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server, _ = serve(context=context)
    yield Upstream("corp", f"https://127.0.0.1:{server.server_address[1]}/simple/",
                   username="u", token=Secret("tls-" + "Token_42")), ca
    server.shutdown()


def test_https_upstream_without_the_company_ca_is_a_named_certificate_problem(https_upstream):
    upstream, _ = https_upstream
    log: list[str] = []
    with LocalIndex([upstream], timeout=10, log=log.append,
                    ssl_context=ssl_context({"PIP_CONFIG_FILE": os.devnull})) as index:
        status, body, _ = ask(index, "GET", "/simple/demo/")
        problems = index.problems()
    assert status == 502
    (problem,) = problems
    assert problem.index == "corp"
    assert problem.what.startswith("has a TLS certificate privpip cannot verify (")
    assert "certificate" in problem.describe()
    assert "REQUESTS_CA_BUNDLE" in problem.hint and "PIP_CERT" in problem.hint


@pytest.mark.parametrize("how", ["cafile", "PIP_CERT", "pip.conf", "REQUESTS_CA_BUNDLE",
                                 "SSL_CERT_FILE"])
def test_https_upstream_with_the_company_ca_works(https_upstream, tmp_path, how):
    upstream, ca = https_upstream
    if how == "cafile":
        kwargs: dict[str, object] = {"cafile": str(ca)}
    elif how == "pip.conf":
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\ncert = {ca}\n")
        kwargs = {"ssl_context": ssl_context({"PIP_CONFIG_FILE": str(conf),
                                              "HOME": str(tmp_path)})}
    else:
        kwargs = {"ssl_context": ssl_context({how: str(ca), "HOME": str(tmp_path),
                                              "PIP_CONFIG_FILE": os.devnull})}
    with LocalIndex([upstream], timeout=10, **kwargs) as index:  # type: ignore[arg-type]
        status, body, _ = ask(index, "GET", "/simple/demo/")
        assert index.problems() == []
    assert status == 200 and b"demo-1.0.tar.gz" in body


def test_ca_bundle_follows_pips_order(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\ncert = /from/pip.conf\n[install]\nclient-cert = /c.pem\n")
    env = {"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(conf),
           "REQUESTS_CA_BUNDLE": "/from/requests", "SSL_CERT_FILE": "/from/openssl"}
    assert tls_module.ca_source(env)[1] == "/from/pip.conf"  # type: ignore[index]
    assert tls_module.ca_source({**env, "PIP_CERT": "/from/env"}) == ("pip's cert (PIP_CERT)",
                                                                      "/from/env")
    assert tls_module.client_cert_source(env)[1] == "/c.pem"  # type: ignore[index]
    env["PIP_CONFIG_FILE"] = os.devnull  # pip reads no file at all, /etc/pip.conf included
    assert tls_module.ca_source(env) == ("REQUESTS_CA_BUNDLE", "/from/requests")
    del env["REQUESTS_CA_BUNDLE"]
    assert tls_module.ca_source(env) == ("SSL_CERT_FILE", "/from/openssl")
    assert tls_module.ca_source({"PIP_CONFIG_FILE": os.devnull}) is None


def test_missing_ca_bundle_is_a_clear_error(tmp_path):
    with pytest.raises(PrivpipError) as caught:
        ssl_context({"HOME": str(tmp_path), "PIP_CERT": str(tmp_path / "nope.pem")})
    assert "pip's cert (PIP_CERT) names a CA bundle that does not exist" in caught.value.message
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    with pytest.raises(PrivpipError, match="cannot be read"):
        ssl_context({"PIP_CONFIG_FILE": os.devnull,
                     "REQUESTS_CA_BUNDLE": str(tmp_path / "bad.pem")})
    with pytest.raises(PrivpipError, match="client certificate that cannot be used"):
        ssl_context({"HOME": str(tmp_path), "PIP_CLIENT_CERT": str(tmp_path / "bad.pem")})


# ---------------------------------------------------------------------------
# limits


def test_a_trickling_page_hits_the_total_deadline():
    server, _ = serve("trickle-page")
    try:
        up = Upstream("slow", f"http://127.0.0.1:{server.server_address[1]}/simple/")
        with LocalIndex([up], timeout=5, deadline=1.0) as index:
            started = time.monotonic()
            status, _, _ = ask(index, "GET", "/simple/demo/")
            took = time.monotonic() - started
            (problem,) = index.problems()
    finally:
        server.shutdown()
    assert status == 502 and took < 4
    assert problem.what == "did not answer within 1 s (the total limit per request)"
    assert problem.hint == "check the URL and the network, or raise the deadline"


def test_a_trickling_file_hits_the_download_deadline():
    server, _ = serve("trickle-file")
    try:
        up = Upstream("slow", f"http://127.0.0.1:{server.server_address[1]}/simple/")
        with LocalIndex([up], timeout=5, file_deadline=1.0) as index:
            _, page, _ = ask(index, "GET", "/simple/demo/")
            path = page.decode().split('href="')[1].split("#")[0]
            started = time.monotonic()
            with pytest.raises(http.client.IncompleteRead):
                ask(index, "GET", path)
            assert time.monotonic() - started < 4
            time.sleep(0.2)  # the handler records the problem after the client saw the end
            (problem,) = index.problems()
    finally:
        server.shutdown()
    assert problem.what == ("did not send 'demo-1.0.tar.gz' within 1 s "
                            "(the total limit per download)")


@pytest.mark.parametrize("mode", ["big", "bomb"])
def test_page_size_is_capped(mode):
    server, _ = serve(mode, size=3 << 20)
    try:
        up = Upstream("huge", f"http://127.0.0.1:{server.server_address[1]}/simple/")
        with LocalIndex([up], max_page_bytes=1 << 20) as index:
            status, _, _ = ask(index, "GET", "/simple/demo/")
            (problem,) = index.problems()
        with LocalIndex([up], max_page_bytes=8 << 20) as index:
            assert ask(index, "GET", "/simple/demo/")[0] == 200
    finally:
        server.shutdown()
    assert status == 502
    assert problem.what == "sent a project page larger than 1 MiB"


def test_head_answers_without_a_body(upstream):
    up, _ = upstream
    with LocalIndex([up]) as index:
        status, body, response = ask(index, "HEAD", "/simple/demo/")
        assert status == 200 and body == b""
        assert int(response.getheader("Content-Length") or 0) > 0
        _, page, _ = ask(index, "GET", "/simple/demo/")
        path = page.decode().split('href="')[1].split("#")[0]
        status, body, response = ask(index, "HEAD", path)
        assert (status, body, response.getheader("Content-Length")) == (200, b"", "4000")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_get_405(upstream, method):
    up, seen = upstream
    with LocalIndex([up]) as index:
        status, _, response = ask(index, method, "/simple/demo/", body=b"x=1")
        assert status == 405 and response.getheader("Allow") == "GET, HEAD"
        assert ask(index, method, "/simple/demo/", headers={})[0] == 405
    assert seen == []


ODD_TARGETS = [
    "/simple/../simple/demo/", "/simple/%2e%2e/", "/simple/%2e%2e/%2e%2e/etc/passwd",
    "/simple/demo/../../files/corp/x/y", "/files/corp/../../etc/passwd",
    "/files/..%2f..%2fetc/passwd/x", "/simple/de%00mo/", "/simple/demo%2f..%2f/",
    "/simple/a%20b/", "/simple/-demo/", "/simple/%E2%80%AEdemo/", "//127.0.0.1/simple/demo/",
    "http://127.0.0.1/simple/demo/", "http://user:pw@127.0.0.1/simple/demo/", "*",
    "/simple\\demo/", "/simple/demo/extra/", "/files/corp/%2e%2e/demo-1.0.tar.gz",
    "/files/" + "a/" * 50, "/" + "x" * 5000, "/simple/" + "a-" * 150 + "/",
]


def test_odd_targets_never_reach_an_upstream(upstream):
    up, seen = upstream
    with LocalIndex([up]) as index:
        for target in ODD_TARGETS:
            status, _, _ = ask(index, "GET", target)
            assert status in (400, 404), (target, status)
    assert seen == []


def test_request_log_shows_no_query_or_userinfo(upstream):
    up, _ = upstream
    log: list[str] = []
    secret = "qs-" + "Secret_9876"
    with LocalIndex([up], log=log.append) as index:
        ask(index, "GET", f"/simple/demo/?token={secret}")
        ask(index, "GET", f"http://user:{secret}@127.0.0.1/simple/demo/")
        ask(index, "GET", f"/simple/demo/#{secret}")
        ask(index, "GET", f"/simple/demo/?x={secret}", headers={})
        ask(index, f"GET{secret}", "/simple/demo/")
        ask(index, "GET", f"/simple/demo/?{secret}", headers={}, body=None)
        with socket.create_connection(("127.0.0.1", index.port), timeout=10) as raw:
            raw.sendall(f"GET /simple/?{secret} HTTP/9.9\r\n\r\n".encode())
            raw.recv(4096)
    text = "\n".join(log)
    assert "GET /simple/demo/ -> 200" in text
    assert secret not in text and "user:" not in text
    assert os.linesep.join(log).count("\n") == len(log) - 1  # one line per event


def test_upstreams_are_connected_ahead_and_nothing_is_sent_before_a_request():
    """serve() opens one connection to each connect_ahead upstream before any request, so
    the TCP and TLS handshakes happen while pip starts; it carries no byte (no credential)
    until a request through the index uses it, and that request uses it, not a new one.
    Other upstreams are not contacted until a request needs them."""
    other = socket.create_server(("127.0.0.1", 0))
    other.settimeout(0.5)
    bystander = Upstream("public", f"http://127.0.0.1:{other.getsockname()[1]}/simple/")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]
    up = Upstream("corp", f"http://127.0.0.1:{port}/simple/", owns=("demo",),
                  token=Secret("tok-warm-123456"))
    with LocalIndex([up, bystander], timeout=5, connect_ahead=["corp"]) as index:
        conn, _ = listener.accept()  # the warm-up connection: no request has been made
        with conn:
            conn.settimeout(0.5)
            with pytest.raises(socket.timeout):
                conn.recv(1)
            answer: list[int] = []
            asking = threading.Thread(
                target=lambda: answer.append(ask(index, "GET", "/simple/demo/")[0]))
            asking.start()
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            assert request.startswith(b"GET /simple/demo/ HTTP/1.1\r\n")
            expected = base64.b64encode(b"__token__:tok-warm-123456")
            assert b"Authorization: Basic " + expected in request
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            asking.join(5)
        assert answer == [404]
        listener.settimeout(0.3)
        with pytest.raises(socket.timeout):
            listener.accept()  # no second connection was opened
        with pytest.raises(socket.timeout):
            other.accept()  # not in connect_ahead, and nothing asked of it
    listener.close()
    other.close()
