"""Blueprint "widget": ``/widget.js`` and the public API it calls (``/api/widget/*``).

A company puts one tag on its own site::

    <script src="https://help.example.com/widget.js" data-lang="ar" defer></script>

and its pages get a help button and panel (``static/widget/widget.js``, styled by
``static/widget/widget.css`` inside a shadow root).  The panel calls this API from the
company's origin, so every call is cross-origin:

- only the origins an admin allows (``/staff/widget``, :mod:`kb.widget_origins`) get an
  answer and CORS headers; any other browser origin gets a 403 and no CORS headers (a
  request without ``Origin`` is no browser page, or this site itself: answered, no CORS);
- read-only and public: public articles only, never drafts or internal ones; the only
  writes are a helpful vote and the search analytics;
- rate-limited per visitor (``site_rate_limit``, as the site's own search box: searches at
  five times the rate, as the widget searches once per pause in typing);
- GETs are "simple" requests (no preflight), so the first suggestions cost one round trip.

Searches the visitor settles on (``record=1``: the widget asks again once typing pauses)
count in the analytics with source ``widget``; the keystrokes in between do not.
"""

from __future__ import annotations

import hashlib
import html
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _

from kb.errors import KbError
from kb.web import i18n
from kb.web import pages
from kb.web import site
from kb.web.branding import current_brand
from kb.web.branding import site_name
from kb.web.category_names import category_name
from kb.web.proxy import site_root
from kb.web.request_json import json_body
from kb.web.security import keyed_hash
from kb.web.security import rate_limit
from kb.web.widget_content import html_to_tree
from kb.web.widget_content import page_query
from kb.widget_origins import WidgetOrigins

logger = logging.getLogger(__name__)

bp = Blueprint("widget", __name__)

API = "/api/widget"
STATIC = Path(__file__).parent / "static" / "widget"
RESULTS = 6  # answers the panel lists (a phone shows about this many)
MIN_QUERY_CHARS = 2
MAX_TITLE_CHARS = 300
MAX_VISITOR_CHARS = 64
SCRIPT_CACHE_SECONDS = 300  # the script's URL is pasted into other sites: it cannot carry a hash
STYLESHEET_CACHE_SECONDS = 365 * 24 * 3600
PREFLIGHT_CACHE_SECONDS = 600


def _knowledge():
    return current_app.extensions["kb"]


def _settings():
    return current_app.extensions["kb_settings"]


def _analytics():
    return current_app.extensions["kb_analytics"]


def _origins() -> WidgetOrigins:
    return WidgetOrigins(current_app.extensions["kb_db"].connection())


def _limits() -> dict[str, int]:
    """Per-minute limits of one visitor's widget calls (counted in the app's shared storage)."""
    limit = _settings().site_rate_limit
    return {"search": limit * 5, "read": limit * 2, "vote": limit}


# -- the script ------------------------------------------------------------------------------


@bp.get("/widget.js")
def script():
    """The widget, for any site (a script tag needs no CORS; the API decides who gets answers)."""
    return _widget_file("widget.js", "text/javascript", SCRIPT_CACHE_SECONDS)


@bp.get("/widget.css")
def stylesheet():
    """The widget's styles; the config gives its URL with the content hash (``v``), cached for a year."""
    versioned = request.args.get("v") == _stylesheet_version()
    return _widget_file("widget.css", "text/css", STYLESHEET_CACHE_SECONDS if versioned else SCRIPT_CACHE_SECONDS)


def _widget_file(name: str, mimetype: str, max_age: int):
    # Read whole (a few KB), not streamed: compressed like any page, whatever the WSGI server.
    response = current_app.response_class((STATIC / name).read_bytes(), mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.add_etag()
    return response.make_conditional(request)


# -- CORS: allowed origins only ---------------------------------------------------------------


def _allowed(origin: str) -> bool:
    """Whether the admin allows ``origin`` (one database read per request: the check and the
    CORS headers both ask)."""
    if "kb_widget_origin_allowed" not in g:
        g.kb_widget_origin_allowed = _origins().allows(origin)
    return g.kb_widget_origin_allowed


def _browser_origin() -> str | None:
    """The calling page's origin when it is another site's; None for no browser page or this site."""
    origin = request.headers.get("Origin")
    own = {request.host_url.rstrip("/").lower(), _settings().base_url.rstrip("/").lower()}  # base_url: behind a proxy
    if not origin or origin.rstrip("/").lower() in own:
        return None
    return origin


@bp.before_app_request
def _check_origin():
    if not request.path.startswith(API + "/"):
        return None
    origin = _browser_origin()
    if origin is None:
        return None
    if not _allowed(origin):
        raise KbError("origin_not_allowed", "This site may not use the help widget: an admin lists the sites "
                      "allowed at /staff/widget.", status=403)
    if request.method == "OPTIONS":
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_CACHE_SECONDS)
        return response
    return None


