"""`privpip status`: each index, where its credential comes from, and (--check) a live test."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from privpip import credentials
from privpip.checks import check
from privpip.cli.options import CONTEXT
from privpip.config import Config, Index, label, user_config_file
from privpip.context import Context
from privpip.core.secret import redact
from privpip.credentials import Credential
from privpip.credentials.stored import FirstFailureKeyring
from privpip.errors import (
    FAILED,
    NO_CREDENTIAL,
    OK,
    CredentialNotFound,
)
from privpip.ui import terminal
from privpip.ui.terminal import Cell, Line


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
              "ok / rejected / unreachable; exit status 1 when any index fails (77, as "
              "without --check, when one has no credential).")
@click.option("--show-prefix", is_flag=True,
              help="Show the first 4 characters of each token, to tell tokens apart.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=check.DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="How long --check waits for an index.")
@click.pass_obj
def status(ctx: Context, do_check: bool, show_prefix: bool, as_json: bool,
           timeout: float) -> int:
    """Show each configured index and where its credential comes from.

    First the config files read, then the columns: index name, URL, default or extra,
    username, and the credential's source (env:VARIABLE, keyring, or missing). Nothing is
    cut to fit a narrow terminal: the URL moves to its own line, or each index becomes a
    block. Colour on a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 on for a pipe.
    status never prompts and never prints a token. Exit status 77 when an index has no
    credential.

    \b
      privpip status
      privpip status --check          a CI preflight: non-zero exit when an index fails
      privpip status --json
    """
    indexes = ctx.config.select()
    store = FirstFailureKeyring(ctx.env)
    # No prompt: status reports what is there, it never asks.
    resolver = credentials.Resolver(ctx.env, store)
    # Keyring reads and token commands can take seconds: a spinner on a terminal meanwhile.
    with terminal.spinner("privpip: reading credentials…", ctx.env):
        rows = [_row(index, resolver) for index in indexes]
    if do_check:
        with terminal.spinner(f"privpip: checking {len(rows)} "
                              f"{'index' if len(rows) == 1 else 'indexes'}…", ctx.env):
            results = check.check_all([(r.index, r.credential) for r in rows], timeout,
                                      expiry=True)
        rows = [Row(r.index, r.username, r.source, r.credential, res)
                for r, res in zip(rows, results, strict=True)]
    notes = []
    # The keyring's failure matters only where it left an index without a token (a headless
    # machine, a CI job): then its cause in one line; each index's hint says the fix.
    if store.failure is not None and any(r.source == "missing" for r in rows):
        notes.append(f"keyring: {store.failure.message}")
    if any(row.source == "keyring" for row in rows):
        backend = store.backend_name()
        if "plaintext" in backend.lower():
            notes.append(f"keyring: the backend {backend} keeps tokens unencrypted in a file "
                         "in your home directory")
    for row in rows:
        if row.source == "missing":
            notes.append(f"{row.index.name}: no credential; {resolver.missing_hint(row.index)}")
        if row.result is not None and not row.result.ok:
            notes.append(f"{row.index.name}: {row.result.describe()}")
        soon = check.expiry_note(row.result) if row.result is not None else None
        if soon:
            notes.append(f"{row.index.name}: {soon}; {_renew(row)}")

    if as_json:
        _print_json(ctx, rows, notes, show_prefix, do_check)
    else:
        _print_text(ctx, rows, notes, show_prefix)
    # For scripts, as `gh auth status`: an index without a credential is 77 (as for every
    # command), a --check that an index failed is 1.
    if any(r.source == "missing" for r in rows):
        return NO_CREDENTIAL
    if do_check and not all(r.result is not None and r.result.ok for r in rows):
        return FAILED
    return OK


def _row(index: Index, resolver: credentials.Resolver) -> Row:
    try:
        cred = resolver.index(index)
    except CredentialNotFound:
        return Row(index, credentials.username(index, resolver.env), "missing", None)
    if cred is None:
        return Row(index, "-", "not needed", None)
    return Row(index, cred.username, cred.source, cred)


def _renew(row: Row) -> str:
    """How to replace a token that expires soon, for where it comes from."""
    if row.source.startswith("env:"):
        return f"put a new token in {row.source[4:]} before then"
    if row.source.startswith("command:"):
        return f"`{row.source[8:]}` must give a new one before then"
    return f"store a new one before then: `privpip login {row.index.name}`"


def _cells(row: Row, show_prefix: bool, expiry: bool = False) -> list[Cell]:
    colors = {check.OK: "green", check.REJECTED: "red", check.UNREACHABLE: "yellow"}
    cells: list[Cell] = [(row.index.name, "bold"), (redact(row.index.url), ""),
                         (row.role, ""), (row.username, ""),
                         (row.source, "red" if row.source == "missing" else "")]
    if show_prefix:
        cells.append((row.credential.token.prefix(4) if row.credential else "", ""))
    if row.result is not None:
        res = row.result
        cells += [(res.outcome, colors.get(res.outcome, "")),
                  (str(res.status) if res.status is not None else "-", ""),
                  (f"{res.seconds:.2f} s", "")]
        if expiry:
            soon = check.expiry_note(res) is not None
            cells.append((res.expires.isoformat() if res.expires else "-",
                          "yellow" if soon else ""))
    return cells


def _headers(show_prefix: bool, checked: bool, expiry: bool = False) -> list[str]:
    headers = ["NAME", "URL", "ROLE", "USERNAME", "CREDENTIAL"]
    if show_prefix:
        headers.append("TOKEN")
    if checked:
        headers += ["CHECK", "HTTP", "TIME"]
    if expiry:  # only when an index said when its token expires
        headers.append("EXPIRES")
    return headers


def config_files(cfg: Config, env: Mapping[str, str]) -> list[tuple[Path, str]]:
    """Each config file the run read, with its scope: "project" or "user"."""
    user = os.path.abspath(user_config_file(env))
    return [(path, "user" if os.path.abspath(path) == user else "project")
            for path in cfg.files]


def _print_text(ctx: Context, rows: list[Row], notes: list[str], show_prefix: bool) -> None:
    """The table (fitted to $COLUMNS / the terminal, never cut), the config files, the notes."""
    lines: list[Line] = []
    for path, scope in config_files(ctx.config, ctx.env):
        lines.append([("config: ", ""), (f"{label(path)} ({scope})", "")])
    expiry = any(row.result is not None and row.result.expires for row in rows)
    headers = _headers(show_prefix, rows[0].result is not None, expiry)
    table = [_cells(row, show_prefix, expiry) for row in rows]
    lines += terminal.layout(headers, table, terminal.width(ctx.env, sys.stdout), wrap=1)
    lines += [[(note, "")] for note in notes]
    terminal.echo_lines(lines, ctx.env)


SCHEMA_VERSION = 1  # of `status --json`; raised only when a key changes meaning or goes away


def _print_json(ctx: Context, rows: list[Row], notes: list[str], show_prefix: bool,
                checked: bool) -> None:
    import json

    out: dict[str, object] = {"schema_version": SCHEMA_VERSION}
    out["config_files"] = [{"path": os.path.abspath(path), "scope": scope}
                           for path, scope in config_files(ctx.config, ctx.env)]
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
                "expires": row.result.expires.isoformat() if row.result.expires else None,
            }
        items.append(item)
    out["indexes"] = items
    if checked:
        out["ok"] = all(r.result is not None and r.result.ok for r in rows)
    out["notes"] = notes
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
