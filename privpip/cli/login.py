"""`privpip login` / `logout`: check a token against its index, keep it in the OS keyring."""

from __future__ import annotations

import sys

import click

from privpip import credentials
from privpip.checks import check
from privpip.cli.completion import complete_index_names
from privpip.cli.options import CONTEXT
from privpip.config import Index
from privpip.context import Context
from privpip.core import identity, tokens
from privpip.core.secret import Secret, redact
from privpip.credentials import Credential
from privpip.credentials.stored import Stored
from privpip.errors import KeyringUnavailable, PrivpipError, UsageError

_USERNAME_HELP = ("Username to store the token under. Default: the index's `username` "
                  f"({identity.DEFAULT_USERNAME} unless set), or PRIVPIP_INDEX_<NAME>_USERNAME.")


@click.command(context_settings=CONTEXT)
@click.argument("name", shell_complete=complete_index_names)
@click.option("--username", "-u", metavar="USER", help=_USERNAME_HELP)
@click.option("--no-verify", is_flag=True,
              help="Store the token without first checking it against the index "
              "(for an index this machine cannot reach).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=check.DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="How long to wait for the index.")
@click.option("--insecure-storage", is_flag=True,
              help="Store the token unencrypted in privpip's own file (mode 0600, in your data "
              "directory) instead of the OS keyring: for machines that have no keyring.")
@click.option("--no-insecure-fallback", is_flag=True, envvar="PRIVPIP_NO_INSECURE_FALLBACK",
              help="Where no keyring backend exists, fail instead of keeping the token in "
              "privpip's token file.  [env: PRIVPIP_NO_INSECURE_FALLBACK]")
@click.option("--for-host", is_flag=True,
              help="Store the token for the index's host, so that every index on that host "
              "with the same username uses it unless it has an entry of its own.")
@click.pass_obj
def login(ctx: Context, name: str, username: str | None, no_verify: bool,
          timeout: float, insecure_storage: bool, no_insecure_fallback: bool,
          for_host: bool) -> None:
    """Check a token for index NAME and store it in the OS keyring.

    The token is read with a hidden prompt on a terminal, or as one line from stdin
    otherwise; there is no option that takes it on the command line.

    \b
      privpip login corp
      printf %s "$TOKEN" | privpip login corp
      privpip login corp --username gitlab+deploy-token-7

    Before storing, privpip makes an authenticated GET of the index's simple page:
    a token the index refuses (401/403) is not stored. The entry is stored under
    service = the index URL and the username, the lookup pip (--keyring-provider),
    uv and twine make, so they find it too. On a machine with no keyring backend (a
    server, a container) the token goes to privpip's token file instead (unencrypted,
    mode 0600), and login says so; --no-insecure-fallback refuses instead.
    """
    index = _auth_index(ctx, name)
    username = username or credentials.username(index, ctx.env)
    service = identity.host_service(index.url) if for_host else identity.keyring_service(index.url)
    env_var = credentials.env_token_var(index, ctx.env)
    if env_var:
        click.echo(f"privpip: note: {env_var} is set and takes precedence over a stored token "
                   f"for index {index.name}; unset it to use the token stored now", err=True)
    if insecure_storage:
        _login_to_file(ctx, Stored(ctx.env), index, username, service, no_verify, timeout)
        return
    stored = Stored(ctx.env)

    # Ask the keyring first: a missing or hanging backend is known before the token is typed.
    problem = stored.keyring_problem()
    had_entry = False
    if problem is None:
        try:
            had_entry = stored.in_keyring(service, username) is not None
        except KeyringUnavailable as exc:
            problem = exc
    if problem is not None:
        if problem.cause != "no-backend" or no_insecure_fallback:
            raise _cannot_store(ctx, index, problem, no_insecure_fallback) from None
        # Nothing on this machine keeps tokens (a server, a container): as gh does, use the
        # token file and say so, rather than send the user to install a backend first.
        _login_to_file(ctx, stored, index, username, service, no_verify, timeout,
                       because=problem)
        return

    token = _read_token(ctx, index, username)
    _check_unless(no_verify, index, Credential(username, token, "login"), timeout)
    try:
        backend = stored.to_keyring(service, username, token)
    except KeyringUnavailable as exc:
        raise _cannot_store(ctx, index, exc, no_insecure_fallback) from None
    verb = "replaced" if had_entry else "stored"
    click.echo(f"privpip: {verb} the token for index {index.name} (user {username}) in the "
               f"keyring under {redact(service)}")
    if for_host:
        click.echo(f"  every index on {service} with user {username} uses it unless it has "
                   "an entry of its own")
    click.echo(f"  keyring backend: {backend}")
    if "plaintext" in backend.lower():
        click.echo("  note: this backend keeps tokens unencrypted in a file in your home "
                   "directory", err=True)
    file = stored.drop_file_copy(service, username)
    if file is not None:
        click.echo(f"  removed the entry of privpip's token file ({file})")


@click.command(context_settings=CONTEXT)
@click.argument("name", shell_complete=complete_index_names)
@click.option("--username", "-u", metavar="USER", help=_USERNAME_HELP)
@click.option("--for-host", is_flag=True,
              help="Remove the entry `privpip login NAME --for-host` stored for the host.")
@click.pass_obj
def logout(ctx: Context, name: str, username: str | None, for_host: bool) -> None:
    """Remove the token `privpip login NAME` stored in the OS keyring or privpip's token file.

    Running it again is not an error: it says that nothing was stored.
    """
    from privpip.credentials.stored import FileStoreError

    index = _auth_index(ctx, name)
    username = username or credentials.username(index, ctx.env)
    service = identity.host_service(index.url) if for_host else identity.keyring_service(index.url)
    try:
        where = Stored(ctx.env).remove(service, username)
    except FileStoreError as exc:
        raise PrivpipError(f"cannot remove the token for index {index.name}: {exc}") from None
    except KeyringUnavailable as exc:
        raise KeyringUnavailable(f"cannot remove the token for index {index.name}: "
                                 f"{exc.message}", exc.hint) from None
    if where:
        click.echo(f"privpip: removed the token for index {index.name} (user {username}) "
                   f"from {' and '.join(where)}")
    else:
        click.echo(f"privpip: nothing was stored for index {index.name} (user {username}) "
                   "in the keyring or privpip's token file; nothing to remove")
    env_var = credentials.env_token_var(index, ctx.env)
    if env_var:
        click.echo(f"privpip: note: {env_var} is still set and supplies the token for index "
                   f"{index.name}", err=True)


# ---------------------------------------------------------------------------


def _auth_index(ctx: Context, name: str) -> Index:
    index = ctx.config.get(name)
    if not index.auth:
        raise UsageError(f"index {name!r} has auth = false: it needs no token")
    return index


def _read_token(ctx: Context, index: Index, username: str) -> Secret:
    stdin = sys.stdin
    if stdin is None:
        raise UsageError("no stdin to read the token from",
                         f'pipe it in: printf %s "$TOKEN" | privpip login {index.name}')
    if stdin.isatty():
        if not ctx.interactive:
            raise UsageError("--no-input was given, so there is no prompt for the token",
                             f'pipe it in: printf %s "$TOKEN" | privpip login {index.name}')
        try:
            value = credentials.ask_token(index, username)
        except EOFError:
            value = ""
    else:
        line = stdin.readline()
        value = line[:-1] if line.endswith("\n") else line
        value = value[:-1] if value.endswith("\r") else value
    token = Secret(value)  # registered with the redactor from here on
    if not value:
        raise UsageError("no token given (empty input); nothing was stored",
                         f'pipe it in: printf %s "$TOKEN" | privpip login {index.name}')
    problem = tokens.token_problem(value)
    if problem == "control":
        raise UsageError("the token contains a control character; nothing was stored",
                         "tokens are printable text; check how the value was copied")
    if problem is not None:
        raise UsageError("the token contains a non-ASCII character, which HTTP basic "
                         "authentication as pip uses it cannot carry; nothing was stored",
                         "registry tokens are ASCII; check how the value was copied")
    if value != value.strip():
        click.echo("privpip: note: the token starts or ends with white space; check how it "
                   "was copied", err=True)
    return token


def _verify(index: Index, cred: Credential, timeout: float) -> None:
    url = redact(index.url)
    with _waiting(f"checking the token against {url}"):
        result = check.check(index, cred, timeout)
        anonymous = check.check(index, None, timeout) if result.ok else None
    if result.outcome == check.REJECTED:
        raise PrivpipError(
            f"index {index.name} ({url}) rejected the token for user {cred.username!r}: "
            f"HTTP {result.status}; nothing was stored",
            "check the token, its scope (it must be allowed to read packages) and the "
            "username (--username)",
        )
    if not result.ok:
        status = f"HTTP {result.status}" if result.status is not None else "no HTTP status"
        raise PrivpipError(
            f"could not check the token against index {index.name} ({url}): {status}, "
            f"{result.detail}; nothing was stored",
            f"fix the URL or the connection and retry, or store the token unchecked with "
            f"`privpip login {index.name} --no-verify`",
        )
    if anonymous is not None and anonymous.ok:
        click.echo(f"privpip: note: {url} also answers without a credential, so this check "
                   "could not tell whether the token is right", err=True)
    else:
        click.echo(f"privpip: the index accepted the token (HTTP {result.status}, "
                   f"{result.seconds:.2f} s)", err=True)


class _waiting:  # noqa: N801 - used like a function
    """A spinner on a terminal, one line of progress otherwise (both on stderr)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.status: object = None

    def __enter__(self) -> None:
        if sys.stderr.isatty():
            from rich.console import Console

            self.status = Console(stderr=True).status(self.message + " ...")
            self.status.__enter__()
        else:
            click.echo(f"privpip: {self.message} ...", err=True)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)  # type: ignore[attr-defined]


def _cannot_store(ctx: Context, index: Index, exc: KeyringUnavailable,
                  no_fallback: bool) -> KeyringUnavailable:
    """The keyring cannot keep the token: its cause in one line, the fix for that cause."""
    var = credentials.token_var(index)
    file = f"`privpip login {index.name} --insecure-storage`"
    if exc.cause == "no-backend":
        from privpip.ui.installed import keyring_backend_hint

        refused = ("--no-insecure-fallback" if no_fallback and "PRIVPIP_NO_INSECURE_FALLBACK"
                   not in ctx.env else "PRIVPIP_NO_INSECURE_FALLBACK")
        return KeyringUnavailable(
            f"cannot store a token for index {index.name}: {exc.message}, and {refused} "
            "refuses privpip's token file; nothing was stored",
            f"set {var} instead (a CI secret, or your shell profile), or "
            f"{keyring_backend_hint(ctx.env)}", exc.cause)
    if exc.cause == "forced":
        hint = (f"unset PYTHON_KEYRING_BACKEND (keyring then chooses a backend itself) or "
                f"install the package it names into privpip's own environment; or set {var}")
    elif exc.cause in ("locked", "timeout"):
        wait = "; PRIVPIP_KEYRING_TIMEOUT sets the wait" if exc.cause == "timeout" else ""
        hint = (f"unlock the keyring and retry{wait}; or set {var}; or keep the token in "
                f"privpip's own file: {file}")
    else:
        hint = f"set {var} instead; or keep the token in privpip's own file: {file}"
    return KeyringUnavailable(
        f"cannot store a token for index {index.name}: {exc.message}; nothing was stored",
        hint, exc.cause)


def _check_unless(no_verify: bool, index: Index, cred: Credential, timeout: float) -> None:
    if no_verify:
        click.echo(f"privpip: not checking the token against {redact(index.url)} (--no-verify)",
                   err=True)
    else:
        _verify(index, cred, timeout)


def _login_to_file(ctx: Context, stored: Stored, index: Index, username: str, service: str,
                   no_verify: bool, timeout: float,
                   because: KeyringUnavailable | None = None) -> None:
    """The token file: chosen with --insecure-storage, or ``because`` no keyring backend
    exists here (then the keyring is not asked again, and one line says so)."""
    from privpip.credentials.stored import FileStoreError

    token = _read_token(ctx, index, username)
    _check_unless(no_verify, index, Credential(username, token, "login"), timeout)
    try:
        file = stored.to_file(service, username, token)
    except (OSError, FileStoreError) as exc:
        raise PrivpipError(f"cannot store the token for index {index.name}: {exc}; nothing "
                           "was stored") from None
    if because is not None:
        click.echo(f"privpip: {because.message}, so the token for index {index.name} (user "
                   f"{username}) is stored unencrypted in {file} (mode 0600); once a keyring "
                   f"works, `privpip login {index.name}` moves it there")
        return
    click.echo(f"privpip: stored the token for index {index.name} (user {username}) in "
               f"{file}")
    click.echo("  note: this file is not encrypted (mode 0600): anyone who can read your files "
               f"can use the token; `privpip logout {index.name}` removes it", err=True)
