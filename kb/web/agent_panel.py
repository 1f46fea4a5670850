"""Blueprint "agent" (/agent): the agent panel that lives in a helpdesk's side panel.

``GET /agent?panel=<public id>`` is the page: a narrow, right-to-left shell with no page
chrome, framable only by the origins the admin listed for that panel link (CSP
``frame-ancestors``; every other page of the site stays ``DENY``).  Its script
(``static/js/agent.js``) reads the link's token from the URL's fragment (``#token=kbp_...``)
— a fragment is never sent to a server, so the token stays out of access logs, proxies
and ``Referer`` headers — and calls the JSON views below with ``Authorization: Bearer``.
The conversation comes from Chatwoot's ``appContext`` message, a documented
``postMessage`` shape, the ``message`` URL parameter, or the agent's paste.

JSON views (token only, read-only): ``POST /agent/api/suggest``, ``GET /agent/api/search``
and ``POST /agent/api/feedback``.  Agents see internal articles, marked as such.
Suggestions and verdicts are stored with the agent API's (``kb.panel_links``), so the
reports count them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import gettext as _

from kb import assist
from kb import panel_links
from kb.content.articles import LANGS
from kb.errors import KbError
from kb.urls import absolute_url
from kb.web import security
from kb.web.category_names import category_name
from kb.web.request_json import json_body

logger = logging.getLogger(__name__)

bp = Blueprint("agent", __name__, url_prefix="/agent")

SUGGEST_LIMIT = 5
SEARCH_LIMIT = 8
MAX_CONVERSATION = 50


def _settings():
    return current_app.extensions["kb_settings"]


def _db():
    return current_app.extensions["kb_db"].connection()


@bp.get("")
def panel():
    """The panel page; framable by the link's origins only.  An unknown or revoked link is a 404."""
    public_id = request.args.get("panel", "")
    link = panel_links.find_active(_db(), public_id) if public_id else None
    if public_id and link is None:
        page = render_template("errors/generic.html", status=404, title=_("Panel link not found"),
                               message=_("This panel link is unknown or was revoked: ask an admin for a new one."))
        return page, 404, {"Cache-Control": "no-store"}
    html = render_template("agent/panel.html", link=link, message=request.args.get("message", "")[:_max_chars()],
                           origins=" ".join(link.origins) if link else "", max_chars=_max_chars())
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    if link is not None:
        security.allow_framing(response, link.origins)
    return response


def _max_chars() -> int:
    return _settings().max_message_chars


# -- access -----------------------------------------------------------------------------------------


def _panel_link() -> panel_links.PanelLink:
    """The link whose token the request carries (401 without a valid one), within its rate limit."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise KbError("missing_token", "Open the panel through its panel link (the token is missing).", status=401)
    link = panel_links.verify_token(_db(), token.strip(), str(current_app.config["SECRET_KEY"]))
    if link is None:
        raise KbError("invalid_token", "Unknown or revoked panel link: ask an admin for a new one.", status=401)
    security.limit_rate(f"panel:{link.id}", _settings().api_rate_limit)
    return link


def _body() -> dict[str, Any]:
    body = json_body() if request.is_json else None
    if not isinstance(body, dict):
        raise KbError("bad_json", "Send a JSON object with 'Content-Type: application/json'.", status=400)
    return body


def _text(value: Any, name: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KbError("missing_field", f"'{name}' must be a non-empty string.", field=name)
    if len(value) > max_chars:
        raise KbError("too_long", f"'{name}' is longer than {max_chars} characters.", field=name)
    return value


def _conversation(value: Any) -> list[dict]:
    """Earlier messages: ``[{"role", "text"}]`` (strings count as the customer's), newest last."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise KbError("bad_field", "'conversation' must be a list of messages.", field="conversation")
    messages = []
    for item in value[-MAX_CONVERSATION:]:
        text = item if isinstance(item, str) else item.get("text") if isinstance(item, dict) else None
        role = item.get("role", "customer") if isinstance(item, dict) else "customer"
        if isinstance(text, str) and text.strip() and isinstance(role, str):
            messages.append({"role": role[:20], "text": text[:_max_chars()]})
    return messages


# -- JSON views ---------------------------------------------------------------------------------------


@bp.post("/api/suggest")
@security.token_auth
def suggest():
    link = _panel_link()
    body = _body()
    message = _text(body.get("message"), "message", _max_chars())
    conversation = _conversation(body.get("conversation"))
    lang = body.get("lang") if body.get("lang") in LANGS else None
    started = time.perf_counter()
    result = assist.suggest(current_app.extensions["kb"], message, conversation, limit=SUGGEST_LIMIT, lang=lang,
                            include_internal=True)
    took_ms = (time.perf_counter() - started) * 1000
    panel_links.record_query(_db(), result.query_id, result.focused.text, [hit.slug for hit in result.hits], link.id,
                             len(message), took_ms)
    return {"query_id": result.query_id, "took_ms": round(took_ms, 1), "focused_query": result.focused.text,
            "corrected": result.corrected, "read_as": result.read_as, "reason": result.reason,
            "suggestions": [_suggestion(hit) for hit in result.hits]}


@bp.get("/api/search")
@security.token_auth
def search():
    _panel_link()
    query = _text(request.args.get("q"), "q", _settings().max_query_chars)
    started = time.perf_counter()
    page = current_app.extensions["kb"].search_page(query, limit=SEARCH_LIMIT, include_internal=True)
    took_ms = (time.perf_counter() - started) * 1000
    return {"query": query, "took_ms": round(took_ms, 1), "corrected": page.corrected, "read_as": page.read_as,
            "reason": page.reason, "results": [_suggestion(hit) for hit in page.hits]}


@bp.post("/api/feedback")
@security.token_auth
def feedback():
    link = _panel_link()
    body = _body()
    query_id = _text(body.get("query_id"), "query_id", 64)
    slug = _text(body.get("slug"), "slug", 300)
    useful = body.get("useful")
    if not isinstance(useful, bool):
        raise KbError("bad_field", "'useful' must be true or false.", field="useful")
    panel_links.record_feedback(_db(), query_id, slug, useful, link.id)
    return {"query_id": query_id, "slug": slug, "useful": useful}


def _suggestion(hit) -> dict:
    """A hit as the panel shows it: absolute links, the internal mark, and the text to paste."""
    base_url = _settings().base_url
    return {
        "slug": hit.slug,
        "title": hit.title,
        "url": absolute_url(base_url, hit.url),
        "section": hit.section,
        "section_url": absolute_url(base_url, hit.section_url) if hit.section_url else None,
        "snippet": hit.snippet,
        "faq": hit.faq,
        "category": category_name(hit.category, hit.lang),  # in the article's language, as it is sent
        "lang": hit.lang,
        "internal": hit.internal,
        "related": hit.related,  # after the articles that answer (kb.search.tiers)
    }
