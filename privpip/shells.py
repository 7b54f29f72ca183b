"""Quoting environment assignments for each shell so that evaluating them reproduces every byte."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from privpip.errors import UsageError

SHELLS = ("bash", "zsh", "sh", "fish", "powershell", "dotenv")

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


def export(shell: str, variables: Mapping[str, str]) -> str:
    lines = []
    for name, value in variables.items():
        _check_value(name, value)
        if shell in ("bash", "zsh", "sh"):
            lines.append(f"export {name}={shlex.quote(value)}")
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
    if shell in ("bash", "zsh", "sh"):
        return "unset " + " ".join(names) + "\n"
    if shell == "fish":
        return "".join(f"set -e {name}\n" for name in names)
    if shell == "powershell":
        return "".join(f"Remove-Item Env:{name} -ErrorAction SilentlyContinue\n" for name in names)
    if shell == "dotenv":
        raise UsageError("--unset has no meaning for a dotenv file; delete the file instead")
    raise UsageError(f"unknown shell {shell!r}; choose one of: {', '.join(SHELLS)}")
