"""Web security shared by every blueprint: headers, cookies, CSRF, rate limits, client keys.

``init_app(app)`` (called by the factory) sets:

- security headers on every response: a Content-Security-Policy that allows only our own
  scripts, styles, fonts and images (no inline code: JSON-LD blocks are data, which CSP
  does not execute), ``nosniff``, a strict referrer policy and ``X-Frame-Options: DENY``;
- session cookie flags: HttpOnly, SameSite=Lax, Secure when ``base_url`` is https;
- CSRF protection for every state-changing request outside ``/api/`` that a view takes (the
  API uses keys, not cookies; a method no route takes is routing's 405 with ``Allow``, a
  path no route has its 404): the form field ``csrf_token`` or the header ``X-CSRF-Token``
  must match the token kept in the signed session.  Templates get it from the ``csrf_token()`` global.
  Views marked :func:`public_form` (an anonymous reader's vote) are checked by origin
  instead, so reading an article never needs a cookie (see :func:`is_same_origin`).

``safe_redirect_target()`` is the one check every ``next=`` goes through before it becomes
a ``Location``.

``rate_limit(scope, limit)`` (a client's searches and votes on the site and the widget) and
``limit_rate(scope, limit)`` (an API key, a panel link, an API client) are the per-minute
limits of the views, counted in the app's shared storage
(``app.extensions["kb_rate_limits"]``: the database, or Redis; kb.store.rate_limits) so they
hold across server processes and machines.  ``client_key()`` is the client they key on: the
real one behind trusted proxies (kb.web.proxy).  Raw IP addresses are never stored: the key
is an HMAC of the address under the app's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import request
from flask import session

from kb.errors import KbError

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "font-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_SESSION_KEY = "_csrf"
_VISITOR_SESSION_KEY = "_vid"
MAX_REDIRECT_CHARS = 2048
# A target still percent-encoded after this many decodings is no link a person wrote.
_REDIRECT_DECODE_ROUNDS = 4
# Characters left as they are when a target is made ASCII for the Location header.
_URI_SAFE = "/?#[]@!$&'()*+,;=:%-._~"
# Unicode categories never allowed in a redirect target: controls, format characters
# (bidi marks), and separators.  Browsers drop tabs and newlines inside URLs and strip
# leading spaces and controls, which turns "/<TAB>/evil.example" into "//evil.example".
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def init_app(app: Flask) -> None:
    """Install headers, cookie flags and CSRF checks on ``app``."""
    settings = app.extensions.get("kb_settings")
    https = bool(settings and settings.base_url.lower().startswith("https://"))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):  # Flask's default is None
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("CSRF_ENABLED", True)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(_check_csrf)
    app.after_request(_add_security_headers)


def _add_security_headers(response):
    framable = getattr(response, "kb_framable", False)
    for name, value in SECURITY_HEADERS.items():
        if not (framable and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    return response


def allow_framing(response, origins) -> None:
    """Let pages of ``origins`` (and no one else) show ``response`` in a frame: the agent panel.

    The CSP's ``frame-ancestors`` names them; ``X-Frame-Options`` is left out because it
    can only say DENY or SAMEORIGIN.  Without origins the response stays unframable."""
    origins = [origin for origin in origins if origin]
    if not origins:
        return
    response.headers["Content-Security-Policy"] = CSP.replace("frame-ancestors 'none'",
                                                              "frame-ancestors " + " ".join(origins))
    response.kb_framable = True


def token_auth(view):
    """Mark a view that authenticates by an ``Authorization`` header only (the agent panel's token).

    A browser never adds that header to a request on its own, so another site cannot make
    a visitor's browser send an authenticated request: the CSRF check does not apply."""
    view.kb_token_auth = True
    return view


def csrf_token() -> str:
    """This visitor's CSRF token (created and kept in the session on first use)."""
    token = session.get(_CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_SESSION_KEY] = token
    return token


def public_form(view):
    """Mark a view whose form any reader may send without a session (the article vote).

    A session-bound token would put a cookie on every reader of every article, and a page
    with a cookie cannot be kept by a shared cache.  For these views the request must come
    from this site instead: the browser's ``Sec-Fetch-Site``, else ``Origin``, else
    ``Referer`` must name this site (OWASP's "verifying origin with standard headers").
    What such a form can do is small (one anonymous vote, rate-limited).
    """
    view.kb_public_form = True
    return view


def is_same_origin() -> bool:
    """Whether the browser says this request comes from a page of this site.

    A request with none of the headers comes from no browser page (curl, a script): no
    reader's browser can be made to send it, which is what CSRF is about."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return True
    return urlsplit(source).netloc.lower() == request.host.lower()


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.path.startswith("/api/"):
        return
    if request.routing_exception is not None:
        # No view takes this request (DELETE /, POST /faq, a path that does not exist): routing
        # answers it (405 with Allow, or 404) once the before-request hooks are done.
        return
    if not current_app.config.get("CSRF_ENABLED", True):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "kb_token_auth", False):
        return
    if getattr(view, "kb_public_form", False):
        if is_same_origin():
            return
        raise KbError("csrf_failed", "أُرسل النموذج من خارج الموقع. افتح الصفحة من الموقع نفسه ثم أعد المحاولة.",
                      status=400)
    expected = session.get(_CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise KbError(
            "csrf_failed",
            "انتهت صلاحية النموذج أو أُرسل من خارج الموقع. حدّث الصفحة ثم أعد المحاولة.",
            status=400,
        )


def safe_redirect_target(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site, else ``fallback``: the check for every ``next=``.

    Accepted: a string that starts with exactly one "/" and, as written and after each
    round of percent-decoding, has no scheme or host, no second leading slash, no
    backslash (browsers read "\\" as "/"), and no control, format or whitespace
    character.  The result is ASCII (other characters percent-encoded), so it is always
    a valid ``Location`` header: no ``next=`` can cause a 500.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_REDIRECT_CHARS:
        return fallback
    current = target
    for _ in range(_REDIRECT_DECODE_ROUNDS):
        if not _is_site_path(current):
            return fallback
        decoded = unquote(current)
        if decoded == current:
            return quote(target, safe=_URI_SAFE)
        current = decoded
    return fallback


def _is_site_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC of ``value`` under the app's secret key, for ``purpose``: what is stored instead of an id."""
    secret = str(current_app.config.get("SECRET_KEY") or "").encode("utf-8")
    return hmac.new(secret, f"{purpose}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """A stable, non-reversible key for the requesting client (HMAC of its IP address)."""
    return keyed_hash(request.remote_addr or "unknown", "ip")


def visitor_key(create: bool = True) -> str | None:
    """A key for this browser (a random id in the signed session, hashed): one vote per visitor.

    Returns None when the visitor has no id yet and ``create`` is False.
    """
    visitor = session.get(_VISITOR_SESSION_KEY)
    if not visitor:
        if not create:
            return None
        visitor = secrets.token_urlsafe(16)
        session[_VISITOR_SESSION_KEY] = visitor
    return keyed_hash(visitor, "visitor")


def limit_rate(scope: str, limit: int) -> None:
    """A 429 with Retry-After once ``scope`` (an API key, a panel link, a client) has used its
    ``limit`` requests of this minute: the token-authenticated APIs' limit, in English as
    their errors are."""
    _count(scope, limit, f"Too many requests: at most {limit} per minute.")


def rate_limit(scope: str, limit: int) -> None:
    """A 429 with Retry-After once this client has used its ``limit`` requests of ``scope`` (a
    search, a vote...) this minute: the site's and the widget's limit, in the site's Arabic."""
    _count(f"{scope}:{client_key()}", limit, "طلبات كثيرة في وقت قصير. انتظر دقيقة ثم أعد المحاولة.")


def _count(key: str, limit: int, message: str) -> None:
    """Count a hit for ``key`` in the app's shared storage; over ``limit``: a 429 with Retry-After."""
    wait = current_app.extensions["kb_rate_limits"].hit(key, limit)
    if wait:
        error = KbError("rate_limited", message, status=429)
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error
