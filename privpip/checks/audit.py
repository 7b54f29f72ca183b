"""The audit: owned names per index, looked up on the public index, reported line by line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from privpip.checks import confusion
from privpip.config import Index
from privpip.config.schema import validate_url
from privpip.context import Context
from privpip.core.secret import redact
from privpip.errors import ConfigError, PrivpipError
from privpip.run import pipeline
from privpip.run.delivery import Access

Status = Literal["safe", "danger", "note", "error"]


@dataclass(frozen=True)
class Finding:
    index: str
    name: str
    status: Status
    detail: str


def owned_names(index: Index, listed: Sequence[str]) -> tuple[list[str], list[str]]:
    """(owned, listed but not owned): declared exact names plus listed names `packages` match.

    Without a `packages` key, everything the index lists counts as owned.
    """
    if not index.packages:
        return sorted(set(listed)), []
    declared = [p for p in index.packages if not confusion.is_glob(p)]
    owned = set(declared)
    unowned = []
    for name in listed:
        if confusion.owner([index], name) is not None:
            owned.add(name)
        else:
            unowned.append(name)
    return sorted(owned), sorted(unowned)


def audit_index(access: Access, public_index: str) -> list[Finding]:
    index = access.index
    cred = access.credential
    findings = []
    try:
        listed = confusion.list_index(index.url, cred)
    except PrivpipError as exc:
        listed = []
        findings.append(Finding(index.name, "-", "error",
                                f"cannot list the index: {exc.message}"))
    owned, unowned = owned_names(index, listed)

    from concurrent.futures import ThreadPoolExecutor

    def check(name: str) -> Finding:
        try:
            versions = confusion.lookup(public_index, name)
        except PrivpipError as exc:
            return Finding(index.name, name, "error", exc.message)
        if versions is None:
            return Finding(index.name, name, "safe", "not on the public index")
        shown = ", ".join(versions) if versions else "no files"
        return Finding(index.name, name, "danger", f"on the public index: {shown}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        findings += list(pool.map(check, owned))
    findings += [Finding(index.name, n, "note", "listed, but not in `packages`; not checked")
                 for n in unowned]
    if not index.packages:
        findings.append(Finding(index.name, "-", "note",
                                "no `packages` key: `privpip install` cannot guard these names; "
                                "add packages = [...] to the index"))
    return findings


def run(ctx: Context, names: Sequence[str], public_index: str | None,
        echo: Callable[[str], None]) -> int:
    cfg = ctx.config
    if public_index is not None:
        try:
            public_index = validate_url(public_index, "--public-index")
        except ValueError as exc:
            raise ConfigError("--public-index", str(exc)) from None
    public = public_index or cfg.public_index
    accesses = pipeline.resolve_accesses(ctx, names)
    echo(f"public index: {redact(public)}")
    worst = 0
    for access in accesses:
        echo(f"{access.index.name} ({redact(access.index.url)}):")
        findings = audit_index(access, public)
        width = max([len(f.name) for f in findings] + [1])
        for f in findings:
            echo(f"  {f.status:<6}  {f.name:<{width}}  {f.detail}")
            if f.status == "danger":
                worst = max(worst, 1)
            elif f.status == "error" and worst == 0:
                worst = 2
    if worst == 1:
        echo("danger: someone holds owned names on the public index; make the private index "
             "the default index (default = true) instead of an extra one, and pin or rename "
             "those packages")
    return worst