@bp.after_app_request
def _cors_headers(response):
    if not request.path.startswith(API + "/"):
        return response
    response.vary.add("Origin")
    origin = _browser_origin()
    if origin is not None and _allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


# -- the reports ---------------------------------------------------------------------------


@bp.app_template_global()
def search_sources(days: int | None):
    """Searches per source for the staff reports (``staff/_search_sources.html``)."""
    return _analytics().searches_by_source(days)


@bp.app_template_global()
def search_source_label(source: str) -> str:
    labels = {"site": _("Help center pages"), "widget": _("Help widget"), "api": _("API")}
    return labels.get(source, source)


# -- request values --------------------------------------------------------------------------


def _lang() -> str:
    """The widget's language (``data-lang``), one with a catalog; else the site default."""
    lang = request.args.get("lang", "")
    return lang if lang in i18n.languages() else i18n.default_language()


def _search_lang(lang: str) -> str | None:
    """Search the visitor's language when the collection has public articles in it, else all."""
    return lang if lang in pages.public_languages(site.public_catalog()) else None


def _text_arg(name: str, max_chars: int) -> str:
    return " ".join(request.args.get(name, "").split())[:max_chars]


def _results(hits, lang: str) -> list[dict]:
    """Hits as the panel lists them, their category named in the widget's language."""
    root = site_root()
    return [
        {"slug": hit.slug, "title": hit.title, "snippet": _plain(hit.snippet), "section": hit.section,
         "category": category_name(hit.category, lang), "url": root + (hit.section_url or hit.url), "lang": hit.lang,
         "anchor": (hit.section_url or "").partition("#")[2] or None, "related": hit.related}
        for hit in hits
    ]


def _plain(snippet: str) -> str:
    """The snippet as text (the widget shows text; the marks are for the site's own pages)."""
    return html.unescape(snippet.replace("<mark>", "").replace("</mark>", ""))


# -- API -------------------------------------------------------------------------------------


@bp.get(f"{API}/config")
def config():
    """What the panel says and looks like, in the widget's language (one call when the page loads)."""
    lang = _lang()
    with force_locale(lang):
        strings = _strings(site_name(lang))
    # As the site's "contact support" links (kb.web.app contact_link): a set support_contact
    # wins; unset, the help center's own contact form, which takes the question along.
    own_form = not _settings().support_contact and _has_contact_page()
    contact = (site_root() + "/contact") if own_form else _settings().support_contact
    # Absolute URLs from site_root(), never url_for: a tag may load /en/widget.js, and this
    # request's language prefix must not end up in them (/en/en/widget.css).
    return {
        "lang": lang,
        "dir": i18n.text_direction(lang),
        "color": current_brand().primary_color,
        "root": site_root() + "/",
        "stylesheet": site_root() + "/widget.css?" + urlencode({"v": _stylesheet_version()}),
        "contact_url": contact,
        "contact_takes_query": own_form,
        "strings": strings,
    }


def _has_contact_page() -> bool:
    return "contact" in current_app.blueprints


@lru_cache(maxsize=1)
def _stylesheet_version() -> str:
    """The shipped stylesheet's content hash, read once per process (it changes only with a release)."""
    return hashlib.sha256((STATIC / "widget.css").read_bytes()).hexdigest()[:10]


def _strings(name: str) -> dict[str, str]:
    return {
        "open": _("Help"),
        "title": name,
        "close": _("Close help"),
        "search": _("Search the help center"),
        "placeholder": _("Type your question…"),
        "suggested": _("Suggested for this page"),
        "results": _("Answers"),
        "corrected": _("Answers for “%(question)s”", question="{question}"),
        "count": _("%(count)s answers found.", count="{count}"),
        "related": _("Related articles"),
        "none": _("No article answers this yet."),
        "loading": _("Searching…"),
        "error": _("The help center cannot be reached now. Try again in a moment."),
        "back": _("Back to the answers"),
        "openSite": _("Open in the help center"),
        "helpful": _("Was this helpful?"),
        "yes": _("Yes"),
        "no": _("No"),
        "thanks": _("Thank you for your feedback."),
        "sorry": _("Sorry this did not help. You can ask us directly."),
        "contact": _("Still need help? Contact us"),
    }


