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


def handle_errors(func):
    """Turn KbError into click's error output (message, exit code 1), never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper
