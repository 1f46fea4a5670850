"""The ``kb`` command: check, import, index, search, serve (click, as Flask's CLI uses).

Every command reads the same settings (defaults, kb.toml, KB_* variables) and takes the
most common ones as options.  A ``KbError`` becomes a clear message and exit code 1.
Messages are in the ``cli_language`` setting's language (``KB_CLI_LANGUAGE=ar kb index``),
from the same catalogs as the web interface (kb/translations); --help stays in English.
"""

from __future__ import annotations

import json
import os
import logging
import sys
import time
from pathlib import Path

import click

from kb.cli_support import CliError
from kb.cli_support import database
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import open_database
from kb.cli_support import problem_text
from kb.cli_support import settings_from
from kb.cli_support import tr
from kb.config import config_path
from kb.store.apikeys import PREFIX_CHARS
from kb.store.apikeys import create_key
from kb.store.apikeys import list_keys
from kb.store.apikeys import revoke_key
from kb.store.users import ROLES
from kb.store.users import create_user
from kb.store.users import find_user
from kb.store.users import list_users
from kb.store.users import set_active
from kb.store.users import set_password


_settings = settings_from


def _word(value: str) -> str:
    """One of the fixed words the lower layers report (a severity, an import action, "on"),
    or their Message (kb.translation.N_, e.g. "off: <reason>"), in the CLI's language."""
    words = {"error": gettext("error"), "warning": gettext("warning"), "created": gettext("created"),
             "updated": gettext("updated"), "on": gettext("on")}
    return words.get(value, tr(value))


def _reasons(messages) -> str:
    """Several lower-layer messages in the CLI's language, one sentence each."""
    return gettext("; ").join(tr(message) for message in messages)


def _reported_by_the_command(record: logging.LogRecord) -> bool:
    """False for a log record the command prints itself, in its language (``extra={"reported":
    True}``): shown once, not again in English; ``--verbose`` keeps every record."""
    return not getattr(record, "reported", False)


def _use_cli_language(ctx: click.Context) -> None:
    from kb.errors import KbError
    from kb.translation import translations

    try:
        language = settings_from(ctx).cli_language
    except KbError:  # another setting is bad: the command reports it, in the language asked for
        language = _raw_cli_language()
    try:
        ctx.meta["kb.translations"] = translations(language)
    except KbError as exc:  # a language without a catalog: said once, in English, which every catalog has
        click.echo(exc.message, err=True)


def _raw_cli_language() -> str:
    """cli_language as KB_CLI_LANGUAGE or kb.toml give it, read without the other settings
    (one of them is bad, and its error must still come in the language the user chose)."""
    import tomllib

    if "KB_CLI_LANGUAGE" in os.environ:
        return os.environ["KB_CLI_LANGUAGE"]
    try:
        config = tomllib.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "en"
    return str(config.get("cli_language", "en"))


@click.group(help="kb: an Arabic-first knowledge base with hybrid keyword + semantic search.")
@click.option("--articles-dir", type=click.Path(path_type=Path), help="Articles folder (default: articles).")
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (default: index).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder (default: data).")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def cli(ctx: click.Context, articles_dir, index_dir, data_dir, verbose) -> None:
    root = logging.getLogger()
    theirs = list(root.handlers)  # an embedding program's (a test runner's): left as they are
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not verbose:
        for handler in root.handlers:
            if handler not in theirs:
                handler.addFilter(_reported_by_the_command)
    ctx.obj = {k: v for k, v in {"articles_dir": articles_dir, "index_dir": index_dir, "data_dir": data_dir}.items() if v}
    _use_cli_language(ctx)


