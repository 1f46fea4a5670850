"""Blueprint "api" (/api/v1): JSON for agents and integrations.

Public: ``GET /search``, ``GET /articles/<slug>`` (public articles), ``GET /health`` and
``GET /openapi.json``.  With an API key (``Authorization: Bearer kb_...``):
``POST /suggest``, ``POST /feedback`` and internal articles.  Every error is JSON in one
shape, ``{"error": {"code", "message", "field"?}}``: the factory's handlers cover routing
errors (unknown route, wrong method); this blueprint's handlers cover errors in its views
and log an unexpected one with the request's query id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import g
from flask import request
from werkzeug.exceptions import HTTPException

from kb import assist
from kb.store.apikeys import ApiKey
from kb.store.apikeys import verify_key
from kb.content.articles import LANGS
from kb.content.articles import categories_in_use
from kb.errors import KbError
from kb.content.render import render_markdown
from kb.web import api_schema
from kb.web.category_names import category_name
from kb.web.category_names import hit_in
from kb.web.request_json import json_body
from kb.web.security import client_key
from kb.web.security import limit_rate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kb.content.articles import Catalog

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SUGGEST_LIMITS = (1, 20, 5)  # min, max, default
SEARCH_LIMITS = (1, 50, 10)
MAX_CONVERSATION = api_schema.MAX_CONVERSATION
MAX_CATEGORY_CHARS = api_schema.MAX_CATEGORY_CHARS
MAX_LISTED = 20  # allowed values a 400 lists; the OpenAPI document lists them all


def _settings():
    return current_app.extensions["kb_settings"]


def _knowledge():
    return current_app.extensions["kb"]


def _db():
    return current_app.extensions["kb_db"].connection()


# -- access: keys and rate limits -------------------------------------------------------------


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("invalid_key", "Send the key as 'Authorization: Bearer <key>'.")
    return token.strip()


def _unauthorized(code: str, message: str) -> KbError:
    error = KbError(code, message, status=401)
    error.headers = {"WWW-Authenticate": 'Bearer realm="kb"'}  # type: ignore[attr-defined]
    return error


def _optional_key() -> ApiKey | None:
    """The caller's key if one is sent (401 if it is not valid), else None."""
    token = _bearer_token()
    if token is None:
        return None
    key = verify_key(_db(), token)
    if key is None:
        raise _unauthorized("invalid_key", "Unknown or revoked API key.")
    return key


def _required_key() -> ApiKey:
    key = _optional_key()
    if key is None:
        raise _unauthorized("missing_key", "This endpoint needs an API key: 'Authorization: Bearer <key>'.")
    return key


def _limit_key(key: ApiKey) -> None:
    limit_rate(f"key:{key.id}", key.rate_limit or _settings().api_rate_limit)


def _limit_client() -> None:
    limit_rate(f"client:{client_key()}", _settings().api_rate_limit)


