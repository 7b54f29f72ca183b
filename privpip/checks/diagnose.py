"""Turning a failure into a diagnosis: after a failed pip run with netrc delivery, ask each index
once and say which one refused its credential or did not answer; and check a token typed at the
prompt before pip starts. (The per-run local index reports its upstreams' answers itself.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from privpip import credentials
from privpip.context import Context
from privpip.core import identity
from privpip.core.secret import redact
from privpip.errors import PrivpipError
from privpip.run.delivery import Access

PROBE_TIMEOUT = 5.0


def fix_for(access: Access, env: Mapping[str, str] | None = None) -> str:
    """The fix for ``access``'s credential that its index refused, for where it came from.

    A variable is the first source, so it hides a token stored for the index: when one is
    stored (and differs), the fix is to unset the variable, not to store yet another token.
    In CI the variable is the job's setting; a command's own messages were shown as it ran.
    """
    index = access.index
    cred = access.credential
    source = cred.source if cred else ""
    var = credentials.token_var(index)
    login = f"`privpip login {index.name}`"
    env = {} if env is None else env
    if source.startswith("env:CI_JOB_TOKEN"):
        return ("the CI job token may not read this project's packages: allow it in the "
                "project's CI/CD settings (job token permissions), or give the job a token in "
                f"{var}")
    if cred is not None and source.startswith("env:"):
        name = source[4:]
        if in_ci(env):
            return (f"the CI variable {name} holds a wrong or expired token: update it in the "
                    "CI/CD settings (a masked secret)")
        stored = stored_elsewhere(access, env)
        if stored:
            return (f"`unset {name}`: it overrides the token stored in {stored} for index "
                    f"{index.name}; or set {name} to a valid token")
        return (f"set {name} to a valid token (it is wrong, expired or may not read "
                f"packages), or `unset {name}` and run {login}")
    if source.startswith("command:"):
        return (f"the token `{source[8:]}` printed was refused: its own messages, if any, are "
                f"above; sign in with it again or check the token's scope, or set {var}")
    if source.startswith("keyring:"):  # the entry stored for the host (login --for-host)
        return f"store a new token with `privpip login {index.name} --for-host`"
    if source == "":
        return f"the index wants a credential: run {login}, or set {var}"
    return f"store a new token with {login} (it checks the token first), or set {var}"


def in_ci(env: Mapping[str, str]) -> bool:
    """A CI job (GitLab, GitHub and most others set CI=true): its variables are settings."""
    return env.get("CI", "").lower() == "true" or "GITLAB_CI" in env or "GITHUB_ACTIONS" in env


def stored_elsewhere(access: Access, env: Mapping[str, str]) -> str | None:
    """Where a token for ``access``'s index is stored that differs from the one refused
    ("the keyring", "privpip's token file"), else None. Asked only after a refusal; the
    keyring is bounded by PRIVPIP_KEYRING_TIMEOUT as everywhere."""
    from privpip.credentials import filestore
    from privpip.credentials.store import KeyringStore
    from privpip.errors import KeyringUnavailable

    cred = access.credential
    if cred is None:
        return None
    refused = cred.token.reveal()
    services = identity.keyring_services(access.index.url)
    try:
        found = KeyringStore.from_env(env).get_many([(s, cred.username) for s in services])
        if any(v and v != refused for v in found.values()):
            return "the keyring"
    except KeyringUnavailable:
        pass
    try:
        value = filestore.get(env, access.index.url, cred.username)
    except filestore.FileStoreError:
        value = None
    return "privpip's token file" if value and value != refused else None


def explain(accesses: Sequence[Access], timeout: float = PROBE_TIMEOUT,
            env: Mapping[str, str] | None = None) -> list[str]:
    """One authenticated probe of each index (concurrently, ``timeout`` each); the lines that
    describe every index that refused its credential or could not be reached."""
    from privpip.checks import check

    results = check.check_all([(a.index, a.credential) for a in accesses], timeout)
    lines = []
    for access, result in zip(accesses, results, strict=True):
        index = access.index
        url = redact(index.url)
        if result.outcome == check.REJECTED:
            cred = access.credential
            whose = (f"the token from {cred.source} (user {cred.username})" if cred
                     else "the request without a credential")
            lines.append(f"privpip: index {index.name} ({url}) rejected {whose}: "
                         f"HTTP {result.status}")
            lines.append(f"  hint: {fix_for(access, env)}")
        elif result.outcome == check.UNREACHABLE:
            status = f"HTTP {result.status}, " if result.status is not None else ""
            lines.append(f"privpip: index {index.name} ({url}) could not be read: {status}"
                         f"{result.detail}")
            where = f" in {index.origin}" if index.origin else ""
            lines.append(f"  hint: check the URL{where} and the connection; "
                         "`privpip status --check` asks every index again")
    return lines


def after_failure(ctx: Context, accesses: Sequence[Access], status: int) -> None:
    """After the child failed (status > 0): print what the indexes answered, if it explains it."""
    if status <= 0 or not accesses:
        return
    ctx.note(f"the command failed (status {status}); asking each index once")
    for line in explain(accesses, env=ctx.env):
        ctx.log(line)


def check_typed_tokens(ctx: Context, accesses: Sequence[Access]) -> None:
    """Before pip starts: a token typed at the prompt is checked against its index (as
    ``privpip login`` does); a refused one stops the run, an accepted one may be stored."""
    typed = [a for a in accesses if a.credential is not None and a.credential.source == "prompt"]
    if not typed:
        return  # no probe: checks.check loads credentials.http, which a plain install never needs
    from privpip.checks import check

    for access, result in zip(typed, check.check_all(
            [(a.index, a.credential) for a in typed], PROBE_TIMEOUT), strict=True):
        index = access.index
        if result.outcome == check.REJECTED:
            raise PrivpipError(
                f"index {index.name} ({redact(index.url)}) rejected the token you typed: "
                f"HTTP {result.status}; nothing was run",
                f"check the token, its scope and the username; `privpip login {index.name}` "
                "checks a token and stores it",
            )
        if not result.ok:
            ctx.log(f"privpip: note: could not check the typed token against index "
                    f"{index.name}: {result.detail}")
            continue
        _offer_to_store(ctx, access)


def _offer_to_store(ctx: Context, access: Access) -> None:
    from privpip.credentials.store import KeyringStore
    from privpip.errors import KeyringUnavailable

    index, cred = access.index, access.credential
    assert cred is not None
    store = KeyringStore.from_env(ctx.env)
    problem = store.problem()
    if problem is not None:
        login = (f"`privpip login {index.name}`" if problem.cause == "no-backend"
                 else f"`privpip login {index.name} --insecure-storage`")
        ctx.log(f"privpip: the index accepted the token; the keyring cannot keep it "
                f"({problem.message}): {login} stores it in privpip's token file, or set "
                f"{credentials.token_var(index)}")
        return
    if not ctx.confirm(f"privpip: the index accepted the token; store it in the keyring for "
                       f"index {index.name}?"):
        return
    try:
        store.set(identity.keyring_service(index.url), cred.username, cred.token.reveal())
    except KeyringUnavailable as exc:
        ctx.log(f"privpip: could not store the token: {exc.message}")
        return
    ctx.log(f"privpip: stored the token for index {index.name} (user {cred.username}) in the "
            "keyring")