@bp.get(f"{API}/search")
def search():
    """Answers for what the visitor typed; ``record=1`` counts the search (source "widget")."""
    query = _text_arg("q", _settings().max_query_chars)
    lang = _lang()
    if len(query) < MIN_QUERY_CHARS:
        return {"query": query, "results": [], "reason": None, "search_id": None}
    rate_limit("widget-search", _limits()["search"])
    page = _knowledge().search_page(query, limit=RESULTS, lang=_search_lang(lang))
    search_id = None
    if request.args.get("record") == "1":
        search_id = _analytics().record_search(query, page.total, source="widget")
    # "corrected": the question searched instead, when the typed one (in Latin letters) had no
    # answer and its spelling correction has one (kb.knowledge.KnowledgeBase.search_page).
    return {"query": query, "results": _results(page.hits, lang), "reason": page.reason, "search_id": search_id,
            "corrected": page.corrected}


@bp.get(f"{API}/page")
def page_suggestions():
    """Articles for the host page the visitor is on (its title and ``data-context`` hint); not a search."""
    query = page_query(_text_arg("title", MAX_TITLE_CHARS), _text_arg("context", MAX_TITLE_CHARS))
    if len(query) < MIN_QUERY_CHARS:
        return {"query": query, "results": []}
    rate_limit("widget-search", _limits()["search"])
    lang = _lang()
    hits = _knowledge().search(query, limit=RESULTS // 2, lang=_search_lang(lang))
    return {"query": query, "results": _results(hits, lang)}


@bp.get(f"{API}/articles/<slug>")
def article(slug: str):
    """A public article as a JSON tree (see :mod:`kb.web.widget_content`); counts a view, and
    the click of the search it came from (``sid``, ``rank``)."""
    rate_limit("widget-read", _limits()["read"])
    found = _knowledge().catalog.articles.get(slug)
    if found is None or not found.is_public:
        raise KbError("not_found", f"No published article with the slug {slug!r}.", status=404)
    analytics = _analytics()
    analytics.record_view(found.slug)
    search_id = request.args.get("sid", "")
    if search_id.isdigit():
        rank = request.args.get("rank", "0")
        analytics.record_click(int(search_id), found.slug, int(rank) if rank.isdigit() else 0)
    votes = analytics.article_votes(found.slug)
    return {
        "slug": found.slug, "title": found.title, "lang": found.lang, "dir": i18n.text_direction(found.lang),
        "url": site_root() + found.url,
        "body": html_to_tree(pages.rendered(found).html, site_root() + "/"),
        "helpful": votes.helpful, "votes": votes.votes,
    }


@bp.post(f"{API}/votes")
def vote():
    """"Was this helpful?": one vote per visitor and article (the widget's random visitor id,
    kept in the host page's storage, hashed with this server's secret before it is stored)."""
    rate_limit("widget-vote", _limits()["vote"])
    body = json_body()
    if not isinstance(body, dict):
        raise KbError("bad_json", "Send a JSON object with 'slug', 'helpful' and 'visitor'.")
    slug, helpful, visitor = body.get("slug"), body.get("helpful"), body.get("visitor")
    if not isinstance(helpful, bool):
        raise KbError("bad_field", "'helpful' must be true or false.", field="helpful")
    if not isinstance(visitor, str) or not 8 <= len(visitor) <= MAX_VISITOR_CHARS:
        raise KbError("bad_field", f"'visitor' must be a random id of 8 to {MAX_VISITOR_CHARS} characters.",
                      field="visitor")
    found = _knowledge().catalog.articles.get(slug) if isinstance(slug, str) else None
    if found is None or not found.is_public:
        raise KbError("not_found", "No published article with this slug.", status=404, field="slug")
    visitor_hash = keyed_hash(visitor, "widget-visitor")
    recorded = _analytics().record_vote(found.slug, visitor_hash, helpful)
    return {"recorded": recorded, "vote": _analytics().vote_of(found.slug, visitor_hash)}
