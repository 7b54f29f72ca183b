"""`privpip audit`: which names the private indexes own that someone holds on the public index;
with --installed, where each distribution of an environment came from."""

from __future__ import annotations

import click

from privpip.cli.options import CONTEXT, index_option, python_option
from privpip.context import Context
from privpip.errors import UsageError


@click.command(context_settings=CONTEXT)
@index_option("Audit only this configured index (repeatable). Default: all of them.")
@click.option("--public-index", metavar="URL", default=None,
              help="The public index to ask. Default: the config's public-index, else "
              "https://pypi.org/simple/.")
@click.option("--installed", is_flag=True,
              help="Audit an environment instead: where each installed distribution came "
              "from (its PEP 710 record), offline.")
@python_option(help="With --installed: the interpreter or environment directory to audit. "
               "Default: the active virtual or conda environment, else python3 on PATH.")
@click.option("--json", "as_json", is_flag=True, help="With --installed: --format json.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "cyclonedx"]),
              default=None, help="With --installed: text (default), json (a list of objects), "
              "or cyclonedx (a CycloneDX JSON SBOM; needs privpip[sbom]).")
@click.pass_obj
def audit(ctx: Context, indexes: tuple[str, ...], public_index: str | None, installed: bool,
          python: str | None, as_json: bool, fmt: str | None) -> int:
    """Report every package an index owns that also exists on the public index.

    An index owns the names its `packages` key matches, or, without that key, every name its
    simple page lists. For each, the public index is asked for /simple/NAME/:

    \b
      safe    owned, and the public index has no such name
      danger  owned, and someone holds the name on the public index (versions shown):
              `pip --extra-index-url` would install theirs if it is newer
      note    listed by the index but not matched by `packages` (not checked)

    Exit status: 0 all safe, 1 danger found, 2 an index or the public index could not be read.

    With --installed, nothing is asked of any index: each distribution of the environment is
    listed with the index it came from (its provenance_url.json, written by privpip's
    installs), or why that is unknown. A finding (an owned name from another index or with no
    record, a record changed since the install) makes the exit status 1.
    """
    if not installed:
        if python is not None or as_json or fmt is not None:
            raise UsageError("--python, --json and --format go with --installed",
                             "privpip audit --installed --json")
        from privpip.checks import audit as audit_mod

        return audit_mod.run(ctx, indexes, public_index, click.echo)
    if indexes or public_index is not None:
        raise UsageError("--index and --public-index do not go with --installed (it asks no "
                         "index)", "privpip audit --installed [--python PATH] [--json]")
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json and --format {fmt} contradict each other",
                         "give one of them")
    from privpip.checks import origins

    where, sites = origins.environment_dirs(python, ctx.env)
    cfg = ctx.config
    found = origins.audit(sites, cfg.indexes, cfg.public_index)
    fmt = "json" if as_json else fmt or "text"
    if fmt == "json":
        click.echo(origins.dumps(found))
    elif fmt == "cyclonedx":
        from privpip.checks import sbom

        click.echo(sbom.cyclonedx(found))
    else:
        for line in origins.text_lines(found, where):
            click.echo(line)
    return 1 if any(o.finding for o in found) else 0
