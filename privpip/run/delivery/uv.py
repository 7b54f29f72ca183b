"""uv: UV_DEFAULT_INDEX / UV_INDEX (name=url) and UV_INDEX_<NAME>_USERNAME / _PASSWORD."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from privpip.config import Index
from privpip.errors import UsageError
from privpip.run.delivery import Access, split_default

DEFAULT_INDEX = "UV_DEFAULT_INDEX"
INDEX = "UV_INDEX"
VARIABLES = (DEFAULT_INDEX, INDEX)  # every variable uv_variables sets apart from credentials


def credential_variables(index: Index) -> tuple[str, str]:
    """The (username, password) variables uv reads for ``index``."""
    return f"UV_INDEX_{index.env_name}_USERNAME", f"UV_INDEX_{index.env_name}_PASSWORD"


def variable_names(indexes: Sequence[Index]) -> list[str]:
    """Every variable uv_variables may set for ``indexes`` (what `env --unset` removes)."""
    return [*VARIABLES, *(name for index in indexes for name in credential_variables(index))]


def uv_variables(accesses: Sequence[Access], with_credentials: bool = True) -> dict[str, str]:
    """UV_DEFAULT_INDEX / UV_INDEX as name=url, credentials in UV_INDEX_<NAME>_USERNAME/PASSWORD."""
    default, extras = split_default(accesses)
    out: dict[str, str] = {}
    if default is not None:
        out[DEFAULT_INDEX] = f"{default.index.name}={default.index.url}"
    if extras:
        out[INDEX] = " ".join(f"{a.index.name}={a.index.url}" for a in extras)
    if with_credentials:
        for access in accesses:
            if access.credential is not None:
                user_var, password_var = credential_variables(access.index)
                out[user_var] = access.credential.username
                out[password_var] = access.credential.token.reveal()
    return out


def find_uv(env: Mapping[str, str]) -> str:
    """The uv executable: on PATH, else the one the `uv` package installed next to privpip."""
    import shutil

    found = shutil.which("uv", path=env.get("PATH"))
    if found:
        return found
    try:
        from uv import find_uv_bin  # the PyPI `uv` package

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    raise UsageError(
        "--installer uv: uv is not installed (no `uv` on PATH)",
        "install it (`pipx install uv`, `pip install uv`, or see https://docs.astral.sh/uv/), "
        "or use --installer pip",
    )
