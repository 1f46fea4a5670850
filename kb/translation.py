"""The interface-string catalogs (kb/translations) for code outside a web request: the CLI.

The web layer reads the same catalogs through Flask-Babel (kb.web.i18n); this module only
needs the standard library, so the ``kb`` command does not load Flask to print a line.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from kb.errors import KbError

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def catalog_languages(translations_dir: Path | None = None) -> tuple[str, ...]:
    """The languages with a compiled catalog (``<lang>/LC_MESSAGES/messages.mo``), sorted."""
    return _languages_in(translations_dir or TRANSLATIONS_DIR)


@lru_cache(maxsize=8)
def _languages_in(translations_dir: Path) -> tuple[str, ...]:
    return tuple(sorted(path.parent.parent.name for path in translations_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")))


@lru_cache(maxsize=8)
def translations(lang: str, setting: str = "cli_language") -> gettext.GNUTranslations:
    """The compiled catalog of ``lang``; a language without one is a clear error naming the setting."""
    if lang not in catalog_languages():
        raise KbError("bad_setting", f"Setting {setting!r} must be one of {', '.join(catalog_languages())} (the "
                                     f"languages with a catalog in {TRANSLATIONS_DIR}); got {lang!r}", field=setting)
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as compiled:
        return gettext.GNUTranslations(compiled)


class Message(str):
    """An interface message written by a layer below the web and the CLI: it reads as its
    English text (logs, JSON, tests, ``str()``), and keeps its message id and values so the
    edge that shows it (a page, the ``kb`` command) can put it in its reader's language.

    ``N_("unknown field %(name)s", name="x")`` marks it for the catalogs (pybabel extracts
    ``N_``) without choosing a language: the lower layers know no reader, and must not load
    Flask to find one.  Values may be Messages themselves; they are translated too.
    """

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values) -> "Message":
        message = super().__new__(cls, msgid % values if values else msgid)
        message.msgid = msgid
        message.values = values
        return message

    def __reduce__(self):  # pickled or copied (dataclasses.replace keeps it; a process pool needs it)
        return _message, (self.msgid, self.values)

    def in_language(self, gettext) -> str:
        """The message in the language of ``gettext`` (a catalog's or Flask-Babel's), values filled in.

        Not named ``translate``: that would shadow ``str.translate``, which text normalization
        calls on any string, a Message included."""
        values = {name: translate(value, gettext) for name, value in self.values.items()}
        text = gettext(self.msgid)
        return text % values if values else text


def _message(msgid: str, values: dict) -> Message:
    return Message(msgid, **values)


N_ = Message


def translate(text, gettext):
    """``text`` in ``gettext``'s language when it is a Message; anything else as it is."""
    return text.in_language(gettext) if isinstance(text, Message) else text


def os_error(exc: OSError) -> str:
    """Why a file could not be read or written, as a Message for the common causes (the
    operating system's own words, ``strerror``, are English whatever the CLI language)."""
    import errno

    known = {
        errno.ENOENT: N_("the file does not exist"),
        errno.EACCES: N_("permission denied"),
        errno.EPERM: N_("permission denied"),
        errno.EISDIR: N_("it is a folder, not a file"),
        errno.ENOSPC: N_("the disk is full"),
        errno.EROFS: N_("the file system is read-only"),
        errno.ENAMETOOLONG: N_("the file name is too long"),
    }
    return known.get(exc.errno) or exc.strerror or str(exc)
