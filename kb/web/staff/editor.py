"""The article editor: list, create, edit, publish, unpublish, delete/restore, revisions,
live preview, image upload, and the categories and synonyms editors (views of the staff blueprint, routed in ``kb.web.staff``).

Views parse the form, make one call into :class:`kb.publishing.Publisher` (or
:mod:`kb.taxonomy`), then redirect or re-render.  A refused save (validation or conflict)
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

from kb import audit
from kb import revisions
from kb import taxonomy
from kb.articles import AUDIENCES
from kb.articles import LANGS
from kb.errors import KbError
from kb.media import MAX_IMAGE_BYTES
from kb.media import save_image
from kb.editing import ArticleForm
from kb.publishing import Conflict
from kb.publishing import file_checksum
from kb.editing import ValidationFailed
from kb.render import external_image_urls
from kb.render import render_markdown
from kb.search.dialect import DIALECTS as DIALECT_NAMES
from kb.text import normalize_arabic
from kb.text import slugify
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.web.staff.access import publisher
from kb.web.staff.access import site_changed

STALE_DAYS = 180
STATUS_FILTERS = {"": "كل الحالات", "published": "منشور", "draft": "مسودة", "pending": "تعديل غير منشور",
                  "internal": "داخلي"}
UPDATED_FILTERS = {"": "أي وقت", "30": "آخر 30 يومًا", "stale": f"لم يُحدَّث منذ {STALE_DAYS} يومًا"}
LANG_LABELS = {"ar": "العربية", "en": "English"}
AUDIENCE_LABELS = {"public": "عام (للعملاء)", "internal": "داخلي (للموظفين فقط)"}


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
    categories = sorted({a.category for a in catalog.articles.values()} | set(catalog.categories))
    _flash_index_health()
    return render_template(
        "staff/articles.html", articles=found, args=args, pending=pending, categories=categories,
        status_filters=STATUS_FILTERS, updated_filters=UPDATED_FILTERS, lang_labels=LANG_LABELS,
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
        progress = f" إعادة حساب المتجهات في الخلفية: {background['done']} من {background['total']} مقال."
    flash(f"البحث بالمعنى متوقف مؤقتًا، والبحث بالكلمات يعمل: {report['semantic_error']}.{progress}", "info")


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
    categories = list(dict.fromkeys([*sorted(catalog.categories, key=lambda n: catalog.categories[n].order),
                                     *sorted({a.category for a in catalog.articles.values()})]))
    index_status = _knowledge().index_status(slug, file_checksum(opened.file_text)) if opened else None
    page = render_template(
        "staff/editor.html", form=form, slug=slug, opened=opened, errors=errors or {}, conflict=conflict,
        index_status=index_status, semantic_note=_knowledge().health().get("semantic_error") if opened else None,
        token=token or (opened.token if opened else ""), categories=categories, langs=LANGS, audiences=AUDIENCES,
        lang_labels=LANG_LABELS, audience_labels=AUDIENCE_LABELS, max_image_mb=MAX_IMAGE_BYTES // (1024 * 1024),
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
    """Tell the author at once that an image on another site shows as a link (kb.render)."""
    urls = external_image_urls(body)
    if urls:
        flash(f"صور من مواقع أخرى تظهر للقراء رابطًا لا صورة ({len(urls)}): ارفعها من «إدراج صورة» ليراها القراء. "
              + " · ".join(urls[:3]), "info")


def _flash_saved(result) -> None:
    """Say "searchable" only when the index has the article: a failed index update is
    retried in the background, and the editor page shows when it got there."""
    if result.state == "published" and result.index_error:
        flash("نُشر المقال وحُفظ، لكنه لم يصل إلى نتائج البحث بعد: يُعاد تحديث الفهرس تلقائيًا.", "info")
        site_changed()
    elif result.state == "published":
        semantic = " والبحث بالمعنى يلحق به خلال ثوانٍ" if result.vectors_pending else ""
        flash(f"نُشر المقال، وصار في نتائج البحث خلال {result.seconds:.1f} ث{semantic}.", "success")
        site_changed()
    elif result.state == "pending":
        flash("حُفظت التعديلات كمسودة. النسخة المنشورة باقية كما هي حتى تنشر.", "success")
    else:
        flash("حُفظت المسودة. لا يراها العملاء حتى تنشرها.", "success")
        site_changed()
    if result.index_error:
        flash(f"تعذّر تحديث فهرس البحث الآن ({result.index_error}). المقال محفوظ، ويُعاد التحديث تلقائيًا حتى ينجح.", "error")


def unpublish_article(slug: str):
    publisher().unpublish(slug, current_user())
    site_changed()
    flash("أُلغي نشر المقال: صار مسودة لا يراها العملاء.", "success")
    return redirect(url_for("staff.edit_article", slug=slug))


def discard_pending(slug: str):
    publisher().discard_pending(slug, current_user())
    flash("تُجوهلت التعديلات غير المنشورة.", "info")
    return redirect(url_for("staff.edit_article", slug=slug))


def delete_article(slug: str):
    item = publisher().delete(slug, current_user())
    site_changed()
    flash(f"نُقل «{item.title}» إلى سلة المحذوفات. يمكنك استعادته من هناك.", "success")
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
        body = (request.get_json(silent=True) or {}).get("body", "")
    rendered = render_markdown(str(body))
    return jsonify(html=rendered.html, external_images=list(rendered.external_images))


def upload_image():
    request.max_content_length = MAX_IMAGE_BYTES + 64 * 1024
    upload = request.files.get("image")
    if upload is None:
        raise KbError("no_file", "اختر صورة لرفعها.", field="image")
    url = save_image(_knowledge().articles_dir, upload.filename or "", upload.read())
    audit.record(db(), "image_uploaded", url, current_user())
    alt = (request.form.get("alt") or "").strip().replace("]", "") or "صورة"
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
        flash(f"استُعيدت النسخة {revision_id} كتعديل غير منشور: راجعها ثم انشرها.", "success")
    else:
        flash(f"استُعيدت النسخة {revision_id} كمسودة.", "success")
    return redirect(url_for("staff.edit_article", slug=slug))


def trash():
    return render_template("staff/trash.html", items=publisher().trash())


def restore_from_trash(trash_id: int):
    try:
        result = publisher().restore_from_trash(trash_id, current_user())
    except KbError as exc:
        if exc.status != 409:
            raise
        flash(exc.message, "error")
        return redirect(url_for("staff.trash"))
    site_changed()
    flash("استُعيد المقال.", "success")
    return redirect(url_for("staff.edit_article", slug=result.slug))


# -- categories and synonyms ------------------------------------------------------------------


def categories():
    articles_dir = _knowledge().articles_dir
    if request.method == "GET":
        return render_template("staff/categories.html", rows=taxonomy.read_categories(articles_dir), errors={},
                               counts=_category_counts())
    rows = taxonomy.rows_from_form(request.form)
    try:
        changed = taxonomy.save_categories(publisher(), rows, current_user())
    except ValidationFailed as exc:
        return render_template("staff/categories.html", rows=rows, errors=exc.errors, counts=_category_counts()), 400
    site_changed()
    flash(f"حُفظت التصنيفات ({changed} مقال تغيّر تصنيفه).", "success")
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
    flash(f"حُفظت المترادفات ({groups} مجموعة)، ويستعملها البحث من الآن.", "success")
    return redirect(url_for("staff.synonyms"))


def dialect():
    text = request.form.get("dialect", "")
    try:
        entries = taxonomy.save_dialect(publisher(), text, current_user())
    except ValidationFailed as exc:
        return _synonyms_page(dialect_text=text, dialect_errors=exc.errors), 400
    flash(f"حُفظت كلمات اللهجات ({entries} مدخل)، ويستعملها البحث من الآن.", "success")
    return redirect(url_for("staff.synonyms") + "#dialect")


def _synonyms_page(lines: str | None = None, errors: dict | None = None, dialect_text: str | None = None,
                   dialect_errors: dict | None = None) -> str:
    """The synonyms page: the synonyms form, and the dialect lexicon (built-in, read-only; local, editable)."""
    articles_dir = _knowledge().articles_dir
    overview = taxonomy.read_dialect(articles_dir)
    return render_template(
        "staff/synonyms.html", lines=taxonomy.read_synonyms_lines(articles_dir) if lines is None else lines,
        errors=errors or {}, dialect=overview, dialect_text=overview.local_text if dialect_text is None else dialect_text,
        dialect_errors=dialect_errors or {}, dialect_names=DIALECT_NAMES,
    )
