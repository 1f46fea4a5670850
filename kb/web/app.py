"""Application factory: settings -> KnowledgeBase + Database -> Flask app with blueprints.

One error handler serves every blueprint: requests under ``/api/`` always get the JSON
error shape ``{"error": {"code", "message", "field"?}}``, everything else an HTML page in
the request's interface language (``templates/errors/``).  A blueprint may still register its own handlers; Flask
tries those first for errors raised in its views.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from kb.config import Settings
from kb.config import load_settings
from kb.store.db import Database
from kb.store.secrets import app_secret_key
from kb.store import rate_limits
from kb.errors import KbError
from kb.knowledge import KnowledgeBase
from kb.web import branding
from kb.web import caching
from kb.web import category_names
from kb.web import i18n
from kb.web import labels
from kb.web import messages
from kb.web import proxy
from kb.web import security

logger = logging.getLogger(__name__)

# Titles for the HTTP errors a visitor can meet (translated when the page renders).
ERROR_TITLES = {
    400: _l("Invalid request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Request method not allowed"),
    413: _l("Request too large"),
    429: _l("Too many requests"),
    500: _l("An unexpected error occurred"),
    503: _l("Service temporarily unavailable"),
}
ERROR_MESSAGES = {
    404: _l("The page may have moved or been deleted. Try searching for what you need."),
    413: _l("The data sent is larger than allowed."),
    500: _l("Sorry, something went wrong on our side. Try again in a moment, and contact support if it happens again."),
    503: _l("The service is unavailable right now. Try again in a moment."),
}


def create_app(settings: Settings | None = None, knowledge: KnowledgeBase | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.  Everything it uses hangs off ``app.extensions`` (no module globals):
    ``app.extensions["kb"]`` the KnowledgeBase, ``["kb_settings"]`` the Settings,
    ``["kb_db"]`` the Database, ``["kb_analytics"]`` the Analytics store, ``["kb_rate_limits"]`` the
    shared per-minute counters (kb.store.rate_limits).  The WSGI app reads X-Forwarded-* only
    through the ``trusted_proxies`` hops (kb.web.proxy)."""
    from kb.store.analytics import Analytics

    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=7 * 24 * 3600,  # static URLs carry a content hash (asset_url)
    )
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["kb_settings"] = settings
    app.extensions["kb"] = knowledge or KnowledgeBase.from_settings(settings)
    app.extensions["kb_db"] = Database.from_settings(settings)
    if not app.config.get("SECRET_KEY"):  # one key for every process and node (kb.store.secrets)
        app.config["SECRET_KEY"] = app_secret_key(settings, app.extensions["kb_db"])
    app.extensions["kb_analytics"] = Analytics(app.extensions["kb_db"])
    app.extensions["kb_rate_limits"] = rate_limits.from_settings(settings, app.extensions["kb_db"])
    app.wsgi_app = proxy.wrap(app.wsgi_app, settings)  # type: ignore[method-assign]  # client from trusted hops only

    security.init_app(app)
    i18n.init_app(app, settings.default_language)
    labels.init_app(app)
    messages.init_app(app)
    caching.init_app(app)
    branding.init_app(app)
    category_names.init_app(app)
    _init_templates(app, settings)
    _init_error_handlers(app)

    from kb.web import agent_panel
    from kb.web import api
    from kb.web import contact
    from kb.web import site
    from kb.web import staff
    from kb.web import widget

    app.register_blueprint(site.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(agent_panel.bp)
    app.register_blueprint(contact.bp)
    app.register_blueprint(widget.bp)
    return app


CONTACT_ENDPOINT = "contact.contact_page"


def _init_templates(app: Flask, settings: Settings) -> None:
    """Globals every template may use: site name, support link, lang, ``asset_url``."""
    hashes: dict[str, str] = {}

    def asset_url(filename: str) -> str:
        """A static file's URL with a short content hash, so browsers may cache it for long."""
        if filename not in hashes:
            path = Path(app.static_folder or "") / filename
            try:
                hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            except OSError:
                hashes[filename] = "0"
        # One URL in every language (no /en/ prefix), so the browser caches it once.
        return i18n.unprefixed(f"{app.static_url_path}/{quote(filename)}?v={hashes[filename]}")

    app.jinja_env.globals.update(asset_url=asset_url, site_name=settings.site_name)

    @app.context_processor
    def _support_contact() -> dict:
        # Unset, "contact support" is the help center's own contact form, which shows the
        # articles that answer before a message is sent (kb.web.contact), in the page's language.
        def contact_link(question: str = "") -> str:
            """The contact form with the customer's question already typed (or the set link)."""
            if settings.support_contact:
                return settings.support_contact
            return url_for(CONTACT_ENDPOINT, q=question) if question else url_for(CONTACT_ENDPOINT)

        return {"support_contact": contact_link(), "contact_link": contact_link}


JSON_PREFIXES = ("/api/", "/agent/api/")  # the API, the widget's API, the agent panel's JSON views


def wants_json() -> bool:
    """API requests get JSON errors, never HTML."""
    return request.path.startswith(JSON_PREFIXES)


def _error_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def _init_error_handlers(app: Flask) -> None:
    @app.errorhandler(KbError)
    def handle_kb_error(exc: KbError):
        if exc.status >= 500:
            logger.error("%s: %s", exc.code, exc.message)
        headers = {}
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
        if wants_json():
            return exc.to_dict(), exc.status, headers
        return _error_page(exc.status, message=exc.message if exc.status < 500 else None), exc.status, headers

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status = exc.code or 500
        headers = {}
        if getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        if wants_json():
            return {"error": {"code": _error_code(exc), "message": exc.description or exc.name}}, status, headers
        return _error_page(status), status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return {"error": {"code": "internal_error", "message": "An internal error occurred."}}, 500
        return _error_page(500), 500


def _error_page(status: int, message: str | None = None) -> str:
    template = {404: "errors/404.html", 500: "errors/500.html"}.get(status, "errors/generic.html")
    title = ERROR_TITLES.get(status) or ERROR_TITLES[500 if status >= 500 else 400]
    try:
        return render_template(template, status=status, title=title,
                               message=message or ERROR_MESSAGES.get(status, ""))
    except Exception:  # the error page itself must never fail
        logger.exception("error page %s failed to render", status)
        return f'<!doctype html><html><meta charset="utf-8"><title>{status}</title><h1>{status}</h1></html>'
