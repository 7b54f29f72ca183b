"""Does this index accept this credential? One authenticated GET of its simple page, classified.

Shared by `privpip login` (verify before storing) and `privpip status --check`; the GET itself
(credential only in a header, kept on its origin) is privpip.http's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from privpip.config import Index
from privpip.credentials import Credential
from privpip.http import open_url
from privpip.secret import redact

DEFAULT_TIMEOUT = 10.0

Outcome = Literal["ok", "rejected", "unreachable"]
OK: Outcome = "ok"
REJECTED: Outcome = "rejected"
UNREACHABLE: Outcome = "unreachable"


@dataclass(frozen=True)
class CheckResult:
    """What one request found. ``detail`` is one redacted line for humans."""

    index: str
    url: str
    outcome: Outcome
    status: int | None  # the HTTP status, None when no response arrived
    seconds: float
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def describe(self) -> str:
        """e.g. 'rejected (HTTP 401, 0.02 s): the index refused the credential'."""
        status = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{self.outcome} ({status}{self.seconds:.2f} s): {self.detail}"


def check(index: Index, credential: Credential | None,
          timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """GET ``index.url`` with ``credential`` (None: anonymously) and classify the answer.

    200 -> ok; 401/403 -> rejected; anything else (no answer, TLS failure, 404, 5xx) ->
    unreachable, with the status or the reason in ``detail``.
    """
    import http.client
    import urllib.error

    start = time.monotonic()

    def result(outcome: Outcome, status: int | None, detail: str) -> CheckResult:
        return CheckResult(index.name, index.url, outcome, status,
                           time.monotonic() - start, redact(detail))

    try:
        with open_url(index.url, credential, timeout) as response:
            status = response.status
            response.read(1024)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (401, 403):
            why = ("the index refused the credential" if credential is not None
                   else "the index wants a credential and none was sent")
            return result(REJECTED, exc.code, f"{why} ({exc.code} {exc.reason})")
        if exc.code == 404:
            return result(UNREACHABLE, 404, "not found (404): no simple index at this URL; "
                          "check the URL (it usually ends in /simple/)")
        return result(UNREACHABLE, exc.code, f"the index answered {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return result(UNREACHABLE, None, _reason(exc.reason, timeout))
    except TimeoutError:
        return result(UNREACHABLE, None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return result(UNREACHABLE, None, _reason(exc, timeout))
    if 200 <= status < 300:
        return result(OK, status, "the index accepted the credential"
                      if credential is not None else "the index answered without a credential")
    return result(UNREACHABLE, status, f"unexpected HTTP status {status}")


def check_all(pairs: Sequence[tuple[Index, Credential | None]],
              timeout: float = DEFAULT_TIMEOUT) -> list[CheckResult]:
    """``check`` every (index, credential) concurrently; results in the order given."""
    if not pairs:
        return []
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(16, len(pairs))) as pool:
        return list(pool.map(lambda pair: check(pair[0], pair[1], timeout), pairs))


def _reason(reason: object, timeout: float) -> str:
    import socket as socket_mod
    import ssl as ssl_mod

    if isinstance(reason, ssl_mod.SSLCertVerificationError):
        return f"TLS certificate not trusted: {reason.verify_message or reason}"
    if isinstance(reason, ssl_mod.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket_mod.gaierror):
        return f"host name not found ({reason.strerror})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the host and port right, and the server up?)"
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot connect: {reason.strerror}"
    return f"cannot connect: {reason}"
