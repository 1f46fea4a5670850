"""Names of the catalog's fixed values (status, audience, article language) in the interface
language: the words staff and site pages show for ``published``, ``internal``, ``en``...

Lazy strings, so they are translated when a page renders, in that page's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kb.web.i18n import language_name

STATUS_LABELS = {"published": _l("Published"), "draft": _l("Draft")}
AUDIENCE_LABELS = {"public": _l("Public (customers)"), "internal": _l("Internal (staff only)")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def audience_label(audience: str) -> str:
    return str(AUDIENCE_LABELS.get(audience, audience))


def content_language_label(lang: str) -> str:
    """An article's language, named in its own language ('العربية', 'English') as a language
    menu does, whatever the interface language."""
    return language_name(lang)


def init_app(app) -> None:
    app.jinja_env.globals.update(status_label=status_label, audience_label=audience_label,
                                 content_language_label=content_language_label)
