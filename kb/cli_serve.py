"""``kb serve``: the web site and API in one process, or N worker processes on one socket.

The only command that starts the web app (kb.web), so the only CLI module that imports it.
"""

from __future__ import annotations

import os
import sys

import click

from kb.cli_support import CliError
from kb.cli_support import ProgressPrinter
from kb.cli_support import error_text
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import open_database
from kb.cli_support import reasons
from kb.cli_support import settings_from
from kb.cli_support import word


@click.command(help="Run the web site and API (waitress; --dev for Flask's reloader).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 5000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes sharing the port (each loads the model and the index; a dead one is replaced).")
@click.option("--dev", is_flag=True, help="Flask development server with the reloader.")
@click.option("--access-log", is_flag=True, help="Print one line per request (client, method, path, status, bytes, ms).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host, port, workers, dev, access_log) -> None:
    from kb.config import missing_backend
    from kb.errors import KbError
    from kb.translation import N_

    settings = settings_from(ctx, host=host, port=port)
    backend_problem = missing_backend(settings)
    if backend_problem:  # an install step left out, not a model that failed to load: say it now
        raise KbError("embedding_backend_missing", backend_problem)
    if dev:
        app = _start_serving(settings, threads=os.environ.get("WERKZEUG_RUN_MAIN") == "true")
        app.run(host=settings.host, port=settings.port, debug=True)
        return
    from kb.serving import listening_socket
    from kb.serving import serve_socket

    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:
        raise KbError("port_in_use", N_("cannot listen on %(host)s:%(port)s: %(reason)s", host=settings.host,
                                        port=settings.port, reason=exc.strerror or str(exc))) from exc

    def serve_here(sock, shared_readings=None) -> None:
        app = _start_serving(settings)
        if shared_readings is not None:  # the workers of this server share the model's readings of questions
            app.extensions["kb"].question_memo.share_through(shared_readings)
        serve_socket(_wsgi_app(app, access_log), sock, settings.threads)

    if workers == 1:
        serve_here(sock)
        return
    from kb.serving import START_FAILED
    from kb.serving import Supervisor
    from kb.store.secrets import app_secret_key

    database = open_database(ctx)  # migrations once, before the workers (unreachable: one clear error)
    try:
        app_secret_key(settings, database)  # made once (each worker would also make it race-free)
    finally:
        database.close()  # no connection crosses the fork

    # What the model read of recent questions, shared by the workers for this server's lifetime
    # (kb.search.shared_readings): a question asked again on another worker is not read again.
    from kb.search.shared_readings import server_readings

    with server_readings() as shared_readings:

        def worker(sock) -> None:
            try:
                serve_here(sock, shared_readings)
            except KbError as exc:
                click.echo(gettext("Error: %(message)s", message=error_text(exc.message)), err=True)
                sys.exit(START_FAILED)

        click.echo(gettext("starting %(count)d worker processes", count=workers))
        failed = Supervisor(sock, workers, worker).run()
    if failed:
        raise CliError(gettext("a worker could not start (see its error above)"))


def _start_serving(settings, threads: bool = True):
    """The app with everything a serving process runs started (kb.serving.start_node), and
    what the start did said in the CLI's language."""
    from kb.serving import start_node
    from kb.web import create_app

    app = create_app(settings)
    knowledge = app.extensions["kb"]
    node = start_node(app, progress=ProgressPrinter(), threads=threads)
    if node.removed_temp_files:
        click.echo(gettext("removed %(count)d temp file(s) of interrupted article writes: %(files)s",
                           count=len(node.removed_temp_files), files=", ".join(node.removed_temp_files[:5])))
    click.echo(gettext("%(summary)s; semantic search %(semantic)s", summary=reasons(node.started.summary_parts()),
                       semantic=word(node.started.index.semantic)))
    if knowledge.semantic_error:
        click.echo(gettext("warning: semantic search is off, keyword search only: %(reason)s",
                           reason=knowledge.semantic_error), err=True)
    click.echo(gettext("kb is serving %(count)d articles on %(url)s", count=len(knowledge.catalog.articles),
                       url="http://" + settings.host + ":" + str(settings.port)))
    return app


def _wsgi_app(app, access_log: bool):
    from kb.log_limits import limit_queue_warnings

    limit_queue_warnings()  # waitress warns of a queued request per request under load: once a minute
    if not access_log:
        return app
    from kb.access_log import AccessLog
    from kb.access_log import print_access_log

    print_access_log(sys.stdout)
    return AccessLog(app)
