"""The interface language of a request: from the URL, then the browser, then the site default.

Design (docs/i18n.md has the reasons):

- Every UI language has a URL prefix: ``/en/faq``, ``/ar/faq``.  :class:`LanguagePrefix`
  moves the prefix from the path into ``SCRIPT_NAME``, so the routes know nothing of it and
  every ``url_for`` link on the page keeps the visitor in the language they chose.
- A path without a prefix serves the language the browser asks for (``Accept-Language``),
  else ``default_language``, and says so with ``Vary: Accept-Language``; its canonical URL
  is the prefixed one.  The exception is an article page: an article's own URL
  (``/articles/<slug>``) already names a language, the article's, so it is shown in that
  language and is the canonical URL (a translation has its own slug).
- The UI languages are the compiled catalogs in ``kb/translations``: adding a language is
  adding a catalog.  The interface strings are gettext messages (Flask-Babel), in English
  in the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from babel import Locale
from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask_babel import Babel
from flask_babel import force_locale
from flask_babel import gettext
from flask_babel import refresh
from markupsafe import Markup

from kb import translation
from kb.errors import KbError
from kb.translation import TRANSLATIONS_DIR  # noqa: F401 - re-exported for tests and tools

_PREFIX_KEY = "kb.url_language"


def text_direction(lang: str) -> str:
    """'rtl' or 'ltr' for a language code, from CLDR (so a new catalog needs no code)."""
    try:
        return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"
    except (ValueError, TypeError):
        return "ltr"


@lru_cache(maxsize=32)
def language_name(lang: str) -> str:
    """A language's name in that language ('العربية', 'English'): how a switcher labels it."""
    try:
        name = Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, TypeError):
        return lang
    return name[:1].upper() + name[1:]


