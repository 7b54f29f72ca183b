"""`privpip status`: each index, where its credential comes from, and (--check) a live test."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from privpip import check, credentials, providers
from privpip.cli.options import CONTEXT
from privpip.config import Index
from privpip.context import Context
from privpip.credentials import Credential
from privpip.errors import CredentialNotFound, KeyringUnavailable
from privpip.secret import redact
from privpip.store import KeyringStore


@dataclass(frozen=True)
class Row:
    index: Index
    username: str
    source: str  # a Credential's source ("env:VAR", "keyring", ...), "missing" or "not needed"
    credential: Credential | None
    result: check.CheckResult | None = None

    @property
    def role(self) -> str:
        return "default" if self.index.default else "extra"


@click.command(context_settings=CONTEXT)
@click.option("--check", "do_check", is_flag=True,
              help="Make an authenticated request to every index (concurrently) and report "
              "ok / rejected / unreachable; exit status 1 when any index fails.")
@click.option("--show-prefix", is_flag=True,
              help="Show the first 4 characters of each token, to tell tokens apart.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=check.DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="How long --check waits for an index.")
@click.pass_obj
def status(ctx: Context, do_check: bool, show_prefix: bool, as_json: bool,
           timeout: float) -> None:
    """Show each configured index and where its credential comes from.

    Columns: index name, URL, default or extra, username, and the credential's source
    (env:VARIABLE, keyring, or missing). status never prompts and never prints a token.

    \b
      privpip status
      privpip status --check          a CI preflight: non-zero exit when an index fails
      privpip status --json
    """
    indexes = ctx.config.select()
    store = _FirstFailureStore(KeyringStore.from_env(ctx.env))
    # No prompt: status reports what is there, it never asks.
    resolver = credentials.Resolver(ctx.env, store)
    rows = [_row(index, resolver) for index in indexes]
    if do_check:
        results = check.check_all([(r.index, r.credential) for r in rows], timeout)
        rows = [Row(r.index, r.username, r.source, r.credential, res)
                for r, res in zip(rows, results, strict=True)]
    notes = []
    # In GitLab CI a missing keyring is normal; say nothing when the job's variables (the job
    # token included) supplied every credential.
    ci_only = providers.in_gitlab_ci(ctx.env) and all(
        r.source.startswith("env:") or r.source == "not needed" for r in rows)
    if store.failure is not None and not ci_only:
        notes.append(f"keyring: {store.failure.message}")
        if store.failure.hint:
            notes.append(f"  hint: {store.failure.hint}")
    if any(row.source == "keyring" for row in rows):
        try:
            backend = store.store.backend_name()
        except KeyringUnavailable:
            backend = ""
        if "plaintext" in backend.lower():
            notes.append(f"keyring: the backend {backend} keeps tokens unencrypted in a file "
                         "in your home directory")
    for row in rows:
        if row.source == "missing":
            notes.append(f"{row.index.name}: no credential; {resolver.missing_hint(row.index)}")
        if row.result is not None and not row.result.ok:
            notes.append(f"{row.index.name}: {row.result.describe()}")

    if as_json:
        _print_json(rows, notes, show_prefix, do_check)
    elif sys.stdout.isatty() and not ctx.env.get("NO_COLOR"):
        _print_rich(rows, notes, show_prefix)
    else:
        _print_plain(rows, notes, show_prefix)
    if do_check and not all(r.result is not None and r.result.ok for r in rows):
        raise SystemExit(1)


class _FirstFailureStore:
    """Reads the keyring until it first fails, then stops asking: one time-out in all."""

    def __init__(self, store: KeyringStore) -> None:
        self.store = store
        self.failure: KeyringUnavailable | None = None

    def get(self, service: str, username: str) -> str | None:
        if self.failure is not None:
            raise self.failure
        try:
            return self.store.get(service, username)
        except KeyringUnavailable as exc:
            self.failure = exc
            raise

    def has_backend(self) -> bool:
        return self.failure is None and self.store.has_backend()


def _row(index: Index, resolver: credentials.Resolver) -> Row:
    try:
        cred = resolver.index(index)
    except CredentialNotFound:
        return Row(index, credentials.username(index, resolver.env), "missing", None)
    if cred is None:
        return Row(index, "-", "not needed", None)
    return Row(index, cred.username, cred.source, cred)


def _cells(row: Row, show_prefix: bool) -> list[str]:
    cells = [row.index.name, redact(row.index.url), row.role, row.username, row.source]
    if show_prefix:
        cells.append(row.credential.token.prefix(4) if row.credential else "")
    if row.result is not None:
        res = row.result
        cells += [res.outcome, str(res.status) if res.status is not None else "-",
                  f"{res.seconds:.2f} s"]
    return cells


def _headers(show_prefix: bool, checked: bool) -> list[str]:
    headers = ["NAME", "URL", "ROLE", "USERNAME", "CREDENTIAL"]
    if show_prefix:
        headers.append("TOKEN")
    if checked:
        headers += ["CHECK", "HTTP", "TIME"]
    return headers


def _print_plain(rows: list[Row], notes: list[str], show_prefix: bool) -> None:
    table = [_headers(show_prefix, rows[0].result is not None)]
    table += [_cells(row, show_prefix) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())
    for note in notes:
        click.echo(note)


def _print_rich(rows: list[Row], notes: list[str], show_prefix: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    colors = {check.OK: "green", check.REJECTED: "red", check.UNREACHABLE: "yellow"}
    table = Table(box=None, header_style="bold")
    for header in _headers(show_prefix, rows[0].result is not None):
        table.add_column(header)
    for row in rows:
        cells = [Text(cell) for cell in _cells(row, show_prefix)]
        if row.source == "missing":
            cells[4].stylize("red")
        if row.result is not None:
            cells[-3].stylize(colors.get(row.result.outcome, ""))
        table.add_row(*cells)
    console = Console()
    console.print(table)
    for note in notes:
        console.print(Text(note))


def _print_json(rows: list[Row], notes: list[str], show_prefix: bool, checked: bool) -> None:
    import json

    out: dict[str, object] = {}
    items = []
    for row in rows:
        item: dict[str, object] = {
            "name": row.index.name,
            "url": redact(row.index.url),
            "role": row.role,
            "username": row.username,
            "source": row.source,
        }
        if show_prefix:
            item["prefix"] = row.credential.token.prefix(4) if row.credential else None
        if row.result is not None:
            item["check"] = {
                "result": row.result.outcome,
                "status": row.result.status,
                "seconds": round(row.result.seconds, 3),
                "detail": row.result.detail,
            }
        items.append(item)
    out["indexes"] = items
    if checked:
        out["ok"] = all(r.result is not None and r.result.ok for r in rows)
    out["notes"] = notes
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