@cli.command(help="Validate every article, _categories.yml, _synonyms.yml and _dialect.yml; exit 1 on errors.")
@click.pass_context
@handle_errors
def check(ctx: click.Context) -> None:
    from kb.content.articles import load_articles
    from kb.config import missing_backend
    from kb.errors import Problem
    from kb.search.dialect import load_local as load_dialect
    from kb.search.synonyms import load_synonyms

    settings = _settings(ctx)
    catalog = load_articles(settings.articles_dir, settings.max_article_bytes)
    _, synonym_problems = load_synonyms(settings.articles_dir)
    _, dialect_problems = load_dialect(settings.articles_dir)
    problems = catalog.problems + synonym_problems + dialect_problems + _external_image_problems(catalog, settings)
    backend_problem = missing_backend(settings)
    if backend_problem:  # would turn semantic search off at the next start
        problems.insert(0, Problem("settings", "embedding_backend", backend_problem))
    for problem in problems:
        click.echo(gettext("%(severity)s: %(problem)s", severity=_word(problem.severity), problem=problem_text(problem)),
                   err=problem.severity == "error")
    errors = [p for p in problems if p.severity == "error"]
    click.echo(gettext("%(articles)d articles, %(errors)d errors, %(warnings)d warnings",
                       articles=len(catalog.articles), errors=len(errors), warnings=len(problems) - len(errors)))
    if errors:
        sys.exit(1)


def _external_image_problems(catalog, settings) -> list:
    """A warning per image on another site: the page shows a link instead (kb.content.render)."""
    from kb.errors import Problem
    from kb.content.render import external_image_urls
    from kb.translation import N_

    root = settings.articles_dir
    return [
        Problem(str(a.path.relative_to(root)) if a.path.is_relative_to(root) else str(a.path), "body",
                N_("image %(url)s is on another site: readers see a link, not the image (upload it in the editor, or "
                   "copy it under the articles folder)", url=url), severity="warning")
        for a in catalog.articles.values() for url in external_image_urls(a.body)
    ]


@cli.command("import", help="Import text, Markdown or HTML files as draft articles (a file imported before is "
                             "skipped, or updates its draft if nobody edited it; never overwrites an edit).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", help="Name or slug of a category in _categories.yml (default: عام, added to the list if "
                                 "missing).")
@click.pass_context
@handle_errors
def import_command(ctx: click.Context, files: tuple[Path, ...], category: str | None) -> None:
    from collections import Counter

    from kb.content.importer import import_files

    settings = _settings(ctx)
    results = import_files(files, settings.articles_dir, category=category)
    for result in results:
        if result.action == "failed":
            click.echo(gettext("failed: %(file)s: %(reason)s", file=result.source, reason=_reasons(result.problems)),
                       err=True)
            continue
        if result.action in ("unchanged", "kept"):
            click.echo(gettext("skipped: %(file)s: %(reason)s", file=result.source, reason=_reasons(result.notes)))
            continue
        click.echo(gettext("%(action)s: %(path)s (slug %(slug)s, title: %(title)s, category: %(category)s)",
                           action=_word(result.action), path=result.path, slug=result.slug, title=result.title,
                           category=result.category))
        for problem in result.problems:
            click.echo("  " + gettext("warning: %(problem)s", problem=problem))
        for note in result.notes:
            click.echo(f"  {tr(note)}")
    count = Counter(result.action for result in results)
    skipped = count["unchanged"] + count["kept"]
    summary = [gettext("%(count)d imported as drafts", count=count["created"])]
    if count["updated"]:
        summary.append(gettext("%(count)d updated", count=count["updated"]))
    if skipped:
        summary.append(gettext("%(count)d skipped (imported before)", count=skipped))
    summary.append(gettext("%(count)d failed", count=count["failed"]))
    click.echo(gettext(", ").join(summary))
    if count["failed"]:
        sys.exit(1)


