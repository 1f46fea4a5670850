"""Blueprint "contact": the contact page that answers before it sends (``/contact``).

The customer types the question; the page shows the articles that answer it (as they type
with ``static/js/contact.js``, or after "Show answers" without JavaScript).  Opening one is
noted; if they still send, the message is stored with the articles shown and a background
:class:`~kb.contact_delivery.Courier` delivers it where the admin said (``/staff/contact``).

``/contact?q=...&lang=ar|en&source=widget`` is the URL the help widget's last step opens:
``q`` fills the question (and shows its answers at once), ``lang`` picks the interface
language when the URL has no ``/en/`` prefix, ``source`` tells the reports where it came
from.  Public pages, no account and no cookie needed (the send is checked by origin,
as the article vote is), rate-limited per client.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from kb.contact import MAX_MESSAGE_CHARS
from kb.contact import MAX_NAME_CHARS
from kb.contact import ContactStore
from kb.contact_delivery import Courier
from kb.errors import KbError
from kb.urls import absolute_url
from kb.web import i18n
from kb.web.branding import site_name
from kb.web.category_names import category_name
from kb.web.messages import translated
from kb.web.security import public_form
from kb.web.security import rate_limit

bp = Blueprint("contact", __name__)

ARTICLES_SHOWN = 5
MIN_QUESTION_CHARS = 3  # shorter text is no question yet: nothing is looked up or counted
SENDS_PER_MINUTE = 5
_SETUP_LOCK = threading.Lock()


class ContactDesk:
    """What this blueprint keeps per app (in ``app.extensions["kb_contact"]``)."""

    def __init__(self, app):
        settings = app.extensions["kb_settings"]
        self.app = app
        self.store = ContactStore(app.extensions["kb_db"])
        self.courier = Courier(self.store, self.site_name)
        # Per-minute limits of one client, counted in the app's shared storage (security.rate_limit).
        self.lookups = settings.site_rate_limit * 5  # one call per pause in typing
        self.sends = SENDS_PER_MINUTE
        self.resumed = False

    def site_name(self) -> str:
        """The help center's name in the site's default language (the subject of e-mails)."""
        with self.app.app_context():
            return site_name(self.app.extensions["kb_settings"].default_language)


def desk() -> ContactDesk:
    """This app's contact store, courier and limiters (made on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("kb_contact")
    if found is None:
        with _SETUP_LOCK:
            found = app.extensions.setdefault("kb_contact", ContactDesk(app))
    return found


@bp.before_app_request
def _resume_delivery() -> None:
    """After a restart, messages stored but not yet delivered are picked up again."""
    contact = current_app.extensions.get("kb_contact") or desk()
    if not contact.resumed:
        contact.resumed = True
        if contact.store.next_due() is not None:
            contact.courier.wake()


@bp.app_template_global()
def contact_deflection(days: int | None):
    """The reports page's contact-form numbers (kb.contact.Deflection)."""
    return desk().store.deflection(days)


def _use_requested_language() -> str:
    lang = request.values.get("lang", "")
    if lang in i18n.languages():
        i18n.use_language(lang)
    return i18n.current_language()


def _source() -> str:
    return "widget" if request.values.get("source") == "widget" else "site"


def _question(name: str = "q") -> str:
    return request.values.get(name, "").strip()[:MAX_MESSAGE_CHARS]


def _find(question: str) -> list:
    """The public articles that answer the question (never drafts or internal ones)."""
    if len(question.split()) == 0:
        return []
    try:
        page = current_app.extensions["kb"].search_page(question[:current_app.extensions["kb_settings"].max_query_chars],
                                                        limit=ARTICLES_SHOWN)
    except KbError:
        return []
    return page.hits if page.reason != "no_answer" else []


def _remember_shown(token: str | None, question: str, hits: list) -> str | None:
    """Start or extend this visit's ask (a question typed counts as asked, answered or not);
    returns its token (None: no question yet)."""
    store = desk().store
    slugs = [hit.slug for hit in hits]
    if token and store.update_ask(token, question, slugs):
        return token
    if len(question) < MIN_QUESTION_CHARS:
        return None
    return store.start_ask(question, i18n.current_language(), _source(), slugs)


