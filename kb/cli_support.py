"""Helpers shared by the ``kb`` command and the feature modules that add commands to it."""

from __future__ import annotations

import functools

import click

from kb.config import Settings
from kb.config import load_settings
from kb.errors import KbError


def settings_from(ctx: click.Context, **overrides) -> Settings:
    """Settings with the group's options (--articles-dir ...) and the command's own applied."""
    base = dict(ctx.find_root().obj or {})
    base.update({k: v for k, v in overrides.items() if v is not None})
    return load_settings(base)


def database(ctx: click.Context):
    """A migrated connection to the configured SQLite database."""
    from kb.db import Database

    return Database(settings_from(ctx).database_path).connection()


def gettext(message: str, **values) -> str:
    """``message`` in the cli_language catalog (kb.cli sets it up per run), values filled in."""
    ctx = click.get_current_context(silent=True)
    catalog = ctx.find_root().meta.get("kb.translations") if ctx else None
    text = catalog.gettext(message) if catalog else message
    return text % values if values else text


def error_text(message: str) -> str:
    """A KbError's message in the CLI's language (the lower layers write some in Arabic)."""
    from kb.web.messages import recognise

    known = recognise(message)
    return gettext(known[0], **known[1]) if known else message


def handle_errors(func):
    """Turn KbError into click's error output (message, exit code 1), never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            raise click.ClickException(error_text(exc.message)) from exc

    return wrapper