class ProgressPrinter:
    """A one-line progress bar with items/s and an ETA (stderr, redrawn in place)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        start = self.started.setdefault(stage, now)
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        elapsed = max(now - start, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        stages = {"embed": gettext("embed"), "keyword": gettext("keyword"), "vectors": gettext("vectors"),
                  "re-embed": gettext("re-embed")}
        counted = (gettext("%(done)d/%(total)d passages, %(rate).1f/s, about %(eta).0f s left") if stage == "embed" else
                   gettext("%(done)d/%(total)d articles, %(rate).1f/s, about %(eta).0f s left"))
        counts = counted % {"done": done, "total": total, "rate": rate, "eta": eta}
        line = f"\r{stages.get(stage, stage):8} [{'#' * filled}{'.' * (width - filled)}] {counts}"
        self.stream.write(line + ("\n" if done >= total else ""))
        self.stream.flush()


@cli.command(help="Build or update the search indexes (only changed articles, or --full).")
@click.option("--full", is_flag=True, help="Rebuild everything into a new index generation.")
@click.pass_context
@handle_errors
def index(ctx: click.Context, full: bool) -> None:
    from kb.knowledge import KnowledgeBase

    settings = _settings(ctx)
    knowledge = KnowledgeBase.from_settings(settings)
    if knowledge.semantic_error:
        click.echo(gettext("warning: semantic search is off, keyword index only: %(reason)s",
                           reason=knowledge.semantic_error), err=True)
    for problem in knowledge.catalog.errors:
        click.echo(gettext("skipped: %(problem)s", problem=problem_text(problem)), err=True)
    report = knowledge.index(full=full, progress=ProgressPrinter())
    if report.reason:
        if report.full:
            click.echo(gettext("full rebuild: %(reason)s", reason=report.reason))
        else:
            click.echo(gettext("vectors re-embedded: %(reason)s", reason=report.reason))
    click.echo(gettext("%(articles)d articles, %(passages)d passages, %(vectors)d vectors (added %(added)d, changed "
                 "%(changed)d, deleted %(deleted)d) in %(seconds).1f s; semantic search %(semantic)s",
                 articles=report.articles, passages=report.passages, vectors=report.vectors, added=report.added,
                 changed=report.changed, deleted=report.deleted, seconds=report.seconds,
                 semantic=_word(str(report.semantic))))
    if report.pending_vectors:
        click.echo(gettext("%(count)d article(s) searchable by keyword only until their vectors are embedded (by the "
                           "next 'kb index' with the model, or a running server)", count=report.pending_vectors))
    cut = knowledge.answer_cut()
    if cut.source == "setting":
        calibrated = f"{report.answer_threshold}" if report.answer_threshold is not None else gettext("none")
        click.echo(gettext("no-answer threshold: %(threshold).4f (answer_threshold setting; calibrated: "
                           "%(calibrated)s)", threshold=cut.threshold, calibrated=calibrated))
    elif report.answer_threshold is not None:
        click.echo(gettext("no-answer threshold: %(threshold).4f (calibrated for these articles and this model)",
                     threshold=report.answer_threshold))
    else:
        click.echo(gettext("no-answer threshold: none (needs the embedding model; keyword evidence decides alone)"))
    if cut.landmarks is not None:
        click.echo(gettext("no-answer landmarks: %(probes)d off-topic probes, %(own)d of the articles' own questions",
                           probes=len(cut.landmarks.offtopic), own=len(cut.landmarks.inside)))


@cli.command("export", help="Write the whole collection (articles, _categories.yml, _synonyms.yml, _dialect.yml, "
             "images) as files into DIR, for git: the database's copy when it holds the collection, else the "
             "articles folder.")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Also remove the collection's files in DIR that it no longer has "
              "(deleted or renamed articles); nothing else in DIR is touched.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, target: Path, prune: bool) -> None:
    from kb.replication.collection import export_collection
    from kb.store.db import Database

    settings = _settings(ctx)
    database = Database.from_settings(settings)
    try:
        written, removed = export_collection(settings.articles_dir, database, target, prune=prune)
    finally:
        database.close()
    click.echo(gettext("exported to %(folder)s: %(written)d file(s) written, %(removed)d removed",
                       folder=str(target), written=written, removed=removed))


@cli.command(help="Search the articles from the terminal.")
@click.argument("query")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), help="Default: the search_mode setting.")
@click.option("--limit", default=10, show_default=True)
@click.option("--category", help="Category slug to search in.")
@click.option("--lang", type=click.Choice(["ar", "en"]))
@click.option("--include-drafts", is_flag=True)
@click.option("--include-internal", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
@handle_errors
def search(ctx: click.Context, query: str, mode, limit, category, lang, include_drafts, include_internal, as_json) -> None:
    import re
    from html import unescape

    from kb.knowledge import KnowledgeBase

    settings = _settings(ctx)
    knowledge = KnowledgeBase.from_settings(settings)
    knowledge.ensure_index()
    page = knowledge.search_page(query, mode=mode, limit=limit, category=category, lang=lang,
                                 include_drafts=include_drafts, include_internal=include_internal)
    if as_json:
        click.echo(json.dumps({"query": query, "mode": page.mode, "total": page.total, "did_you_mean": page.did_you_mean,
                               "results": [h.to_dict() for h in page.hits]}, ensure_ascii=False, indent=2))
        return
    if page.did_you_mean:
        click.echo(gettext("Did you mean: %(suggestion)s?", suggestion=page.did_you_mean))
    if not page.hits:
        click.echo(gettext("no results"))
    matched_by = {"keyword": gettext("keyword"), "semantic": gettext("semantic"), "both": gettext("both")}
    for rank, hit in enumerate(page.hits, 1):
        snippet = unescape(re.sub(r"</?mark>", "*", hit.snippet))
        click.echo(f"{rank}. {hit.title}  [{hit.score:.3f} {matched_by.get(hit.matched_by, hit.matched_by)}]")
        click.echo(f"   {hit.section_url or hit.url}" + (f"  § {hit.section}" if hit.section else ""))
        click.echo(f"   {snippet}")


@cli.command(help="Run the web site and API (waitress; --dev for Flask's reloader).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 5000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes sharing the port (each loads the model and the index; a dead one is replaced).")
@click.option("--dev", is_flag=True, help="Flask development server with the reloader.")
@click.option("--access-log", is_flag=True, help="Print one line per request (client, method, path, status, bytes, ms).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host, port, workers, dev, access_log) -> None:
    from kb.cli_support import error_text
    from kb.config import missing_backend
    from kb.errors import KbError
    from kb.translation import N_

    settings = _settings(ctx, host=host, port=port)
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

    def serve_here(sock) -> None:
        app = _start_serving(settings)
        serve_socket(_wsgi_app(app, access_log), sock, settings.threads)

    if workers == 1:
        serve_here(sock)
        return
    from kb.cli_support import open_database
    from kb.serving import START_FAILED
    from kb.serving import Supervisor
    from kb.store.secrets import app_secret_key

    database = open_database(ctx)  # migrations once, before the workers (unreachable: one clear error)
    try:
        app_secret_key(settings, database)  # made once (each worker would also make it race-free)
    finally:
        database.close()  # no connection crosses the fork

    def worker(sock) -> None:
        try:
            serve_here(sock)
        except KbError as exc:
            click.echo(gettext("Error: %(message)s", message=error_text(exc.message)), err=True)
            sys.exit(START_FAILED)

    click.echo(gettext("starting %(count)d worker processes", count=workers))
    if Supervisor(sock, workers, worker).run():
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
    click.echo(gettext("%(summary)s; semantic search %(semantic)s", summary=_reasons(node.started.summary_parts()),
                       semantic=_word(str(node.started.index.semantic))))
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


# -- backups ----------------------------------------------------------------------------------


@cli.command("backup", help="Write the database, the articles and the settings (kb.toml, the secret key) into FILE "
             "(.tar.gz), consistent while kb serves; restorable into SQLite or PostgreSQL.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@handle_errors
def backup_command(ctx: click.Context, file: Path) -> None:
    from kb.backup import backup
    from kb.cli_support import open_database

    # Unreachable or unusable: one clear error naming database_url; else the backup uses it, migrated once.
    report = backup(_settings(ctx), file, database=open_database(ctx))
    click.echo(gettext("backup written to %(file)s: %(tables)d tables, %(rows)d rows, %(files)d files, %(size)d KB "
                       "in %(seconds).1f s", file=str(report.path), tables=report.tables, rows=report.rows,
                       files=report.files, size=round(report.bytes / 1024), seconds=report.seconds))


@cli.command("restore", help="Restore a kb backup FILE into this install's database, articles and data folders, then "
             "rebuild the index; refuses a target with content unless --force. Stop kb serve first.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the target holds (the SQLite file and the articles folder "
              "are moved aside; PostgreSQL's tables are emptied).")
@click.pass_context
@handle_errors
def restore_command(ctx: click.Context, file: Path, force: bool) -> None:
    from kb.backup import restore
    from kb.cli_support import open_database

    # Reachable, else one clear error; not migrated here (the restore migrates as the backup's schema was).
    report = restore(_settings(ctx), file, force=force, progress=ProgressPrinter(),
                     database=open_database(ctx, migrate=False))
    click.echo(gettext("restored %(file)s (taken %(created)s from %(source)s): %(rows)d rows, %(files)d files; index "
                       "rebuilt with %(articles)d articles in %(seconds).1f s", file=str(file), created=report.created_at,
                       source=report.source, rows=report.rows, files=report.files, articles=report.articles,
                       seconds=report.seconds))


# -- the `kb user` commands -----------------------------------------------------------------


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    while True:  # click's confirmation_prompt says its mismatch in English only
        password = click.prompt(gettext("Password"), hide_input=True)
        if click.prompt(gettext("Repeat for confirmation"), hide_input=True) == password:
            return password
        click.echo(gettext("Error: the two passwords do not match."), err=True)


@click.group("user", help="Manage staff accounts (editors and admins).")
def user_group() -> None:
    pass


@user_group.command("create", help="Add a staff account; the password is prompted (or read from stdin).")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
@handle_errors
def user_create_command(ctx: click.Context, email: str, role: str, password_stdin: bool) -> None:
    user = create_user(database(ctx), email, _read_password(password_stdin), role)
    created = gettext("created admin %(email)s") if user.is_admin else gettext("created editor %(email)s")
    click.echo(created % {"email": user.email})


@user_group.command("list", help="List staff accounts.")
@click.pass_context
def user_list_command(ctx: click.Context) -> None:
    users = list_users(database(ctx))
    for user in users:
        role = gettext("admin") if user.is_admin else gettext("editor")
        state = gettext("active") if user.active else gettext("disabled")
        last = gettext("last sign-in: %(time)s", time=user.last_login_at) if user.last_login_at else gettext(
            "never signed in")
        click.echo(f"{user.email}\t{role}\t{state}\t{last}")
    if not users:
        click.echo(gettext("no users yet: kb user create EMAIL --role admin"))


def _set_active_command(active: bool):
    @click.argument("email")
    @click.pass_context
    @handle_errors
    def command(ctx: click.Context, email: str) -> None:
        db = database(ctx)
        user = find_user(db, email)
        if user is None:
            raise CliError(gettext("no user %(email)s", email=email))
        set_active(db, user.id, active)
        click.echo(gettext("enabled %(email)s", email=user.email) if active else
                   gettext("disabled %(email)s", email=user.email))

    return command


user_group.command("disable", help="Disable an account (and end its sessions).")(_set_active_command(False))
user_group.command("enable", help="Enable a disabled account.")(_set_active_command(True))


@user_group.command("reset-password", help="Set a new password (prompted, or read from stdin).")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
@handle_errors
def user_reset_password_command(ctx: click.Context, email: str, password_stdin: bool) -> None:
    db = database(ctx)
    user = find_user(db, email)
    if user is None:
        raise CliError(gettext("no user %(email)s", email=email))
    set_password(db, user.id, _read_password(password_stdin))
    click.echo(gettext("password changed for %(email)s", email=user.email))


# -- the `kb apikey` commands ----------------------------------------------------------------


@click.group("apikey", help="Create, list and revoke keys for the agent-assist API (/api/v1).")
def apikey_group() -> None:
    pass


@apikey_group.command("create", help="Create a key and print it once (only its hash is kept).")
@click.option("--name", required=True, help="Who or what uses the key, e.g. the helpdesk's name.")
@click.option("--rate-limit", type=click.IntRange(min=1), help="Requests per minute (default: the api_rate_limit setting).")
@click.pass_context
@handle_errors
def apikey_create_command(ctx: click.Context, name: str, rate_limit: int | None) -> None:
    key, secret = create_key(database(ctx), name, rate_limit)
    click.echo(secret)
    click.echo(gettext("created key %(id)d (%(prefix)s...) for %(name)r; copy it now: it cannot be shown again.",
                       id=key.id, prefix=key.prefix, name=key.name), err=True)


@apikey_group.command("list", help="List keys: id, prefix, name, created, last used, revoked.")
@click.pass_context
@handle_errors
def apikey_list_command(ctx: click.Context) -> None:
    keys = list_keys(database(ctx))
    if not keys:
        click.echo(gettext("no API keys; create one with: kb apikey create --name NAME"))
        return
    ident, prefix, created, used = gettext("id"), gettext("prefix"), gettext("created at"), gettext("last used")
    limit, status, name = gettext("limit"), gettext("status"), gettext("name")
    click.echo(f"{ident:>4}  {prefix:{PREFIX_CHARS}}  {created:20}  {used:20}  {limit:>6}  {status:8}  {name}")
    for key in keys:
        status = gettext("active") if key.active else gettext("revoked")
        limit = str(key.rate_limit) if key.rate_limit else "-"
        click.echo(f"{key.id:>4}  {key.prefix}  {key.created_at:20}  {key.last_used_at or '-':20}  {limit:>6}  {status:8}  {key.name}")


@apikey_group.command("revoke", help="Revoke a key by its id or prefix; it stops working at once.")
@click.argument("key")
@click.pass_context
@handle_errors
def apikey_revoke_command(ctx: click.Context, key: str) -> None:
    revoked = revoke_key(database(ctx), key)
    click.echo(gettext("revoked key %(id)d (%(prefix)s...) %(name)r at %(time)s", id=revoked.id, prefix=revoked.prefix,
                       name=revoked.name, time=revoked.revoked_at))


# -- the `kb db` commands ----------------------------------------------------------------------


@click.group("db", help="The database (database_url: SQLite by default, or PostgreSQL): migrations and checks.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply the migrations not applied yet and print them (safe while other kb "
                                  "processes start: each migration runs once).")
@click.pass_context
@handle_errors
def db_upgrade_command(ctx: click.Context) -> None:
    database = open_database(ctx)
    for name in database.migrated:
        click.echo(gettext("applied: %(migration)s", migration=name))
    click.echo(gettext("database %(where)s is up to date (%(count)d migrations applied now, in %(seconds).2f s)",
                       where=database.describe(), count=len(database.migrated), seconds=database.migration_seconds))
    database.close()


@db_group.command("check", help="Connect to the database and list applied and pending migrations; exit 1 when it "
                                "cannot be reached or migrations are pending.")
@click.pass_context
@handle_errors
def db_check_command(ctx: click.Context) -> None:
    from kb.store.migrate import migration_status

    database = open_database(ctx, migrate=False)
    status = migration_status(database.connection())
    database.close()
    click.echo(gettext("database: %(where)s (%(dialect)s)", where=database.describe(), dialect=database.dialect))
    for name in status.applied:
        click.echo(gettext("applied: %(migration)s", migration=name))
    for name in status.pending:
        click.echo(gettext("pending: %(migration)s", migration=name))
    for name in status.unknown:
        click.echo(gettext("warning: %(migration)s is applied but unknown to this version of kb (the database was "
                           "upgraded by a newer one)", migration=name), err=True)
    if status.pending:
        raise CliError(gettext("migrations pending: %(count)d; run `kb db upgrade` (kb serve also applies them when it "
                               "starts)", count=len(status.pending)))
    click.echo(gettext("up to date"))


cli.add_command(user_group)
cli.add_command(apikey_group)
cli.add_command(db_group)