def _open_url(hit, token: str | None) -> str:
    anchor = hit.section_url.split("#", 1)[1] if hit.section_url and "#" in hit.section_url else None
    return url_for("contact.open_article", slug=hit.slug, ask=token, section=anchor)


def _page(question: str, hits: list, token: str | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "site/contact.html", question=question, hits=hits, ask=token, values=values, errors=errors,
        source=_source(), open_url=_open_url, max_message=MAX_MESSAGE_CHARS, max_name=MAX_NAME_CHARS,
        robots="noindex", canonical_url=None,
    ), status


@bp.get("/contact")
def contact_page():
    _use_requested_language()
    question = _question()
    hits, token = [], None
    if question:
        rate_limit("contact", desk().lookups)
        hits = _find(question)
        token = _remember_shown(request.args.get("ask"), question, hits)
    return _page(question, hits, token, {"message": question}, {})


@bp.get("/contact/articles")
def articles():
    """The articles for what the customer typed so far (JSON for static/js/contact.js)."""
    _use_requested_language()
    question = _question()
    rate_limit("contact", desk().lookups)
    hits = _find(question) if len(question) >= MIN_QUESTION_CHARS else []
    token = _remember_shown(request.args.get("ask"), question, hits)
    return jsonify(_answers(hits, token))


def _answers(hits: list, token: str | None) -> dict:
    return {
        "ask": token,
        "articles": [{"slug": hit.slug, "title": hit.title, "snippet": hit.snippet, "lang": hit.lang,
                      "dir": i18n.text_direction(hit.lang), "section": hit.section, "category": category_name(hit.category),
                      "url": _open_url(hit, token)} for hit in hits],
    }


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/contact/open/<slug>")
def open_article(slug: str):
    """Note that the visitor opened an article shown for their question, then go there."""
    found = current_app.extensions["kb"].catalog.articles.get(slug)
    if found is None or not found.is_public:
        abort(404)
    desk().store.record_open(request.args.get("ask"), found.slug)
    target = i18n.article_href(found)
    section = quote(request.args.get("section", ""), safe="%-._~")  # an anchor, percent-encoded already
    return redirect(target + (f"#{section}" if section else ""), code=303)


@bp.post("/contact")
@public_form
def send():
    _use_requested_language()
    contact = desk()
    values = {name: request.form.get(name, "").strip() for name in ("name", "email", "message")}
    token = request.form.get("ask") or None
    if request.form.get("website"):  # the honeypot field people never see: a bot filled it
        return redirect(url_for("contact.sent"), code=303)
    if not token and not request.form.get("confirm"):
        # No answers were shown yet (no JavaScript): show them first, sending stays one click away.
        hits = _find(values["message"])
        if hits:
            token = _remember_shown(None, values["message"], hits)
            if _wants_json():  # a script's send: the answers first, status "answers" (send again with ask)
                return jsonify({"status": "answers", **_answers(hits, token)})
            return _page(values["message"], hits, token, values, {})
    rate_limit("contact-send", contact.sends)
    try:
        message_id = contact.store.submit(token, values["name"], values["email"], values["message"],
                                          i18n.current_language(), _source(), _shown_articles(token))
    except KbError as exc:
        if _wants_json():
            return jsonify({"error": {"code": exc.code, "message": translated(exc.message), "field": exc.field}}), 400
        return _page(values["message"], [], token, values, {exc.field or "message": translated(exc.message)}, 400)
    contact.courier.wake()
    if _wants_json():
        return jsonify({"id": message_id, "status": "received"}), 201
    return redirect(url_for("contact.sent", source=_source() if _source() != "site" else None), code=303)


def _shown_articles(token: str | None) -> list[dict]:
    """The articles shown for this ask, as the message keeps them (title and public URL)."""
    catalog = current_app.extensions["kb"].catalog.articles
    base_url = current_app.extensions["kb_settings"].base_url
    shown = []
    for slug in desk().store.shown_slugs(token):
        article = catalog.get(slug)
        if article is not None:
            shown.append({"slug": slug, "title": article.title, "url": absolute_url(base_url, article.url)})
    return shown


@bp.get("/contact/sent")
def sent():
    _use_requested_language()
    return render_template("site/contact.html", sent=True, robots="noindex", canonical_url=None, source=_source(),
                           title=_("Message sent"))
