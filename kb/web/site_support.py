"""What the help center's view modules share: the app's parts, the site blueprint's per-app
state, the most-viewed list, and the page-number arguments.

The site's pages live in :mod:`kb.web.site` (the blueprint) and :mod:`kb.web.site_search`
(the search pages); both import from here and never from each other, so nothing imports in
a circle (the staff blueprint's ``access`` module plays the same part).
"""

from __future__ import annotations

import time

from flask import abort
from flask import current_app
from flask import redirect
from flask import request
from flask import url_for

from kb.content.articles import Article
from kb.web import i18n
from kb.web import pages

HOME_LIST = 6
POPULAR_TTL_SECONDS = 30.0


def knowledge():
    return current_app.extensions["kb"]


def site_settings():
    return current_app.extensions["kb_settings"]


def site_analytics():
    return current_app.extensions["kb_analytics"]


def site_state() -> dict:
    """Per-app state of this blueprint: per-minute limits (counted in shared storage) and the public catalog cache."""
    state = current_app.extensions.get("kb_site")
    if state is None:
        limit = site_settings().site_rate_limit
        state = current_app.extensions.setdefault("kb_site", {
            "search": limit,
            "vote": limit,
            "suggest": limit * 5,  # one call per pause in typing
            "catalog": pages.PublicCatalogCache(),
        })
    return state


def public_catalog() -> pages.PublicCatalog:
    return site_state()["catalog"].get(knowledge())


def invalidate_public_catalog() -> None:
    """Call after publishing or unpublishing, so home/category/FAQ pages update at once."""
    site_state()["catalog"].invalidate()


def popular_articles(public: pages.PublicCatalog, limit: int = HOME_LIST) -> tuple[list[Article], bool]:
    """The most viewed public articles (True), or the newest when nothing was viewed yet (False),
    in the page's language first (a translated pair once).

    The view counts are read at most every POPULAR_TTL_SECONDS: a GROUP BY over a month of
    views is not something to run on every page."""
    state = site_state()
    now = time.monotonic()
    cached = state.get("popular")
    if cached is None or now - cached[0] > POPULAR_TTL_SECONDS:
        cached = (now, [v.slug for v in site_analytics().most_viewed_articles(days=30, limit=limit * 3)])
        state["popular"] = cached
    lang = i18n.current_language()
    recent = pages.language_view(public, lang).recent
    viewed = [public.articles[slug] for slug in cached[1] if slug in public.articles]
    viewed = pages.in_language(viewed, lang, public.translations)[:limit]
    if not viewed:
        return recent[:limit], False
    shown = {a.slug for a in viewed}
    return viewed + [a for a in recent[: limit * 2] if a.slug not in shown][: limit - len(viewed)], True


def int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))


def redirect_past_end(last_page: int) -> None:
    """A page number past the end (an old link, a list that got shorter) answers with a
    redirect to the last page, not an empty "no results" page."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(last_page)] if last_page > 1 else []
    abort(redirect(url_for(request.endpoint, **(request.view_args or {}), **{k: v for k, v in args.items() if v}),
                   code=302))
