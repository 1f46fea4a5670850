"""The ``kb`` command: the group every command hangs on (click, as Flask's CLI uses).

Every command reads the same settings (defaults, kb.toml, KB_* variables) and takes the
most common ones as options.  A ``KbError`` becomes a clear message and exit code 1.
Messages are in the ``cli_language`` setting's language (``KB_CLI_LANGUAGE=ar kb index``),
from the same catalogs as the web interface (kb/translations); --help stays in English.

The commands live in one module per subject and are registered here: kb.cli_content (check,
import), kb.cli_search (index, search), kb.cli_serve (serve), kb.cli_backup (backup, restore,
export), kb.cli_database (db), kb.cli_users (user), kb.cli_apikeys (apikey); their shared
helpers are in kb.cli_support.
"""

from __future__ import annotations

import os
import logging
from pathlib import Path

import click

from kb.cli_apikeys import apikey_group
from kb.cli_backup import backup_command
from kb.cli_backup import export_command
from kb.cli_backup import restore_command
from kb.cli_content import check
from kb.cli_content import import_command
from kb.cli_database import db_group
from kb.cli_search import index
from kb.cli_search import search
from kb.cli_serve import serve
from kb.cli_support import ProgressPrinter  # noqa: F401  (kb.cli.ProgressPrinter: scripts and tests import it here)
from kb.cli_support import settings_from
from kb.cli_users import user_group
from kb.config import config_path


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


cli.add_command(check)
cli.add_command(import_command)
cli.add_command(index)
cli.add_command(search)
cli.add_command(serve)
cli.add_command(backup_command)
cli.add_command(restore_command)
cli.add_command(export_command)
cli.add_command(user_group)
cli.add_command(apikey_group)
cli.add_command(db_group)
