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
