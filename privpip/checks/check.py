"""Does this index accept this credential? One authenticated GET of its simple page, classified.

Shared by `privpip login` (verify before storing) and `privpip status --check`; the GET itself
(credential only in a header, kept on its origin) is privpip.credentials.http's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from privpip.config import Index
from privpip.core.secret import redact
from privpip.credentials import Credential
from privpip.credentials.http import open_url

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
    expires: date | None = None  # when the registry says the token expires (UTC), if it does

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
            expires = expiry_header(response.headers.get(GITHUB_EXPIRY_HEADER))
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
        ok = result(OK, status, "the index accepted the credential"
                    if credential is not None else "the index answered without a credential")
        return replace(ok, expires=expires)
    return result(UNREACHABLE, status, f"unexpected HTTP status {status}")


# GitHub's answer to a request with a token that expires (its packages registries send it too).
GITHUB_EXPIRY_HEADER = "github-authentication-token-expiration"
EXPIRY_WARNING = timedelta(days=7)


def expiry_header(value: str | None) -> date | None:
    """The UTC date in GitHub's token-expiration header ("2026-12-08 10:00:00 UTC", or with a
    numeric offset), None without one or when it cannot be read."""
    value = (value or "").strip()
    for form in ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z"):
        try:
            when = datetime.strptime(value, form)
        except ValueError:
            continue
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc)
        return when.date()
    return None


def gitlab_expiry(index: Index, credential: Credential, timeout: float) -> date | None:
    """For a GitLab package registry URL: `expires_at` of the token from GitLab's
    personal_access_tokens/self (personal, project and group access tokens; a deploy or job
    token gets a refusal there, which means "not known"). None when unknown or never."""
    import json

    from privpip.config import providers

    if providers.gitlab_kind(index.url) is None or "/api/v4/" not in index.url:
        return None
    api = index.url[:index.url.index("/api/v4/") + len("/api/v4/")]
    try:
        with open_url(api + "personal_access_tokens/self", credential, timeout,
                      accept="application/json", private_token=True) as response:
            data = json.loads(response.read(64 * 1024))
        return date.fromisoformat(str(data["expires_at"])[:10]) if data.get("expires_at") \
            else None
    except Exception:  # noqa: BLE001 - an answer privpip cannot read only means "not known"
        return None


def expiry_note(result: CheckResult, today: date | None = None) -> str | None:
    """A warning when the token expires within EXPIRY_WARNING (or has), else None."""
    if result.expires is None:
        return None
    today = today or datetime.now(timezone.utc).date()
    left = (result.expires - today).days
    if left > EXPIRY_WARNING.days:
        return None
    days = f"{abs(left)} day{'' if abs(left) == 1 else 's'}"
    when = "today" if left == 0 else f"in {days}" if left > 0 else f"{days} ago"
    return f"the token expires on {result.expires.isoformat()} ({when}, as the index says)"


def check_all(pairs: Sequence[tuple[Index, Credential | None]],
              timeout: float = DEFAULT_TIMEOUT, expiry: bool = False) -> list[CheckResult]:
    """``check`` every (index, credential) concurrently; results in the order given. With
    ``expiry``, an accepted token's expiry is also asked where the registry can tell it
    (GitLab's API; GitHub's header comes with the check itself)."""
    if not pairs:
        return []
    from concurrent.futures import ThreadPoolExecutor

    def one(pair: tuple[Index, Credential | None]) -> CheckResult:
        index, credential = pair
        result = check(index, credential, timeout)
        if expiry and result.ok and credential is not None and result.expires is None:
            result = replace(result, expires=gitlab_expiry(index, credential, timeout))
        return result

    with ThreadPoolExecutor(max_workers=min(16, len(pairs))) as pool:
        return list(pool.map(one, pairs))


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
