"""Staff page /staff/brand (admins): logo, favicon, primary colour, site name per language,
footer links.  Category icons are chosen on the categories page
(:func:`kb.web.branding.save_category_icons`).

One form, saved in one transaction (kb.brand.BrandStore): every field is checked first and
all problems are shown together; nothing is saved while one is wrong.  A primary colour
with too little contrast is darkened to the nearest colour that passes, and the page says so.
"""

from __future__ import annotations

from dataclasses import replace

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from kb.store import audit
from kb.brand import MAX_ASSET_BYTES
from kb.brand import MIN_CONTRAST
from kb.brand import accessible_color
from kb.brand import clean_asset
from kb.brand import parse_color
from kb.brand import parse_footer_links
from kb.brand import worst_contrast
from kb.errors import KbError
from kb.web import i18n
from kb.web.branding import forget_brand
from kb.web.branding import store
from kb.web.messages import translated
from kb.web.staff.access import admin_required
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.web.staff.access import site_changed

MAX_NAME_CHARS = 80


@admin_required
def brand_page():
    brand = store().load()
    if request.method == "GET":
        return _page(brand, values=_values_of(brand), errors={})
    values = {key: request.form.get(key, "") for key in ("primary_color", "footer_links")}
    values.update({f"site_name_{lang}": request.form.get(f"site_name_{lang}", "").strip() for lang in i18n.languages()})
    errors: dict[str, str] = {}
    color, adjusted = _color(values["primary_color"], errors)
    links = _footer_links(values["footer_links"], errors)
    assets = {name: _asset(name, errors) for name in ("logo", "favicon")}
    if errors:
        return _page(brand, values=values, errors=errors), 400
    names = {lang: values[f"site_name_{lang}"][:MAX_NAME_CHARS] for lang in i18n.languages() if values[f"site_name_{lang}"]}
    changes = {name: value for name, value in assets.items() if value != "keep"}
    saved = store().save(replace(brand, primary_color=color or brand.primary_color, site_names=names,
                                 footer_links=links), changes)  # type: ignore[arg-type]
    forget_brand()
    audit.record(db(), "brand_saved", "brand", current_user(), version=saved.version,
                 assets=sorted(name for name in changes))
    site_changed()
    if adjusted:
        flash(_("The colour %(asked)s had a contrast of %(ratio).1f:1 with white text or the page background "
                "(at least %(minimum).1f:1 is needed to read it), so the nearest darker shade %(used)s is used.",
                asked=adjusted, ratio=worst_contrast(adjusted), minimum=MIN_CONTRAST, used=color), "info")
    flash(_("The brand is saved; every page shows it now."), "success")
    return redirect(url_for("staff.brand_page"))


def _color(value: str, errors: dict[str, str]) -> tuple[str | None, str | None]:
    """(the colour to use, the colour asked for when it had to be darkened)."""
    if not value.strip():
        return None, None
    try:
        asked = parse_color(value)
    except KbError as exc:
        errors["primary_color"] = translated(exc.message)
        return None, None
    used, _ratio = accessible_color(asked)
    return used, (asked if used != asked else None)


def _footer_links(text: str, errors: dict[str, str]):
    try:
        return parse_footer_links(text)
    except KbError as exc:
        errors["footer_links"] = translated(exc.message)
        return ()


def _asset(name: str, errors: dict[str, str]):
    """"keep", None (remove) or (bytes, mime) for an uploaded logo or favicon."""
    if request.form.get(f"remove_{name}"):
        return None
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return "keep"
    try:
        return clean_asset(upload.read(MAX_ASSET_BYTES + 1), upload.filename, name)
    except KbError as exc:
        errors[name] = translated(exc.message)
        return "keep"


def _values_of(brand) -> dict[str, str]:
    values = {"primary_color": brand.primary_color,
              "footer_links": "\n".join(f"{link.label} | {link.url}" for link in brand.footer_links)}
    values.update({f"site_name_{lang}": brand.site_names.get(lang, "") for lang in i18n.languages()})
    return values


def _page(brand, values: dict[str, str], errors: dict[str, str]) -> str:
    return render_template("staff/brand.html", current=brand, values=values, errors=errors, languages=i18n.languages(),
                           min_contrast=MIN_CONTRAST, max_kb=MAX_ASSET_BYTES // 1024)