class LanguagePrefix:
    """WSGI middleware: ``/en/faq`` is the route ``/faq`` with the language ``en``.

    The prefix moves to ``SCRIPT_NAME`` (after any mount point the server gave), so Flask's
    URL building puts it back on every link.  ``/en`` alone redirects to ``/en/``."""

    def __init__(self, wsgi_app, languages: tuple[str, ...]):
        self.wsgi_app = wsgi_app
        self.pattern = re.compile(r"^/(%s)(/.*)?$" % "|".join(re.escape(lang) for lang in languages))

    def __call__(self, environ, start_response):
        match = self.pattern.match(environ.get("PATH_INFO", ""))
        if match:
            lang, rest = match.group(1), match.group(2)
            if rest is None:
                location = environ.get("SCRIPT_NAME", "") + f"/{lang}/"
                start_response("308 Permanent Redirect", [("Location", location), ("Content-Length", "0")])
                return [b""]
            environ[_PREFIX_KEY] = lang
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/{lang}"
            environ["PATH_INFO"] = rest
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask, default_language: str) -> None:
    """Flask-Babel over kb/translations, the prefix middleware, and the per-request language."""
    languages = translation.catalog_languages()
    if default_language not in languages:
        raise KbError("bad_setting", f"Setting 'default_language' must be one of {', '.join(languages)} (the "
                                     f"languages with a catalog in {translation.TRANSLATIONS_DIR}); got "
                                     f"{default_language!r}", field="default_language")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(translation.TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = default_language
    app.extensions["kb_languages"] = (languages, default_language)
    Babel(app, locale_selector=current_language)
    app.wsgi_app = LanguagePrefix(app.wsgi_app, languages)  # type: ignore[method-assign]
    app.after_request(_declare_language)
    app.jinja_env.globals.update(
        text_direction=text_direction, language_name=language_name, switcher=switcher, localized=localized,
        static_path=unprefixed, here=here, article_href=article_href, available_in=available_in,
        script_messages=script_messages, link_start=link_start, link_end=Markup("</a>"),
    )
    app.context_processor(_template_context)


def languages() -> tuple[str, ...]:
    return current_app.extensions["kb_languages"][0]


def default_language() -> str:
    return current_app.extensions["kb_languages"][1]


def url_language() -> str | None:
    """The language named by the URL prefix, or None."""
    return request.environ.get(_PREFIX_KEY) if has_request_context() else None


def current_language() -> str:
    """This request's UI language: URL prefix, else one a view fixed (:func:`use_language`),
    else the browser's best match, else the site default."""
    if not has_request_context():
        return default_language()
    lang = url_language() or g.get("kb_ui_language")
    if lang:
        return lang
    g.kb_negotiated = True
    return request.accept_languages.best_match(languages()) or default_language()


def use_language(lang: str) -> None:
    """A view that knows its page's language (an article without a URL prefix) sets it here,
    before anything is translated."""
    if url_language() is None and lang in languages():
        g.kb_ui_language = lang
        g.pop("kb_negotiated", None)
        refresh()


def _mount_point() -> str:
    """Where the server mounted the app ('' at the root), without the language prefix."""
    base = request.script_root
    lang = url_language()
    return base[: -len(lang) - 1] if lang is not None else base


def localized(path: str, lang: str | None = None) -> str:
    """A site path in a UI language: '/faq' -> '/en/faq' (keeps the server's mount point)."""
    return f"{_mount_point()}/{lang or current_language()}{path}"


def unprefixed(path: str) -> str:
    """A site path with only the server's mount point: static files, shared by every language."""
    return _mount_point() + path


def here(path: str) -> str:
    """A site path under this request's prefix, if any: a link that keeps the language the
    visitor chose in the URL (and leaves an unprefixed page's links unprefixed)."""
    return request.script_root + path


@dataclass(frozen=True)
class Alternate:
    """One entry of the language switcher: the same page (or its translation) in ``lang``."""

    lang: str
    href: str
    name: str
    current: bool


def page_path() -> str:
    """This request's path and query, without the language prefix (what a switcher keeps)."""
    query = request.args.to_dict(flat=False)
    encoded = urlencode(query, doseq=True)
    return request.path + (f"?{encoded}" if encoded else "")


def switcher(targets: dict[str, str] | None = None) -> list[Alternate]:
    """Every UI language, each pointing at this page in it: ``targets`` (lang -> path) where a
    view knows better (an article's translation), else the same path under that language."""
    current = current_language()
    targets = targets or {}
    return [
        Alternate(lang, targets.get(lang) or localized(page_path(), lang), language_name(lang), lang == current)
        for lang in languages()
    ]


def _template_context() -> dict:
    lang = current_language()
    return {"lang": lang, "ui_dir": text_direction(lang)}


def _declare_language(response):
    """Content-Language on every page; Vary when the browser's languages chose it."""
    if request.path.startswith("/api/") or request.path.startswith("/static/"):
        return response
    response.headers.setdefault("Content-Language", current_language())
    if g.get("kb_negotiated"):
        response.vary.add("Accept-Language")
    return response


def article_href(article) -> str:
    """A link to an article from this page: its own URL (shown in its own language), or,
    under a language prefix of another language, the article inside that language."""
    lang = url_language()
    if lang is not None and article.lang != lang:
        return here(article.url)
    return unprefixed(article.url)


def available_in(lang: str) -> str:
    """'Also in English' / 'متوفر بالعربية': a link to a translation is labelled in the
    language it leads to (as language switchers are)."""
    with force_locale(lang):
        # Translators: label of a link to this article in YOUR language, e.g. "Also in English".
        return gettext("Also in this language")


def script_messages() -> dict[str, str]:
    """The few sentences static/js says itself, in this page's language (a JSON block in
    base.html: the scripts are static files, the same in every language)."""
    return {
        "suggestions": gettext("Search suggestions"),
        "suggestionsCount": gettext("Suggestions available: %(count)s. Use the arrow keys to move.", count="{count}"),
        "thanks": gettext("Thank you."),
        "voteFailed": gettext("Your feedback could not be sent now. Try again in a moment."),
        "requestFailed": gettext("The request failed (%(status)s)", status="{status}"),
        "uploading": gettext("Uploading…"),
        "imageInserted": gettext("The image was inserted into the text."),
    }


def link_start(href: str):
    """The opening <a> of a link placed inside a translated sentence (%(link_start)s...)."""
    return Markup('<a href="%s">') % href
