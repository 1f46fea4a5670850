"""The article editor: list, create, edit, publish, unpublish, delete/restore, revisions,
live preview and image upload (views of the staff blueprint, routed in ``kb.web.staff``; the
categories and synonyms editors are :mod:`kb.web.staff.taxonomy`).

Views parse the form, make one call into :class:`kb.publishing.Publisher`, then redirect or
re-render.  A refused save (validation or conflict)
re-renders the editor with everything that was typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kb.content import revisions
from kb.content.articles import AUDIENCES
from kb.content.articles import LANGS
from kb.content.articles import text_checksum
from kb.errors import KbError
from kb.content.media import MAX_IMAGE_BYTES
from kb.content.editing import ArticleForm
from kb.publishing import Conflict
from kb.content.editing import ValidationFailed
from kb.content.render import external_image_urls
from kb.content.render import render_markdown
from kb.text import normalize_arabic
from kb.text import slugify
from kb.web.category_names import category_choices
from kb.web.labels import content_language_label
from kb.web.messages import translated
from kb.web.request_json import json_body
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.web.staff.access import publisher
from kb.web.staff.access import site_changed

STALE_DAYS = 180
STATUS_FILTERS = {"": _l("All statuses"), "published": _l("Published"), "draft": _l("Draft"),
                  "pending": _l("Unpublished changes"), "internal": _l("Internal")}
UPDATED_FILTERS = {"": _l("Any time"), "30": _l("Last 30 days"),
                   "stale": _l("Not updated for %(count)d days", count=STALE_DAYS)}


def _language_labels() -> dict[str, str]:
    """The articles' languages, each named in itself (a language menu's convention)."""
    return {lang: content_language_label(lang) for lang in LANGS}


def _knowledge():
    return current_app.extensions["kb"]


def index():
    return redirect(url_for("staff.articles"))


def articles():
    args = {k: request.args.get(k, "").strip() for k in ("q", "status", "category", "lang", "updated")}
    catalog = _knowledge().catalog
    pending = revisions.slugs_with_pending(db())
    found = [a for a in catalog.articles.values() if _matches(a, args, pending)]
    if args["q"]:
        found = _search_order(found, args["q"])
    else:
        found.sort(key=lambda a: (a.updated or dt.date.min, a.title), reverse=True)
    # (stored name, shown name): the UI's language shows; _matches compares the stored name.
    categories = category_choices([*(a.category for a in catalog.articles.values()), *catalog.categories])
    _flash_index_health()
    _flash_replication_lag()
    return render_template(
        "staff/articles.html", articles=found, args=args, pending=pending, categories=categories,
        status_filters=STATUS_FILTERS, updated_filters=UPDATED_FILTERS, lang_labels=_language_labels(),
        total=len(catalog.articles),
    )


def _flash_index_health() -> None:
    """The staff landing page says when semantic search is off (another model made the
    index's vectors, or the model cannot load) and how far the background re-embedding is."""
    report = _knowledge().health()
    if report.get("status") != "ok" or not report.get("semantic_error"):
        return
    background = report.get("background") or {}
    progress = ""
    if background.get("task") == "re-embedding" and background.get("total"):
        progress = " " + _("Vectors are being recomputed in the background: %(done)d of %(total)d articles.",
                           done=background["done"], total=background["total"])
    elif background.get("task") == "embedding" and background.get("total"):  # a first start (kb.indexer)
        progress = " " + _("Vectors are being computed in the background: %(done)d of %(total)d articles.",
                           done=background["done"], total=background["total"])
    flash(_("Search by meaning is paused; keyword search works: %(reason)s.",
            reason=translated(report["semantic_error"])) + progress, "info")


# A node this far behind the cluster's change log says so on the staff landing page.
LAG_WARNING_SECONDS = 10


def _flash_replication_lag() -> None:
    """This server has not applied every change published on the others yet (kb.replication)."""
    replicator = current_app.extensions.get("kb_replication")
    lag = replicator.status() if replicator is not None else None
    if lag and lag["seconds_behind"] >= LAG_WARNING_SECONDS:
        flash(_("This server is %(seconds)d s behind the other servers (%(changes)d changes not applied yet): the "
                "articles listed here may be out of date; edits are still checked against the latest version.",
                seconds=lag["seconds_behind"], changes=lag["changes_behind"]), "info")


def _matches(article, args: dict, pending: set[str]) -> bool:
    status = args["status"]
    if status in ("published", "draft") and article.status != status:
        return False
    if status == "pending" and article.slug not in pending:
        return False
    if status == "internal" and article.audience != "internal":
        return False
    if args["category"] and article.category != args["category"]:
        return False
    if args["lang"] and article.lang != args["lang"]:
        return False
    if args["updated"] == "30" and (article.updated is None or article.updated < dt.date.today() - dt.timedelta(days=30)):
        return False
    if args["updated"] == "stale" and article.updated is not None and \
            article.updated >= dt.date.today() - dt.timedelta(days=STALE_DAYS):
        return False
    return True


def _search_order(found: list, query: str) -> list:
    """Title/summary/tag matches first, then what keyword search finds (drafts and internal included)."""
    needle = normalize_arabic(query).lower()
    allowed = {a.slug: a for a in found}
    direct = [a for a in found if needle in normalize_arabic(" ".join([a.title, a.summary, a.slug, *a.tags])).lower()]
    try:
        hits = _knowledge().search(query, mode="keyword", limit=50, include_drafts=True, include_internal=True)
    except KbError:
        hits = []
    ranked = direct + [allowed[h.slug] for h in hits if h.slug in allowed]
    return list(dict.fromkeys(ranked))


# -- the editor ----------------------------------------------------------------------------------


def _editor(form: ArticleForm, *, slug: str | None = None, errors=None, conflict: Conflict | None = None,
            token: str = "", status: int = 200):
    opened = publisher().open(slug) if slug else None
    catalog = _knowledge().catalog
    # The categories a save accepts (kb.content.editing.with_listed_category): the listed ones,
    # not the unlisted names some files carry; with no list, the ones articles use (offered in the
    # staff UI's language: editor.html's category_field_name filter).
    listed = sorted(catalog.categories, key=lambda name: catalog.categories[name].order)
    categories = listed or sorted({a.category for a in catalog.articles.values()})
    index_status = _knowledge().index_status(slug, text_checksum(opened.file_text)) if opened else None
    page = render_template(
        "staff/editor.html", form=form, slug=slug, opened=opened, errors=errors or {}, conflict=conflict,
        index_status=index_status, semantic_note=_knowledge().health().get("semantic_error") if opened else None,
        token=token or (opened.token if opened else ""), categories=categories, langs=LANGS, audiences=AUDIENCES,
        max_image_mb=MAX_IMAGE_BYTES // (1024 * 1024),
        preview=render_markdown(form.body) if form.body.strip() else None,
    )
    return page, status


def new_article():
    title = request.args.get("title", "").strip()[:200]
    return _editor(ArticleForm(title=title, slug=slugify(title), category=request.args.get("category", "")))


def create_article():
    form = ArticleForm.from_form(request.form)
    if not form.slug:
        form = replace(form, slug=slugify(form.title))
    action = request.form.get("action", "draft")
    try:
        result = publisher().create(form, action, current_user())
    except ValidationFailed as exc:
        return _editor(form, errors=exc.errors, status=400)
    _flash_saved(result)
    _flash_external_images(form.body)
    return redirect(url_for("staff.edit_article", slug=result.slug))


def edit_article(slug: str):
    opened = publisher().open(slug)
    return _editor(opened.form, slug=slug)


def save_article(slug: str):
    form = ArticleForm.from_form(request.form)
    if not form.slug:
        form = replace(form, slug=slug)
    form = replace(form, extra=publisher().open(slug).form.extra)
    try:
        result = publisher().save(slug, form, request.form.get("action", "draft"), request.form.get("base", ""),
                                  current_user())
    except ValidationFailed as exc:
        return _editor(form, slug=slug, errors=exc.errors, token=request.form.get("base", ""), status=400)
    except Conflict as exc:
        return _editor(form, slug=slug, conflict=exc, token=exc.token, status=409)
    _flash_saved(result)
    _flash_external_images(form.body)
    return redirect(url_for("staff.edit_article", slug=result.slug))


def _flash_external_images(body: str) -> None:
    """Tell the author at once that an image on another site shows as a link (kb.content.render)."""
    urls = external_image_urls(body)
    if urls:
        flash(_("Images from other sites show to readers as a link, not an image (%(count)d): upload them with "
                "“%(upload)s” so readers see them.", count=len(urls), upload=_("Insert an image"))
              + " " + " · ".join(urls[:3]), "info")


def _flash_saved(result) -> None:
    """Say "searchable" only when the index has the article: a failed index update is
    retried in the background, and the editor page shows when it got there."""
    if result.state == "published" and result.index_error:
        flash(_("The article is published and saved, but it has not reached the search results yet: the index update is retried automatically."), "info")
        site_changed()
    elif result.state == "published":
        seconds = f"{result.seconds:.1f}"
        if result.vectors_pending:
            flash(_("The article is published and was in the search results within %(seconds)s s; search by meaning "
                    "catches up within seconds.", seconds=seconds), "success")
        else:
            flash(_("The article is published and was in the search results within %(seconds)s s.", seconds=seconds),
                  "success")
        site_changed()
    elif result.state == "pending":
        flash(_("The changes were saved as a draft. The published version stays as it is until you publish."), "success")
    else:
        flash(_("The draft was saved. Customers do not see it until you publish it."), "success")
        site_changed()
    if result.index_error:
        flash(_("The search index could not be updated now (%(reason)s). The article is saved, and the update is retried automatically until it succeeds.", reason=result.index_error), "error")


def unpublish_article(slug: str):
    publisher().unpublish(slug, current_user())
    site_changed()
    flash(_("The article was unpublished: it is now a draft customers do not see."), "success")
    return redirect(url_for("staff.edit_article", slug=slug))


def discard_pending(slug: str):
    publisher().discard_pending(slug, current_user())
    flash(_("The unpublished changes were discarded."), "info")
    return redirect(url_for("staff.edit_article", slug=slug))


def delete_article(slug: str):
    item = publisher().delete(slug, current_user())
    site_changed()
    flash(_("“%(title)s” was moved to the trash. You can restore it from there.", title=item.title), "success")
    return redirect(url_for("staff.articles"))


def preview_article(slug: str):
    """The article as the editor would publish it (the pending edit if there is one)."""
    opened = publisher().open(slug)
    form = opened.form
    return render_template("staff/preview.html", form=form, slug=slug, opened=opened,
                           body_html=render_markdown(form.body).html, robots="noindex")


def live_preview():
    """Markdown → the site's sanitized HTML, for the editor's live preview pane."""
    body = request.form.get("body")
    if body is None:
        sent = json_body()
        body = sent.get("body", "") if isinstance(sent, dict) else ""
    rendered = render_markdown(str(body))
    return jsonify(html=rendered.html, external_images=list(rendered.external_images))


def upload_image():
    request.max_content_length = MAX_IMAGE_BYTES + 64 * 1024
    upload = request.files.get("image")
    if upload is None:
        raise KbError("no_file", _("Choose an image to upload."), field="image")
    url = publisher().upload_image(upload.filename or "", upload.read(), current_user())
    alt = (request.form.get("alt") or "").strip().replace("]", "") or _("image")
    return jsonify(url=url, markdown=f"![{alt}]({url})")


# -- history and trash ---------------------------------------------------------------------------


def article_revisions(slug: str):
    history = revisions.history(db(), slug)
    if not history and slug not in _knowledge().catalog.articles:
        abort(404)
    article = _knowledge().catalog.articles.get(slug)
    return render_template("staff/revisions.html", slug=slug, article=article, history=history)


def revision_diff(revision_id: int):
    revision = revisions.get(db(), revision_id)
    if revision is None:
        abort(404)
    against_id = request.args.get("against", type=int)
    against = revisions.get(db(), against_id) if against_id else revisions.previous(db(), revision)
    lines = revisions.diff(against.text if against else "", revision.text)
    return render_template("staff/diff.html", revision=revision, against=against, lines=lines)


def restore_revision(slug: str, revision_id: int):
    result = publisher().restore_revision(slug, revision_id, current_user())
    if result.state == "pending":
        flash(_("Revision %(number)d was restored as unpublished changes: review them, then publish.", number=revision_id), "success")
    else:
        flash(_("Revision %(number)d was restored as a draft.", number=revision_id), "success")
    return redirect(url_for("staff.edit_article", slug=slug))


def trash():
    return render_template("staff/trash.html", items=publisher().trash())


def restore_from_trash(trash_id: int):
    try:
        result = publisher().restore_from_trash(trash_id, current_user())
    except KbError as exc:
        if exc.status != 409:
            raise
        flash(translated(exc.message), "error")  # translated now: a flash is kept in the session as text
        return redirect(url_for("staff.trash"))
    site_changed()
    flash(_("The article was restored."), "success")
    return redirect(url_for("staff.edit_article", slug=result.slug))
