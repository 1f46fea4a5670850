"""The ``kb user`` commands: staff accounts (kb.store.users) from the terminal.

The first admin is made here; a password is prompted twice, or read from stdin for scripts.
"""

from __future__ import annotations

import sys

import click

from kb.cli_support import CliError
from kb.cli_support import database
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.store.users import ROLES
from kb.store.users import create_user
from kb.store.users import find_user
from kb.store.users import list_users
from kb.store.users import set_active
from kb.store.users import set_password


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
