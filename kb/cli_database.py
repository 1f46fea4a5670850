"""The ``kb db`` commands: the database's migrations (SQLite or PostgreSQL), applied or checked."""

from __future__ import annotations

import click

from kb.cli_support import CliError
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import open_database


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
