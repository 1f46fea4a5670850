"""Messages of the lower layers in the page's language (the ``translated`` filter).

A lower layer's ``N_`` message (kb.content.articles, kb.config, kb.content.importer,
kb.store.users, kb.store.apikeys) is shown by its English id through the catalogs; an Arabic
sentence of a layer that predates them is recognised by :mod:`kb.arabic_messages` (shared with
the CLI) and shown by its catalog translation.  An unknown sentence is shown as it is.
"""

from __future__ import annotations

from flask_babel import gettext

from kb.arabic_messages import recognise
from kb.translation import Message


def translated(message: object) -> str:
    """``message`` in the page's language when it is one of the lower layers' Arabic
    sentences; anything else (already translated, or unknown) as it is."""
    if isinstance(message, Message):  # a lower layer's N_() message: its English id and values
        return message.in_language(gettext)
    text = str(message) if message is not None else ""
    known = recognise(text)
    return gettext(known[0], **known[1]) if known else text


def init_app(app) -> None:
    app.jinja_env.filters["translated"] = translated
