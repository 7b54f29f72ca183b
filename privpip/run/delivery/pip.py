"""pip: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, and the environment of a pip child (with a netrc)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from privpip.run.delivery import Access, split_default, url_with_credentials

INDEX_URL = "PIP_INDEX_URL"
EXTRA_INDEX_URL = "PIP_EXTRA_INDEX_URL"
VARIABLES = (INDEX_URL, EXTRA_INDEX_URL)  # every variable pip_variables can set


def pip_variables(accesses: Sequence[Access], with_credentials: bool) -> dict[str, str]:
    """PIP_INDEX_URL (for the default index) and PIP_EXTRA_INDEX_URL (the rest, in order)."""
    default, extras = split_default(accesses)
    render = url_with_credentials if with_credentials else (lambda a: a.index.url)
    out: dict[str, str] = {}
    if default is not None:
        out[INDEX_URL] = render(default)
    if extras:
        out[EXTRA_INDEX_URL] = " ".join(render(a) for a in extras)
    return out


def without_token_variables(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without privpip's own PRIVPIP_INDEX_<NAME>_TOKEN variables.

    pip reads the token from the netrc; nothing it runs (build backends, setup.py) needs the
    variable, and a backend that prints its environment would print the token. Variables named
    by ``token-env`` stay: they belong to the user or the CI system, which may rely on them.
    """
    return {k: v for k, v in env.items()
            if not (k.startswith("PRIVPIP_INDEX_") and k.endswith("_TOKEN"))}


def pip_environment(
    accesses: Sequence[Access],
    env: Mapping[str, str],
    private_dir: Path,
    target_version: tuple[int, int] | None,
    interactive: bool,
) -> dict[str, str]:
    """The environment for a pip (or anything reading NETRC) child: credential-free URLs + netrc."""
    child = without_token_variables(env)
    ours = pip_variables(accesses, with_credentials=False)
    if EXTRA_INDEX_URL in ours and env.get(EXTRA_INDEX_URL):
        # Keep extra indexes the user set in the environment, after ours.
        urls = ours[EXTRA_INDEX_URL].split()
        urls += [u for u in env[EXTRA_INDEX_URL].split() if u not in urls]
        ours[EXTRA_INDEX_URL] = " ".join(urls)
    child.update(ours)
    from privpip.run.delivery.netrc import netrc_environment  # `privpip env` needs no netrc

    child.update(netrc_environment(accesses, env, private_dir, target_version))
    if not interactive:
        # pip asks "User for host:" on a 401 and dies with EOFError without a terminal.
        child.setdefault("PIP_NO_INPUT", "1")
    return child
