"""`privpip upload DIST...`: twine upload with the index's credentials in TWINE_* variables."""

from __future__ import annotations

import click

from privpip.cli.options import CONTEXT, index_option, python_option
from privpip.context import Context


@click.command(context_settings=CONTEXT)
@index_option("The configured index to upload to. Required when there is more than one.",
              multiple=False, dest="index_name")
@python_option(
              help="Run the twine of this interpreter or environment. Default: the active "
              "environment's (else python3 on PATH) when it has twine, else privpip's own.")
@click.argument("dists", nargs=-1, metavar="[DIST]...")
@click.pass_obj
def upload(ctx: Context, index_name: str | None, python: str | None,
           dists: tuple[str, ...]) -> int:
    """Upload wheels and sdists to a private index with twine (`python -m twine upload`).

    With no DIST, every .whl, .tar.gz and .zip file in ./dist is uploaded (as `uv publish`
    does). twine is the target environment's, else privpip's own, else `twine` on PATH.

    The upload URL is the index's `upload-url`, else derived from its url (GitLab project
    index: the url without /simple; a server whose url is https://host/simple/: the root).
    Credentials reach twine as TWINE_USERNAME / TWINE_PASSWORD, never on its command line.
    Every file's version is checked (PEP 440) before anything is uploaded.

    \b
      privpip upload                  everything in ./dist
      privpip upload --index corp dist/*
      privpip upload --index corp dist/corp_lib-1.2.0-py3-none-any.whl dist/corp_lib-1.2.0.tar.gz
    """
    from privpip.core import identity
    from privpip.core.secret import redact, redact_argv
    from privpip.errors import UsageError
    from privpip.run import pipeline, runner
    from privpip.run import target as target_mod
    from privpip.run.delivery import twine

    files = twine.collect(dists or twine.default_dists(ctx.cwd))
    cfg = ctx.config
    if index_name is None:
        if len(cfg.indexes) > 1:
            raise UsageError(
                "more than one index is configured; say which one to upload to",
                "pass --index NAME; configured: " + ", ".join(i.name for i in cfg.indexes),
            )
        index_name = cfg.select()[0].name
    url = twine.upload_url(cfg.get(index_name))
    ctx.note(f"upload URL: {redact(url)}")

    try:
        target_python: str | None = target_mod.find(python, ctx.env).python
    except UsageError:
        if python:
            raise
        target_python = None
    twine_command = twine.find_twine(target_python, ctx.env)
    ctx.note("twine: " + " ".join(twine_command))
    if identity.same_origin(cfg.get(index_name).url, url):
        (access,) = pipeline.resolve_accesses(ctx, [index_name])  # last: it may prompt
    else:  # the index's token stays on its origin
        access = twine.upload_access(cfg.get(index_name), url, ctx.env)
        ctx.note(f"index {index_name}: upload token from {access.credential.source}"
                 if access.credential else f"index {index_name}: no credential needed")

    env = dict(ctx.env)
    env.pop("TWINE_REPOSITORY", None)  # a .pypirc section name would compete with the URL
    env.update(twine.twine_variables(access, url))
    argv = [*twine_command, "upload", "--verbose", "--disable-progress-bar"]
    argv += ["--", *(str(d.path) for d in files)]
    output = twine.TwineOutput(lambda line: click.echo(redact(line), nl=False, err=True),
                                 ctx.verbose)
    ctx.note("running: " + redact_argv(argv))  # URL userinfo masked
    status = runner.run(argv, env, on_output=output)
    if status > 0:
        refused = twine.refusal(output, files, access.index)
        if refused is not None:
            raise refused
    return status
