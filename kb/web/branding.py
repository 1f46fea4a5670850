"""The brand on every page: template values, the theme stylesheet, the logo and the favicon.

``init_app(app)`` (called by the factory) adds:

- ``brand`` to every template (a :class:`kb.brand.Brand`, read once per request: one small
  row, so a change made in another server process shows on the next page), ``site_name``
  in the page's language (:func:`site_name`), and ``category_icon(slug)``;
- ``/brand/theme.css``: the CSS custom properties of the primary colour (a stylesheet, as
  the Content-Security-Policy allows no inline styles);
- ``/brand/logo`` and ``/brand/favicon``: the uploaded images.  SVGs were sanitized on
  upload (kb.svgsafe); they are also served with a CSP that allows nothing to run, in case
  someone opens the file itself.

Their URLs carry the brand's version (``?v=``), so they are cached for a year and a save
still shows at once.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from kb.brand import CATEGORY_ICONS
from kb.brand import Brand
from kb.brand import BrandStore
from kb.brand import theme_colors

DEFAULT_CATEGORY_ICON = "book"
# What each bundled icon shows, for the icon menu of the staff categories page.
ICON_LABELS = {
    "book": _l("Book"), "box": _l("Box"), "card": _l("Payment card"), "cart": _l("Shopping cart"),
    "chart": _l("Chart"), "chat": _l("Chat"), "gear": _l("Settings"), "globe": _l("Globe"), "lock": _l("Lock"),
    "mail": _l("Mail"), "megaphone": _l("Announcements"), "phone": _l("Phone"), "question": _l("Question"),
    "refund": _l("Refund"), "shield": _l("Security"), "star": _l("Star"), "tag": _l("Tag"), "truck": _l("Delivery"),
    "user": _l("Account"), "users": _l("Team"),
}
LONG_CACHE = "public, max-age=31536000, immutable"
ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def init_app(app: Flask) -> None:
    app.add_url_rule("/brand/theme.css", "brand_theme", theme_css)
    app.add_url_rule("/brand/<any(logo, favicon):name>", "brand_asset", brand_asset)
    app.context_processor(_template_values)


def store() -> BrandStore:
    return BrandStore(current_app.extensions["kb_db"].connection())


def current_brand() -> Brand:
    """This request's brand (read from the database once per request)."""
    if "kb_brand" not in g:
        g.kb_brand = store().load()
    return g.kb_brand


def forget_brand() -> None:
    """After a save in this request: the next read sees it."""
    g.pop("kb_brand", None)


def site_name(lang: str | None = None) -> str:
    """The help center's name in ``lang`` (default: the page's language).

    The brand's name for that language (staff brand page), else ``site_name`` when the
    settings give one, else "Help Center" from the catalogs in that language: the built-in
    default is the Arabic catalog's wording, so it would put an Arabic name on English pages.
    """
    lang = lang or _page_language()
    named = current_brand().site_names.get(lang)
    if named:
        return named
    configured = current_app.extensions["kb_settings"].site_name
    if configured:
        return configured
    if lang == _page_language():
        return gettext("Help Center")
    with force_locale(lang):
        return gettext("Help Center")


def _page_language() -> str:
    try:
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None:
            return locale.language
    except Exception:  # no Babel on this app (tests of lower layers): the default below
        pass
    settings = current_app.extensions.get("kb_settings")
    return getattr(settings, "default_language", "ar")


def _template_values() -> dict:
    brand = current_brand()

    def asset_href(name: str) -> str | None:
        asset = brand.assets.get(name)
        return url_for("brand_asset", name=name, v=asset.sha256) if asset else None

    def category_icon(slug: str) -> str:
        return brand.category_icons.get(slug, DEFAULT_CATEGORY_ICON)

    return {
        "brand": brand,
        "site_name": site_name(),
        "brand_logo_url": asset_href("logo"),
        "brand_favicon": (asset_href("favicon"), brand.assets["favicon"].mime) if "favicon" in brand.assets else None,
        "brand_theme_url": None if brand.is_default_color else url_for("brand_theme", v=brand.version),
        "category_icon": category_icon,
        "category_icons": CATEGORY_ICONS,
        "icon_labels": ICON_LABELS,
    }


def theme_css() -> Response:
    brand = current_brand()
    rules = "".join(f"  {name}: {value};\n" for name, value in theme_colors(brand.primary_color).items())
    response = Response(f"/* kb brand, version {brand.version} */\n:root {{\n{rules}}}\n", mimetype="text/css")
    response.headers["Cache-Control"] = LONG_CACHE
    return response


def brand_asset(name: str) -> Response:
    found = store().asset(name)
    if found is None:
        abort(404)
    data, mime = found
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = LONG_CACHE
    response.headers["Content-Security-Policy"] = ASSET_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def save_category_icons(slugs: list[str], icons: list[str]) -> None:
    """The icon chosen for each category on the staff categories page (unknown names are ignored)."""
    chosen = {slug: icon for slug, icon in zip(slugs, icons) if slug and icon in CATEGORY_ICONS}
    brand = store().load()
    if chosen != brand.category_icons:
        store().save(replace(brand, category_icons=chosen))
        forget_brand()
