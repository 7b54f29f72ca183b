"""Turning a failure into a diagnosis: after a failed pip run with netrc delivery, ask each index
once and say which one refused its credential or did not answer; and check a token typed at the
prompt before pip starts. (The per-run local index reports its upstreams' answers itself.)"""

from __future__ import annotations

from collections.abc import Sequence

from privpip import credentials, identity
from privpip.context import Context
from privpip.delivery import Access
from privpip.errors import PrivpipError
from privpip.secret import redact

PROBE_TIMEOUT = 5.0


def fix_for(access: Access) -> str:
    """The command or setting that replaces ``access``'s credential, by where it came from."""
    index = access.index
    source = access.credential.source if access.credential else ""
    login = f"`privpip login {index.name}`"
    if source.startswith("env:CI_JOB_TOKEN"):
        return ("the CI job token may not read this project's packages: allow it in the "
                "project's CI/CD settings (job token permissions), or give the job a token in "
                f"{credentials.token_var(index)}")
    if source.startswith("env:"):
        return f"set {source[4:]} to a valid token (it is wrong or expired), or unset it"
    if source.startswith("command:"):
        return (f"the token printed by `{source[8:]}` was refused: check the command's login "
                f"and the token's scope, or set {credentials.token_var(index)}")
    if source == "file":
        return f"store a new token with `privpip login {index.name} --insecure-storage`"
    if source == "":
        return f"the index wants a credential: run {login}, or set {credentials.token_var(index)}"
    return (f"store a new token with {login} (it checks the token first), or set "
            f"{credentials.token_var(index)}")


def explain(accesses: Sequence[Access], timeout: float = PROBE_TIMEOUT) -> list[str]:
    """One authenticated probe of each index (concurrently, ``timeout`` each); the lines that
    describe every index that refused its credential or could not be reached."""
    from privpip import check

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
            lines.append(f"  hint: {fix_for(access)}")
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
    for line in explain(accesses):
        ctx.log(line)


def check_typed_tokens(ctx: Context, accesses: Sequence[Access]) -> None:
    """Before pip starts: a token typed at the prompt is checked against its index (as
    ``privpip login`` does); a refused one stops the run, an accepted one may be stored."""
    typed = [a for a in accesses if a.credential is not None and a.credential.source == "prompt"]
    if not typed:
        return  # no probe: privpip.check loads privpip.http, which a plain install never needs
    from privpip import check

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
    import click

    from privpip.errors import KeyringUnavailable
    from privpip.store import KeyringStore

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
    if not click.confirm(f"privpip: the index accepted the token; store it in the keyring for "
                         f"index {index.name}?", default=False, err=True):
        return
    try:
        store.set(identity.keyring_service(index.url), cred.username, cred.token.reveal())
    except KeyringUnavailable as exc:
        ctx.log(f"privpip: could not store the token: {exc.message}")
        return
    ctx.log(f"privpip: stored the token for index {index.name} (user {cred.username}) in the "
            "keyring")
