"""Blueprint "staff" (/staff): sign-in, the article editor, publishing, admin pages, reports.

This module creates the blueprint and is its URL map.  The views live in modules of their
own: ``auth`` (sign-in, sign-out, own account), ``editor`` (articles, revisions, trash,
images), ``taxonomy`` (categories, synonyms, dialect words), ``admin`` (users, API keys, audit
log, reports), ``brand`` (logo, colour, names, footer links), ``panel_links``,
``widget_settings`` and ``contact_settings``; what they share
(the session, the database, the publisher, :func:`~kb.web.staff.access.admin_required`)
lives in ``access``.  The view modules import only ``access``, never this package or
each other, so nothing imports in a circle: adding a page is a view function in its
module plus one line in ``ROUTES``.

Every page here requires a signed-in, active staff account; admin pages add
``admin_required``.  On every request of the app a valid staff session sets
``g.staff_user``, and an old URL of a renamed article or category answers 301.
Uploaded images are served at ``/media/<path>`` for the whole site.
"""

from __future__ import annotations

from flask import Blueprint

from kb.web.staff import access
from kb.web.staff import admin
from kb.web.staff import auth
from kb.web.staff import brand
from kb.web.staff import contact_settings
from kb.web.staff import editor
from kb.web.staff import panel_links
from kb.web.staff import taxonomy
from kb.web.staff import widget_settings
from kb.web.staff.access import site_changed

__all__ = ["bp", "site_changed"]

GET = ("GET",)
POST = ("POST",)
GET_POST = ("GET", "POST")

# (rule under /staff, view, methods); the endpoint is "staff.<view name>".
ROUTES = (
    ("/login", auth.login, GET_POST),
    ("/logout", auth.logout, POST),
    ("/account", auth.account, GET_POST),
    ("/account/sessions/end-others", auth.end_other_sessions, POST),
    ("/", editor.index, GET),
    ("/articles", editor.articles, GET),
    ("/articles/new", editor.new_article, GET),
    ("/articles/new", editor.create_article, POST),
    ("/articles/<slug>/edit", editor.edit_article, GET),
    ("/articles/<slug>/edit", editor.save_article, POST),
    ("/articles/<slug>/unpublish", editor.unpublish_article, POST),
    ("/articles/<slug>/discard", editor.discard_pending, POST),
    ("/articles/<slug>/delete", editor.delete_article, POST),
    ("/articles/<slug>/preview", editor.preview_article, GET),
    ("/preview", editor.live_preview, POST),
    ("/media", editor.upload_image, POST),
    ("/articles/<slug>/revisions", editor.article_revisions, GET),
    ("/revisions/<int:revision_id>", editor.revision_diff, GET),
    ("/articles/<slug>/revisions/<int:revision_id>/restore", editor.restore_revision, POST),
    ("/trash", editor.trash, GET),
    ("/trash/<int:trash_id>/restore", editor.restore_from_trash, POST),
    ("/categories", taxonomy.categories, GET_POST),
    ("/synonyms", taxonomy.synonyms, GET_POST),
    ("/synonyms/dialect", taxonomy.dialect, POST),
    ("/users", admin.users_page, GET_POST),
    ("/users/<int:user_id>/disable", admin.disable_user, POST),
    ("/users/<int:user_id>/enable", admin.enable_user, POST),
    ("/users/<int:user_id>/role", admin.set_user_role, POST),
    ("/users/<int:user_id>/password", admin.reset_user_password, POST),
    ("/api-keys", admin.api_keys, GET_POST),
    ("/api-keys/<int:key_id>/revoke", admin.revoke_api_key, POST),
    ("/panel-links", panel_links.panel_links_page, GET_POST),
    ("/panel-links/<int:link_id>/revoke", panel_links.revoke_panel_link, POST),
    ("/audit", admin.audit_page, GET),
    ("/reports", admin.reports, GET),
    ("/reports/no-results.csv", admin.zero_results_csv, GET),
    ("/brand", brand.brand_page, GET_POST),
    ("/widget", widget_settings.widget_page, GET_POST),
    ("/widget/remove", widget_settings.remove_widget_origin, POST),
    ("/contact", contact_settings.contact_page, GET_POST),
    ("/contact/test", contact_settings.test_contact_destination, POST),
    ("/contact/messages/<int:message_id>/resend", contact_settings.resend_contact_message, POST),
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
for _rule, _view, _methods in ROUTES:
    bp.add_url_rule(_rule, view_func=_view, methods=list(_methods))

bp.before_app_request(access.load_staff_user)
bp.before_app_request(access.redirect_renamed)
bp.before_request(access.require_sign_in)
bp.after_request(access.no_store)


@bp.record_once
def _add_media_route(state) -> None:
    state.app.add_url_rule("/media/<path:name>", endpoint="media", view_func=access.serve_media)
