"""Who is signed in, and what the staff views share: the session, the database, the publisher.

The staff route modules (``auth``, ``editor``, ``admin``) import from here and never from
each other or from the package, so there is no import circle; ``kb.web.staff`` creates
the blueprint and attaches the request hooks defined here.

Every staff page requires a signed-in, active staff account (:func:`require_sign_in`);
admin pages add :func:`admin_required`.  On every request of the app, a valid staff
session sets ``g.staff_user`` (the site then shows internal articles and drafts to staff),
and a request for a renamed article or category URL is answered with a 301 to its new URL.
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask import send_file
from flask import session
from flask import url_for

from flask_babel import gettext as _

from kb.content import redirects
from kb.store import staff_sessions
from kb.store import users
from kb.errors import KbError
from kb.content.media import media_file
from kb import publishing
from kb.publishing import Publisher
from kb.web import i18n

SESSION_HOURS = staff_sessions.SESSION_HOURS
_SESSION_KEY = "staff_sid"
# Endpoints reachable without signing in.
OPEN_ENDPOINTS = {"staff.login"}


def db():
    return current_app.extensions["kb_db"].connection()


def publisher() -> Publisher:
    """This request's Publisher; what it refuses names things in the staff UI's language."""
    return Publisher(current_app.extensions["kb"], db(), node=node_id(), lang=i18n.current_language())


def node_id() -> str:
    """This node's name in the change log, worked out once per app rather than per staff
    request (it resolves the index folder and hashes it: kb.publishing.node_id)."""
    extensions = current_app.extensions
    if "kb_node_id" not in extensions:
        extensions["kb_node_id"] = publishing.node_id(extensions["kb"])
    return extensions["kb_node_id"]


def current_user() -> users.User | None:
    return g.get("staff_user")


def site_changed() -> None:
    """Tell the site its public article list changed (it caches the grouping for a while)."""
    try:
        from kb.web.site import invalidate_public_catalog
    except ImportError:  # the site blueprint without the cache
        return
    invalidate_public_catalog()


def sign_in(user: users.User) -> None:
    """Start a fresh session for user (a new session: nothing from before sign-in is kept).

    The cookie holds only the id of a session row (:mod:`kb.store.staff_sessions`), which every
    request checks, so the session can be ended on the server."""
    session.clear()
    session.permanent = True
    session[_SESSION_KEY] = staff_sessions.start(db(), user.id, hours=SESSION_HOURS)


def sign_out() -> None:
    """End this browser's session on the server (a copy of the cookie stops working too)."""
    staff_sessions.end(db(), session.pop(_SESSION_KEY, None))
    g.pop("staff_user", None)


def admin_required(view):
    """Only admins; editors get 403 (the blueprint already requires sign-in)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None or not user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def load_staff_user() -> None:
    """Set g.staff_user for a live session of an active account (on every page of the app).

    A session ended on the server (sign-out, password or role change, disabled account,
    expiry), by any process, is forgotten here: the visitor is anonymous again."""
    session_id = session.get(_SESSION_KEY)
    if session_id is None:
        return
    user_id = staff_sessions.user_id_for(db(), session_id)
    user = users.get_user(db(), user_id) if user_id is not None else None
    if user is None:
        session.pop(_SESSION_KEY, None)
        return
    g.staff_user = user


def redirect_renamed():
    """301 from an article's or category's old URL (left by a rename) to the new one."""
    if request.method not in ("GET", "HEAD") or not request.path.startswith(("/articles/", "/categories/")):
        return None
    parts = request.path.split("/")
    if len(parts) != 3:
        return None
    if parts[1] == "articles" and parts[2] in current_app.extensions["kb"].catalog.articles:
        return None
    target = redirects.target(db(), request.path)
    if target is None:
        return None
    query = request.query_string.decode("latin-1")
    return redirect(request.script_root + quote(target, safe="/") + (f"?{query}" if query else ""), code=301)


def require_sign_in():
    """Staff pages need a signed-in account: a page asks to sign in, a form post gets 401."""
    if request.endpoint in OPEN_ENDPOINTS or current_user() is not None:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("staff.login", next=request.script_root + request.full_path.rstrip("?")))
    raise KbError("sign_in_required", _("Sign in first."), status=401)


def no_store(response):
    """Staff pages carry drafts and CSRF tokens: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def serve_media(name: str):
    """An uploaded image (``articles/_media/``), for the site and the editor."""
    found = media_file(current_app.extensions["kb"].articles_dir, name)
    if found is None:
        abort(404)
    path, mimetype = found
    response = send_file(path, mimetype=mimetype, max_age=365 * 24 * 3600, conditional=True)
    response.headers["Content-Disposition"] = "inline"
    return response
