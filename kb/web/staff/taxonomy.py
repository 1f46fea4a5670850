"""The categories, synonyms and dialect editors (views of the staff blueprint, routed in
``kb.web.staff``): the pages over :mod:`kb.taxonomy`, which checks and writes
``_categories.yml``, ``_synonyms.yml`` and ``_dialect.yml`` through the Publisher's write path.

A refused save (:class:`~kb.content.editing.ValidationFailed`) re-renders the page with
everything that was typed and each error beside its row.
"""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flask_babel import ngettext

from kb import taxonomy
from kb.content.editing import ValidationFailed
from kb.web import i18n
from kb.web.branding import save_category_icons
from kb.web.labels import dialect_names
from kb.web.staff.access import current_user
from kb.web.staff.access import publisher
from kb.web.staff.access import site_changed


def _knowledge():
    return current_app.extensions["kb"]


def categories():
    articles_dir = _knowledge().articles_dir
    # The names in the default language are the rows' own; the other interface languages get a column each.
    languages = tuple(lang for lang in i18n.languages() if lang != i18n.default_language())
    if request.method == "GET":
        return render_template("staff/categories.html", rows=taxonomy.read_categories(articles_dir), errors={},
                               counts=_category_counts(), languages=languages)
    rows = taxonomy.rows_from_form(request.form, languages)
    try:
        changed = taxonomy.save_categories(publisher(), rows, current_user())
    except ValidationFailed as exc:
        return render_template("staff/categories.html", rows=rows, errors=exc.errors, counts=_category_counts(),
                               languages=languages), 400
    save_category_icons(request.form.getlist("slug"), request.form.getlist("icon"))
    site_changed()
    flash(ngettext("The categories were saved (%(num)d article changed category).", "The categories were saved (%(num)d articles changed category).", changed), "success")
    return redirect(url_for("staff.categories"))


def _category_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for article in _knowledge().catalog.articles.values():
        counts[article.category] = counts.get(article.category, 0) + 1
    return counts


def synonyms():
    articles_dir = _knowledge().articles_dir
    if request.method == "GET":
        return _synonyms_page(lines=taxonomy.read_synonyms_lines(articles_dir))
    lines = request.form.get("synonyms", "")
    try:
        groups = taxonomy.save_synonyms(publisher(), lines, current_user())
    except ValidationFailed as exc:
        return _synonyms_page(lines=lines, errors=exc.errors), 400
    flash(ngettext("The synonyms were saved (%(num)d group); search uses them from now on.", "The synonyms were saved (%(num)d groups); search uses them from now on.", groups), "success")
    return redirect(url_for("staff.synonyms"))


def dialect():
    text = request.form.get("dialect", "")
    try:
        entries = taxonomy.save_dialect(publisher(), text, current_user())
    except ValidationFailed as exc:
        return _synonyms_page(dialect_text=text, dialect_errors=exc.errors), 400
    flash(ngettext("The dialect words were saved (%(num)d entry); search uses them from now on.", "The dialect words were saved (%(num)d entries); search uses them from now on.", entries), "success")
    return redirect(url_for("staff.synonyms") + "#dialect")


def _synonyms_page(lines: str | None = None, errors: dict | None = None, dialect_text: str | None = None,
                   dialect_errors: dict | None = None) -> str:
    """The synonyms page: the synonyms form, and the dialect lexicon (built-in, read-only; local, editable)."""
    articles_dir = _knowledge().articles_dir
    overview = taxonomy.read_dialect(articles_dir)
    return render_template(
        "staff/synonyms.html", lines=taxonomy.read_synonyms_lines(articles_dir) if lines is None else lines,
        errors=errors or {}, dialect=overview, dialect_text=overview.local_text if dialect_text is None else dialect_text,
        dialect_errors=dialect_errors or {}, dialect_names=dialect_names(),
    )
