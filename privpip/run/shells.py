"""Quoting environment assignments for each shell so that evaluating them reproduces every byte.

Two CI formats too: ``github`` writes $GITHUB_ENV's ``NAME<<DELIMITER`` blocks (masks are
separate: see ``github_masks``), ``gitlab`` writes POSIX ``export`` lines for a before_script.
And ``netrc``: a netrc file for a Docker build secret (``RUN --mount=type=secret``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from privpip.errors import UsageError

SHELLS = ("bash", "zsh", "sh", "fish", "powershell", "dotenv", "github", "gitlab", "netrc")

# PowerShell treats the typographic single quotes as quote characters too.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def detect(env: Mapping[str, str]) -> str:
    """The shell named by $SHELL, or posix sh syntax when it is unknown."""
    name = env.get("SHELL", "").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    if name in ("pwsh", "powershell"):
        return "powershell"
    if name in ("fish", "zsh", "bash"):
        return name
    return "sh"


def _check_value(name: str, value: str) -> None:
    if "\0" in value:
        raise UsageError(f"the value of {name} contains a NUL byte, which no environment can hold")


def _posix_quote(value: str) -> str:
    """shlex.quote, and quoted also where shlex leaves '=' bare at the start of the value or
    after a ':': zsh expands such an '=' in an assignment to a command's path (its EQUALS
    option), so `export X==000` fails there."""
    quoted = shlex.quote(value)
    if quoted == value and (value.startswith("=") or ":=" in value):
        return f"'{value}'"
    return quoted


def export(shell: str, variables: Mapping[str, str]) -> str:
    if shell == "netrc":
        return netrc(variables)
    lines = []
    for name, value in variables.items():
        _check_value(name, value)
        if shell in ("bash", "zsh", "sh", "gitlab"):
            lines.append(f"export {name}={_posix_quote(value)}")
        elif shell == "github":
            lines.append(_github_env_block(name, value))
        elif shell == "fish":
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")
            lines.append(f"set -gx {name} '{quoted}'")
        elif shell == "powershell":
            quoted = "".join(c + c if c in _PS_QUOTES else c for c in value)
            lines.append(f"$env:{name} = '{quoted}'")
        elif shell == "dotenv":
            # python-dotenv's single-quoted form, where \' is a quote. Its parser expands
            # ${VAR} even inside quotes and cannot end a value with a backslash, so values
            # with either are refused rather than written wrongly.
            if "${" in value or "\\" in value:
                raise UsageError(
                    f"the value of {name} contains '${{' or a backslash, which dotenv loaders "
                    "do not read back faithfully; use a shell format (--shell) instead"
                )
            quoted = value.replace("'", "\\'")
            lines.append(f"{name}='{quoted}'")
        else:
            raise UsageError(f"unknown shell {shell!r}; choose one of: {', '.join(SHELLS)}")
    return "".join(line + "\n" for line in lines)


def unset(shell: str, names: list[str]) -> str:
    if not names:
        return ""
    if shell in ("bash", "zsh", "sh", "gitlab"):
        return "unset " + " ".join(names) + "\n"
    if shell == "fish":
        return "".join(f"set -e {name}\n" for name in names)
    if shell == "powershell":
        return "".join(f"Remove-Item Env:{name} -ErrorAction SilentlyContinue\n" for name in names)
    if shell in ("dotenv", "netrc"):
        raise UsageError(f"--unset has no meaning for a {shell} file; delete the file instead")
    if shell == "github":
        raise UsageError(
            "--unset has no meaning for $GITHUB_ENV: variables set there last until the job ends",
            "write the variables only in the job that needs them",
        )
    raise UsageError(f"unknown shell {shell!r}; choose one of: {', '.join(SHELLS)}")


def _github_env_block(name: str, value: str) -> str:
    """One $GITHUB_ENV entry in the multiline form, with a delimiter the value cannot contain.

    GitHub's documented form for values that may hold newlines; a random delimiter (as
    @actions/core uses) means no value can end the block early and inject another variable.
    """
    import secrets

    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value and delimiter not in name:
            break
    if "\r" in value or value.endswith("\n"):
        raise UsageError(f"the value of {name} contains a carriage return or ends in a newline, "
                         "which $GITHUB_ENV cannot carry")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}"


def github_masks(values: list[str]) -> str:
    """``::add-mask::`` workflow commands for each value, escaped as @actions/core does.

    The runner reads workflow commands from a step's stdout and stderr alike; privpip prints
    these on stderr, so that `privpip env --shell github >> "$GITHUB_ENV"` keeps them out of
    the file (where they would become a variable) and in the log, where they take effect.
    """
    out = []
    for value in dict.fromkeys(values):
        if value:
            escaped = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            out.append(f"::add-mask::{escaped}\n")
    return "".join(out)


def netrc(variables: Mapping[str, str]) -> str:
    """A netrc with one machine entry per index that has a credential, for a Docker build secret.

    Built from uv's variables in ``variables`` (``UV_DEFAULT_INDEX`` / ``UV_INDEX`` as
    name=url, ``UV_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``), the same mapping every other
    format gets, so ``privpip env`` needs no case of its own. The entries are written by
    delivery.netrc_text, the writer of the private netrc pip gets: the same quoting, the same
    refusals (control or non-ASCII characters, two credentials for one host). The image's
    Python is unknown here, so values that need quoting get the form Python 3.11+ reads.
    """
    from privpip.config import Index
    from privpip.core.identity import name_key
    from privpip.core.secret import Secret
    from privpip.credentials import Credential
    from privpip.run import delivery
    from privpip.run.delivery.netrc import netrc_text

    accesses = []
    for key in ("UV_DEFAULT_INDEX", "UV_INDEX"):
        for entry in variables.get(key, "").split():
            name, _, url = entry.partition("=")
            prefix = f"UV_INDEX_{name_key(name)}_"
            token = variables.get(prefix + "PASSWORD")
            if token is None:
                continue  # auth = false: nothing to write
            credential = Credential(variables.get(prefix + "USERNAME", ""), Secret(token), "")
            accesses.append(delivery.Access(Index(name=name, url=url), credential))
    if not accesses:
        return ""
    return netrc_text(accesses, target_version=None)
