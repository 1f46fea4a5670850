"""The ``kb apikey`` commands: keys for the agent-assist API (kb.store.apikeys) from the terminal."""

from __future__ import annotations

import click

from kb.cli_support import database
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.store.apikeys import PREFIX_CHARS
from kb.store.apikeys import create_key
from kb.store.apikeys import list_keys
from kb.store.apikeys import revoke_key


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
