"""`privpip upload DIST...`: twine upload with the index's credentials in TWINE_* variables."""

from __future__ import annotations

import click

from privpip import delivery, pipeline, publish, runner
from privpip import target as target_mod
from privpip.completion import complete_index_names
from privpip.errors import UsageError
from privpip.secret import redact


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--index", "-x", "index_name", shell_complete=complete_index_names, metavar="NAME",
              help="The configured index to upload to. Required when there is more than one.")
@click.option("--python", metavar="PATH",
              help="Run the twine of this interpreter or environment. Default: the active "
              "environment's (else python3 on PATH) when it has twine, else privpip's own.")
@click.argument("dists", nargs=-1, required=True, metavar="DIST...")
@click.pass_obj
def upload(session: pipeline.Session, index_name: str | None, python: str | None,
           dists: tuple[str, ...]) -> None:
    """Upload wheels and sdists to a private index with twine (`python -m twine upload`).

    The upload URL is the index's `upload-url`, else derived from its url (GitLab project
    index: the url without /simple; a server whose url is https://host/simple/: the root).
    Credentials reach twine as TWINE_USERNAME / TWINE_PASSWORD, never on its command line.
    Every file's version is checked (PEP 440) before anything is uploaded.

    \b
      privpip upload dist/*
      privpip upload --index corp dist/corp_lib-1.2.0-py3-none-any.whl dist/corp_lib-1.2.0.tar.gz
    """
    files = publish.collect(dists)
    cfg = session.load_config()
    if index_name is None:
        if len(cfg.indexes) > 1:
            raise UsageError(
                "more than one index is configured; say which one to upload to",
                "pass --index NAME; configured: " + ", ".join(i.name for i in cfg.indexes),
            )
        index_name = cfg.select()[0].name
    url = publish.upload_url(cfg.get(index_name))
    session.note(f"upload URL: {redact(url)}")

    try:
        target_python: str | None = target_mod.find(python, session.env).python
    except UsageError:
        if python:
            raise
        target_python = None
    twine_python = publish.find_twine(target_python)
    session.note(f"twine: {twine_python} -m twine")
    (access,) = pipeline.resolve_accesses(session, [index_name], cfg)  # last: it may prompt

    env = dict(session.env)
    env.pop("TWINE_REPOSITORY", None)  # a .pypirc section name would compete with the URL
    env.update(delivery.twine_variables(access, url))
    argv = [twine_python, "-m", "twine", "upload", "--verbose", "--disable-progress-bar"]
    argv += ["--", *(str(d.path) for d in files)]
    output = publish.TwineOutput(lambda line: click.echo(redact(line), nl=False, err=True),
                                 session.verbose)
    session.note("running: " + " ".join(argv))
    status = runner.run(argv, env, on_output=output)
    if status > 0:
        refused = publish.refusal(output, files, access.index)
        if refused is not None:
            raise refused
    runner.exit_with(status)