# -- request parsing ----------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise KbError("unsupported_media_type", "Send a JSON body with 'Content-Type: application/json'.", status=415)
    request.max_content_length = api_schema.max_body_bytes(_settings())
    body = json_body()  # a body over the limit still raises 413
    if body is None:
        raise KbError("bad_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        raise KbError("bad_json", "The body must be a JSON object.")
    return body


def _text(body, name: str, max_chars: int, required: bool = True) -> str | None:
    """A string field (of a JSON body or the query string); null or absent is None when optional."""
    value = body.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise KbError("missing_field", f"'{name}' is required.", field=name)
    if not isinstance(value, str):
        raise KbError("bad_field", f"'{name}' must be a string.", field=name)
    if required and not value.strip():
        raise KbError("empty_field", f"'{name}' is empty.", field=name)
    if len(value) > max_chars:
        raise KbError("too_long", f"'{name}' is longer than {max_chars} characters; shorten it.", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" JSON escape
        raise KbError("bad_field", f"'{name}' is not valid Unicode text.", field=name) from None
    return value


def _integer(value: Any, name: str, limits: tuple[int, int, int], from_text: bool = False) -> int:
    """A whole number in range: a JSON number, or digits in the query string (``from_text``)."""
    low, high, default = limits
    if value is None:
        return default
    if from_text:
        value = int(value) if value.strip().lstrip("+-").isdigit() and value.isascii() else None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise KbError("bad_limit" if name == "limit" else "bad_field",
                      f"'{name}' must be a whole number from {low} to {high}.", field=name)
    return value


def _lang(fields) -> str | None:
    """The ``lang`` filter: absent is None (every language); null or another value is a 400,
    as the OpenAPI document says (a string from the enum)."""
    if "lang" not in fields:
        return None
    value = fields.get("lang")
    if not isinstance(value, str) or value not in LANGS:
        raise _not_one_of("lang", LANGS, "leave it out for every language", value)
    return value


def _not_one_of(name: str, allowed: Sequence[str], absent: str, value: Any) -> KbError:
    """The 400 of a value outside a fixed list (``lang``, ``category``), in one shape: code
    ``bad_field``, the field, and a message with the allowed values (the first MAX_LISTED: the
    OpenAPI document's enum has them all), what leaving the field out means, and the value sent
    (as JSON writes it: an agent sent JSON or a query string, not Python)."""
    shown = ", ".join(allowed[:MAX_LISTED]) + (", ..." if len(allowed) > MAX_LISTED else "") or "(none)"
    sent = json.dumps(value, ensure_ascii=False)
    return KbError("bad_field", f"'{name}' must be one of: {shown} ({absent}); got {sent}.", field=name)


def _category_slugs() -> tuple[str, ...]:
    """Every category slug of this help center (of its articles and of _categories.yml), sorted.

    Worked out once per catalog state (:meth:`kb.content.articles.Catalog.derived`), not on
    every request with a ``category`` filter and every OpenAPI document: it walks every
    article.  A publish, a delete or a new category list changes the state, so the next
    request sees it."""
    return _knowledge().catalog.derived("api.category_slugs", _all_category_slugs)


def _all_category_slugs(catalog: Catalog) -> tuple[str, ...]:
    return tuple(sorted({category.slug for category in [*categories_in_use(catalog), *catalog.categories.values()]}))


def _category(fields) -> str | None:
    """The ``category`` filter (a category slug): absent or empty is None (every category); a
    slug no category has is a 400, not a search that finds nothing (it was logged as a search
    without results, a content gap that is not one).  The OpenAPI document lists the slugs."""
    slug = _text(fields, "category", MAX_CATEGORY_CHARS, required=False) or None
    if slug is None:
        return None
    listed = _category_slugs()
    if slug not in listed:
        raise _not_one_of("category", listed, "a category's slug; leave it out or empty for every category", slug)
    return slug


def _boolean(body: dict, name: str, default: bool | None = None) -> bool:
    """A true/false field; absent is ``default`` (required when there is none); null is a 400."""
    if name not in body and default is not None:
        return default
    value = body.get(name)
    if not isinstance(value, bool):
        code = "missing_field" if name not in body else "bad_field"
        raise KbError(code, f"'{name}' must be true or false.", field=name)
    return value


def _conversation(body: dict, max_chars: int) -> list[str | dict]:
    value = body.get("conversation")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_CONVERSATION:
        raise KbError("bad_field", f"'conversation' must be a list of at most {MAX_CONVERSATION} messages.",
                      field="conversation")
    for item in value:
        text = item if isinstance(item, str) else item.get("text") if isinstance(item, dict) else None
        role = item.get("role") if isinstance(item, dict) else None
        role_ok = role is None or (isinstance(role, str) and len(role) <= api_schema.MAX_ROLE_CHARS)
        if not isinstance(text, str) or not role_ok or len(text) > max_chars:
            raise KbError("bad_field", "Each earlier message is a string or {\"role\", \"text\"} with text of at most "
                          f"{max_chars} characters.", field="conversation")
    return value


# -- views ---------------------------------------------------------------------------------------


@bp.post("/suggest")
def suggest():
    key = _required_key()
    _limit_key(key)
    settings = _settings()
    body = _json_object()
    message = _text(body, "message", settings.max_message_chars)
    conversation = _conversation(body, settings.max_message_chars)
    limit = _integer(body.get("limit"), "limit", SUGGEST_LIMITS)
    lang = _lang(body)
    category = _category(body)
    include_internal = _boolean(body, "include_internal", default=False)
    g.query_id = assist.new_query_id()
    started = time.perf_counter()
    result = assist.suggest(_knowledge(), message, conversation, limit=limit, lang=lang, category=category,
                            include_internal=include_internal, query_id=g.query_id)
    took_ms = (time.perf_counter() - started) * 1000
    assist.record_query(_db(), result, key.id, len(message), took_ms)
    return {
        "query_id": result.query_id,
        "took_ms": round(took_ms, 1),
        "focused_query": result.focused.text,
        "corrected": result.corrected,
        "read_as": result.read_as,
        "reason": result.reason,
        "suggestions": [hit_in(hit).to_dict() for hit in result.hits],
    }


@bp.post("/feedback")
def feedback():
    key = _required_key()
    _limit_key(key)
    body = _json_object()
    query_id = _text(body, "query_id", 64)
    slug = _text(body, "slug", 300)
    useful = _boolean(body, "useful")
    assist.record_feedback(_db(), query_id, slug, useful, key.id)
    return {"query_id": query_id, "slug": slug, "useful": useful}


@bp.get("/search")
def search():
    _limit_client()
    settings = _settings()
    query = _text(request.args, "q", settings.max_query_chars)
    limit = _integer(request.args.get("limit"), "limit", SEARCH_LIMITS, from_text=True)
    category = _category(request.args)
    lang = _lang(request.args)
    started = time.perf_counter()
    page = _knowledge().search_page(query, limit=limit, category=category, lang=lang)
    took_ms = (time.perf_counter() - started) * 1000
    analytics = current_app.extensions.get("kb_analytics")
    if analytics is not None:
        analytics.record_search(query, page.total, category, source="api")
    return {
        "query": query,
        "took_ms": round(took_ms, 1),
        "total": page.total,
        "related": page.related,
        "did_you_mean": page.did_you_mean,
        "corrected": page.corrected,
        "read_as": page.read_as,
        "reason": page.reason,
        "results": [hit_in(hit).to_dict() for hit in page.hits],
    }


@bp.get("/articles/<slug>")
def article(slug: str):
    """One published article; internal ones only with a key (404 without: their existence is not told)."""
    key = _optional_key()
    if key is not None:
        _limit_key(key)
    else:
        _limit_client()
    found = _knowledge().catalog.articles.get(slug)
    if found is None or found.status != "published" or (found.audience != "public" and key is None):
        raise KbError("not_found", f"No published article with the slug {slug!r}.", status=404)
    rendered = render_markdown(found.body)
    return {
        "slug": found.slug,
        "title": found.title,
        "url": found.url,
        "category": category_name(found.category, found.lang),
        "category_slug": found.category_slug,
        "tags": list(found.tags),
        "lang": found.lang,
        "audience": found.audience,
        "status": found.status,
        "updated": found.updated.isoformat() if found.updated else None,
        "summary": found.summary,
        "translation_of": found.translation_of,
        "faq": [entry.to_dict() for entry in found.faq],
        "toc": [{"level": t.level, "anchor": t.anchor, "title": t.title} for t in rendered.toc],
        "markdown": found.body,
        "html": rendered.html,
    }


@bp.get("/health")
def health():
    report = _knowledge().health()
    replicator = current_app.extensions.get("kb_replication")
    if replicator is not None:  # this node's lag behind the cluster's change log (kb.replication)
        report["replication"] = replicator.status()
    if report.get("status") != "ok":
        return report, 503
    return {**report, "index_age_seconds": _age_seconds(report.get("index_updated_at") or report.get("index_built_at"))}


def _age_seconds(timestamp: str | None) -> int | None:
    """Seconds since an ISO 8601 time (the index's last change), None if unknown."""
    try:
        then = dt.datetime.fromisoformat(timestamp or "")
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.timezone.utc)
    return max(0, int((dt.datetime.now(dt.timezone.utc) - then).total_seconds()))


@bp.get("/openapi.json")
def openapi():
    return api_schema.openapi_document(_settings(), _category_slugs())


# -- errors ----------------------------------------------------------------------------------------


@bp.errorhandler(KbError)
def handle_kb_error(exc: KbError):
    headers = dict(getattr(exc, "headers", None) or {})
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
    if exc.status >= 500:
        logger.error("api %s %s: %s: %s", request.method, request.path, exc.code, exc.message)
    return exc.to_dict(), exc.status, headers


@bp.errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    return {"error": {"code": code, "message": exc.description or exc.name}}, status


@bp.errorhandler(Exception)
def handle_unexpected(exc: Exception):
    """Log the trace with a query id the client also gets; never show the trace itself."""
    query_id = g.get("query_id") or uuid.uuid4().hex
    logger.exception("api error, query_id=%s, %s %s", query_id, request.method, request.path)
    message = f"An internal error occurred. Quote this query id to support: {query_id}"
    return {"error": {"code": "internal_error", "message": message, "query_id": query_id}}, 500
