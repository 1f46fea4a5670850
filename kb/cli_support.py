"""Helpers shared by the ``kb`` command and the feature modules that add commands to it."""

from __future__ import annotations

import functools
import re
import sys
import time

import click

from kb.arabic_messages import recognise
from kb.config import Settings
from kb.config import load_settings
from kb.errors import KbError
from kb.translation import Message
from kb.translation import translate

_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def settings_from(ctx: click.Context, **overrides) -> Settings:
    """Settings with the group's options (--articles-dir ...) and the command's own applied.

    Without a command's own, they are read once per run (the group reads them for cli_language;
    the command and its database again)."""
    root = ctx.find_root()
    base = dict(root.obj or {})
    own = {k: v for k, v in overrides.items() if v is not None}
    if own:
        return load_settings({**base, **own})
    if "kb.settings" not in root.meta:
        root.meta["kb.settings"] = load_settings(base)
    return root.meta["kb.settings"]


def database(ctx: click.Context):
    """A migrated connection to the configured database (database_url; empty: the SQLite file)."""
    return open_database(ctx).connection()


def open_database(ctx: click.Context, migrate: bool = True):
    """The configured Database (migrated unless ``migrate=False``); a database that cannot be
    reached or migrated is a clear error that says where it is and what to check."""
    from kb.store.db import Database
    from kb.store.db import Error
    from kb.store.db import parse_target

    settings = settings_from(ctx)
    try:
        opened = Database.from_settings(settings, migrate=migrate)
        opened.connection()  # reachable (migrating connected already)
        return opened
    except Error as exc:
        where = parse_target(settings.database_url or settings.database_path).describe()
        reason = " ".join(str(exc).split())
        raise CliError(gettext("cannot use the database: %(reason)s; check database_url (kb.toml or KB_DATABASE_URL) "
                               "and that the database server is running", reason=reason if where in reason else
                               f"{where}: {reason}")) from exc


def _catalog_gettext():
    ctx = click.get_current_context(silent=True)
    catalog = ctx.find_root().meta.get("kb.translations") if ctx else None
    return catalog.gettext if catalog else (lambda message: message)


def gettext(message: str, /, **values) -> str:
    """``message`` in the cli_language catalog (kb.cli sets it up per run), values filled in;
    values that are lower-layer Messages (kb.translation.N_) are translated too."""
    return Message(message, **values).in_language(_catalog_gettext())


def tr(text: str) -> str:
    """A lower layer's message (a ``kb.translation.Message``) in the CLI's language; other text as it is."""
    return translate(text, _catalog_gettext())


def word(value: str) -> str:
    """One of the fixed words the lower layers report (a severity, an import action, "on"),
    or their Message (kb.translation.N_, e.g. "off: <reason>"), in the CLI's language."""
    words = {"error": gettext("error"), "warning": gettext("warning"), "created": gettext("created"),
             "updated": gettext("updated"), "on": gettext("on")}
    return words.get(value, tr(value))


def reasons(messages) -> str:
    """Several lower-layer messages in the CLI's language, one sentence each."""
    return gettext("; ").join(tr(message) for message in messages)


def problem_text(problem) -> str:
    """A ``kb.errors.Problem`` as ``file: field: reason``, its reason in the CLI's language (and
    its field, when it is a Message such as "front matter" rather than a field's own name)."""
    where = f"{problem.file}: {tr(problem.field)}" if problem.field else problem.file
    return f"{where}: {tr(problem.reason)}"


def error_text(message: str) -> str:
    """A KbError's message in the CLI's language: a Message is translated; an Arabic sentence
    of a layer not yet converted is recognised by kb.arabic_messages and shown by its English id."""
    if isinstance(message, Message):
        return tr(message)
    if not _ARABIC_LETTER.search(message):
        return message
    known = recognise(message)  # kb.publishing, kb.taxonomy...: not yet Messages (docs/i18n.md)
    return gettext(known[0], **known[1]) if known else message


class CliError(click.ClickException):
    """click's error exit (message on stderr, exit code 1) with its "Error:" in the CLI's language.

    click shows the error after the command's context has closed: the wording is chosen
    when the error is raised, inside it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.template = gettext("Error: %(message)s")

    def show(self, file=None) -> None:
        click.echo(self.template % {"message": self.format_message()}, file=file, err=file is None)


def handle_errors(func):
    """Turn KbError into click's error output (message, exit code 1), never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            raise CliError(error_text(exc.message)) from exc

    return wrapper


class ProgressPrinter:
    """A one-line progress bar with items/s and an ETA (stderr, redrawn in place)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}
        self.created = time.monotonic()
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        # A stage whose first report is already past its start ran since the previous report
        # (or since the printer was made): counting from now showed "33000000.0/s".
        start = self.started.setdefault(stage, now if done == 0 else (self.last or self.created))
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        elapsed = max(now - start, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        stages = {"embed": gettext("embed"), "keyword": gettext("keyword"), "vectors": gettext("vectors"),
                  "re-embed": gettext("re-embed"), "latent terms": gettext("latent terms")}
        counted = (gettext("%(done)d/%(total)d passages, %(rate).1f/s, about %(eta).0f s left")
                   if stage in ("embed", "latent terms") else
                   gettext("%(done)d/%(total)d articles, %(rate).1f/s, about %(eta).0f s left"))
        counts = counted % {"done": done, "total": total, "rate": rate, "eta": eta}
        line = f"\r{stages.get(stage, stage):8} [{'#' * filled}{'.' * (width - filled)}] {counts}"
        self.stream.write(line + ("\n" if done >= total else ""))
        self.stream.flush()
