"""``kb backup``, ``kb restore`` and ``kb export``: copies of the install and of its collection.

A backup holds the database, the articles and the settings and restores into SQLite or
PostgreSQL; an export writes the collection alone as files, for git.
"""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli_support import ProgressPrinter
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import open_database
from kb.cli_support import settings_from


@click.command("backup", help="Write the database, the articles and the settings (kb.toml, the secret key) into FILE "
             "(.tar.gz), consistent while kb serves; restorable into SQLite or PostgreSQL.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@handle_errors
def backup_command(ctx: click.Context, file: Path) -> None:
    from kb.backup import backup

    # Unreachable or unusable: one clear error naming database_url; else the backup uses it, migrated once.
    report = backup(settings_from(ctx), file, database=open_database(ctx))
    click.echo(gettext("backup written to %(file)s: %(tables)d tables, %(rows)d rows, %(files)d files, %(size)d KB "
                       "in %(seconds).1f s", file=str(report.path), tables=report.tables, rows=report.rows,
                       files=report.files, size=round(report.bytes / 1024), seconds=report.seconds))


@click.command("restore", help="Restore a kb backup FILE into this install's database, articles and data folders, then "
             "rebuild the index; refuses a target with content unless --force. Stop kb serve first.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the target holds (the SQLite file and the articles folder "
              "are moved aside; PostgreSQL's tables are emptied).")
@click.pass_context
@handle_errors
def restore_command(ctx: click.Context, file: Path, force: bool) -> None:
    from kb.backup import restore

    # Reachable, else one clear error; not migrated here (the restore migrates as the backup's schema was).
    report = restore(settings_from(ctx), file, force=force, progress=ProgressPrinter(),
                     database=open_database(ctx, migrate=False))
    click.echo(gettext("restored %(file)s (taken %(created)s from %(source)s): %(rows)d rows, %(files)d files; index "
                       "rebuilt with %(articles)d articles in %(seconds).1f s", file=str(file), created=report.created_at,
                       source=report.source, rows=report.rows, files=report.files, articles=report.articles,
                       seconds=report.seconds))


@click.command("export", help="Write the whole collection (articles, _categories.yml, _synonyms.yml, _dialect.yml, "
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

    settings = settings_from(ctx)
    database = Database.from_settings(settings)
    try:
        written, removed = export_collection(settings.articles_dir, database, target, prune=prune)
    finally:
        database.close()
    click.echo(gettext("exported to %(folder)s: %(written)d file(s) written, %(removed)d removed",
                       folder=str(target), written=written, removed=removed))
