"""The help center's search pages: results (paged, recorded for analytics), the click
redirect that tells analytics which result a search led to, and suggestions as you type.

Apart from :mod:`kb.web.site` because they are the one page family that runs a search per
request: each has its own per-minute limit, and results and clicks are what the search
analytics are made of.  The views are plain functions; :mod:`kb.web.site` registers them on
the "site" blueprint (endpoints ``site.search``, ``site.search_click``, ``site.suggest``).
Customers only ever see public, published articles here too.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request

from kb.content import redirects
from kb.urls import article_url
from kb.web import i18n
from kb.web.api_schema import MAX_CATEGORY_CHARS
from kb.web.category_names import category_name
from kb.web.security import rate_limit
from kb.web.site_support import int_arg
from kb.web.site_support import knowledge
from kb.web.site_support import popular_articles
from kb.web.site_support import public_catalog
from kb.web.site_support import redirect_past_end
from kb.web.site_support import site_analytics
from kb.web.site_support import site_settings
from kb.web.site_support import site_state

# The site blueprint's log, as it was before these pages had a module of their own.
logger = logging.getLogger("kb.web.site")

PAGE_SIZE = 10  # search results per page
MAX_PAGE = 50
SUGGESTIONS = 6


def search():
    settings = site_settings()
    public = public_catalog()
    query = " ".join(request.args.get("q", "").split())[: settings.max_query_chars]
    category, unknown_category = _section(public, request.args.get("category", ""))
    page = int_arg("page", 1, 1, MAX_PAGE)
    context = {"query": query, "category": category, "unknown_category": unknown_category,
               "categories": public.categories, "page": page, "robots": "noindex", "canonical_url": None}
    if not query:
        popular, _ = popular_articles(public)
        return render_template("site/search.html", result=None, popular=popular, **context)
    rate_limit("search", site_state()["search"])
    result = knowledge().search_page(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, category=category)
    if page == 1:
        search_id = site_analytics().record_search(query, result.total, category)
    else:
        search_id = int_arg("sid", 0, 0, 2**62) or None
    pages_total = min(MAX_PAGE, (result.listed + PAGE_SIZE - 1) // PAGE_SIZE)
    if page > 1 and page > pages_total and result.listed:
        redirect_past_end(pages_total)
    popular = popular_articles(public)[0] if not result.hits else []
    return render_template(
        "site/search.html", result=result, search_id=search_id, pages_total=pages_total, popular=popular,
        first_rank=(page - 1) * PAGE_SIZE + 1, **context,
    )


def _section(public, requested: str) -> tuple[str | None, str | None]:
    """(the section slug to search in, a requested slug no section has) for ``?category=``.

    A renamed section's old slug follows its redirect, as its page does.  A slug no public
    section has (mistyped, deleted, or never there) searches every section and the page
    says so: the count is then every section's, and a search without results is a real gap
    of the whole help center, recorded as such (the API answers such a slug with a 400; a
    reader's link still gets results)."""
    slug = requested.strip()[:MAX_CATEGORY_CHARS]
    if not slug:
        return None, None
    if public.category(slug) is not None:
        return slug, None
    prefix = redirects.category_path("")
    moved = redirects.target(current_app.extensions["kb_db"].connection(), redirects.category_path(slug)) or ""
    if moved.startswith(prefix) and public.category(moved[len(prefix):]) is not None:
        return moved[len(prefix):], None
    return None, slug


def search_click():
    """Record which result a search led to, then go there (plain links: works without JS)."""
    found = knowledge().catalog.articles.get(request.args.get("to", ""))
    if found is None or not found.is_public:
        abort(404)
    search_id = int_arg("sid", 0, 0, 2**62)
    if search_id:
        site_analytics().record_click(search_id, found.slug, int_arg("rank", 0, 0, 10_000))
    anchor = request.args.get("section") or None
    target = i18n.article_href(found)
    if anchor:
        target = target + article_url(found.slug, unquote(anchor))[len(found.url):]
    return redirect(target, code=303)


def suggest():
    """Search-as-you-type: JSON for static/js/site.js."""
    query = request.args.get("q", "")[:200]
    if len(query.strip()) < 2:
        return jsonify({"query": query, "suggestions": []})
    rate_limit("suggest", site_state()["suggest"])
    try:
        hits = knowledge().autocomplete(query, limit=SUGGESTIONS)
    except Exception:  # suggestions are optional: never break the search box over them
        logger.exception("autocomplete failed for a %d-character prefix", len(query))
        hits = []
    return jsonify({
        "query": query,
        "suggestions": [
            {"title": hit.title, "url": hit.section_url or hit.url, "section": hit.section,
             "category": category_name(hit.category), "lang": hit.lang}
            for hit in hits
        ],
    })
