"""`privpip serve`: the routing local index as a long-running service on loopback."""

from __future__ import annotations

import click

from privpip.cli.options import CONTEXT, index_option
from privpip.context import Context


@click.command(context_settings=CONTEXT,
               short_help="Serve the private indexes as one local index on loopback.")
@index_option()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on your own loopback address (0: a free one).")
@click.pass_obj
def serve(ctx: Context, indexes: tuple[str, ...], port: int) -> None:
    """Serve the private indexes as one index on loopback until Ctrl-C.

    For tools privpip cannot wrap (an IDE, `docker build --network host`, tox, Poetry):
    the same routing as `privpip install` (an owned package comes only from its index,
    tokens stay in privpip), behind a credential made for this session and printed here.
    It listens on your own address in 127.0.0.0/8 (printed below) and answers only your
    user's connections; problems of the indexes are printed as they happen.

    \b
      privpip serve --port 8765
      PIP_INDEX_URL=http://USER:PASSWORD@127.A.B.C:8765/simple/ pip install corp-lib
    """
    import signal
    import threading

    from privpip.run import pipeline
    from privpip.run.delivery import local

    accesses = pipeline.resolve_accesses(ctx, indexes)
    routed = pipeline.route(ctx, accesses, None, "install", None, pip=False, uv=False)
    configured = {i.name: i.env_name for i in ctx.config.indexes}
    fix = pipeline.refusal_fix(ctx, accesses)

    def log(line: str) -> None:
        if line.startswith("problem: "):
            return  # printed below, named with its fix
        ctx.note(line)

    index = local.new_index(ctx.env, routed, log, port)
    shown = 0
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with index:
            url = local.authenticated_url(index)
            click.echo(f"privpip: serving {len(routed.upstreams)} index(es) at {index.url}")
            click.echo(f"  user:     {index.username}")
            click.echo(f"  password: {index.password.reveal()}  (valid until this stops)")
            click.echo(f"  pip:      PIP_INDEX_URL={url}")
            click.echo(f"  uv:       UV_DEFAULT_INDEX={url}")
            click.echo(f"  netrc:    machine {index.host} login {index.username} "
                       f"password {index.password.reveal()}")
            click.echo("Ctrl-C stops it.", err=True)
            try:
                while not stop.wait(0.5):
                    problems = index.problems()
                    for problem in problems[shown:]:
                        click.echo(local.describe(problem, routed.origins, configured, fix),
                                   err=True)
                    shown = len(problems)
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("privpip: stopped", err=True)
