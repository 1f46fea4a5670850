"""Blueprint "site": the customer-facing help center (Arabic, right to left).

Pages: home, category, article (+ feedback), FAQ, search (+ suggestions and the click
redirect that tells analytics which result a search led to), sitemap.xml, robots.txt.
Customers only ever see public, published articles: everything else is a 404, and search,
suggestions, related lists and the sitemap never include it.  Every page works without
JavaScript; ``static/js/site.js`` adds search-as-you-type and in-place voting.
"""

from __future__ import annotations

import itertools
import logging
import time
from urllib.parse import unquote

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from kb.analytics import MAX_COMMENT_CHARS
from kb.articles import Article
from kb.errors import KbError
from kb.urls import absolute_url
from kb.urls import article_url
from kb.urls import category_url
from kb.web import pages
from kb.web.security import RateLimiter
from kb.web.security import public_form
from kb.web.security import rate_limit
from kb.web.security import visitor_key

logger = logging.getLogger(__name__)

bp = Blueprint("site", __name__)
bp.add_app_template_filter(pages.count_articles, "count_articles")
bp.add_app_template_filter(pages.count_results, "count_results")
bp.add_app_template_filter(pages.count_questions, "count_questions")
bp.add_app_template_filter(category_url, "category_href")


@bp.app_template_filter("absolute")
def absolute(path: str) -> str:
    """A site path as a full URL under the configured base_url."""
    return absolute_url(current_app.extensions["kb_settings"].base_url, path)

PAGE_SIZE = 10  # search results per page
MAX_PAGE = 50
CATEGORY_PAGE_SIZE = 50
FAQ_ALL_LIMIT = 300  # up to this many entries, /faq shows them all
FAQ_PREVIEW = 10  # otherwise this many per category, and /faq/<category> has the rest
FAQ_PAGE_SIZE = 100
SUGGESTIONS = 6
HOME_LIST = 6
POPULAR_TTL_SECONDS = 30.0


# -- helpers -------------------------------------------------------------------------------


def _kb():
    return current_app.extensions["kb"]


def _settings():
    return current_app.extensions["kb_settings"]


def _analytics():
    return current_app.extensions["kb_analytics"]


def _state() -> dict:
    """Per-app state of this blueprint: rate limiters and the public catalog cache."""
    state = current_app.extensions.get("kb_site")
    if state is None:
        limit = _settings().site_rate_limit
        state = current_app.extensions.setdefault("kb_site", {
            "search": RateLimiter(limit),
            "vote": RateLimiter(limit),
            "suggest": RateLimiter(limit * 5),  # one call per pause in typing
            "catalog": pages.PublicCatalogCache(),
        })
    return state


def public_catalog() -> pages.PublicCatalog:
    return _state()["catalog"].get(_kb())


def invalidate_public_catalog() -> None:
    """Call after publishing or unpublishing, so home/category/FAQ pages update at once."""
    _state()["catalog"].invalidate()


def can_see(article: Article | None) -> bool:
    """Whether this request may show the article: public ones for everyone, the rest for
    signed-in staff only (the staff blueprint sets ``g.staff_user``)."""
    if article is None:
        return False
    return article.is_public or g.get("staff_user") is not None


def _canonical(path: str) -> str:
    return absolute(path)


def _popular(public: pages.PublicCatalog, limit: int = HOME_LIST) -> tuple[list[Article], bool]:
    """The most viewed public articles (True), or the newest when nothing was viewed yet (False).

    The view counts are read at most every POPULAR_TTL_SECONDS: a GROUP BY over a month of
    views is not something to run on every page."""
    state = _state()
    now = time.monotonic()
    cached = state.get("popular")
    if cached is None or now - cached[0] > POPULAR_TTL_SECONDS:
        cached = (now, [v.slug for v in _analytics().most_viewed_articles(days=30, limit=limit * 3)])
        state["popular"] = cached
    viewed = [public.articles[slug] for slug in cached[1] if slug in public.articles][:limit]
    if not viewed:
        return public.recent[:limit], False
    shown = {a.slug for a in viewed}
    return viewed + [a for a in public.recent[: limit * 2] if a.slug not in shown][: limit - len(viewed)], True


def _top_questions(articles, limit: int = HOME_LIST) -> list[tuple[Article, object]]:
    """The first FAQ entry of each article, in the given order, Arabic ones only, one per article."""
    questions = []
    seen: set[str] = set()
    for article in articles:
        if article.faq and article.lang == "ar" and article.slug not in seen:
            seen.add(article.slug)
            questions.append((article, article.faq[0]))
            if len(questions) >= limit:
                break
    return questions


# -- pages ---------------------------------------------------------------------------------


@bp.get("/")
def home():
    public = public_catalog()
    popular, by_views = _popular(public)
    top_faq = _top_questions(itertools.chain(popular, public.recent))
    return render_template(
        "site/home.html", categories=public.categories, popular=popular, popular_by_views=by_views,
        top_faq=top_faq, canonical_url=_canonical("/"),
        meta_description=f"{_settings().site_name}: ابحث عن إجابات أسئلتك وتصفح المقالات والأسئلة الشائعة.",
    )


@bp.get("/categories/<slug>")
def category(slug: str):
    public = public_catalog()
    found = public.category(slug)
    if found is None:
        abort(404)
    articles = public.by_category.get(found.slug, [])
    page, pages_total, shown = _paginate(articles, CATEGORY_PAGE_SIZE)
    path = category_url(found.slug) + (f"?page={page}" if page > 1 else "")
    return render_template(
        "site/category.html", category=found, articles=shown, count=len(articles), page=page, pages_total=pages_total,
        has_faq=any(c.slug == found.slug for c, _ in public.faq),
        canonical_url=_canonical(path), meta_description=found.description or found.name,
        jsonld=[pages.breadcrumbs_jsonld(_settings().base_url, [("الرئيسية", "/"), (found.name, category_url(found.slug))])],
    )


@bp.get("/articles/<slug>")
def article(slug: str):
    found = _kb().catalog.articles.get(slug)
    if not can_see(found):
        abort(404)
    public = public_catalog()
    settings = _settings()
    rendered = pages.rendered(found)
    try:
        related = _kb().related(found.slug, limit=5)
    except KbError:
        related = []
    visitor = visitor_key(create=False)
    vote = _analytics().vote_of(found.slug, visitor) if visitor else None
    votes = _analytics().article_votes(found.slug)
    if found.is_public and not _is_reload(found):
        _analytics().record_view(found.slug)
    trail = [("الرئيسية", "/"), (found.category, category_url(found.category_slug)), (found.title, found.url)]
    return render_template(
        "site/article.html", article=found, lang=found.lang, t=pages.LABELS[found.lang], body_html=rendered.html,
        toc=[e for e in rendered.toc if e.level in (2, 3)], related=related, vote=vote, votes=votes,
        translations=public.translations.get(found.slug, []),
        updated=pages.format_date(found.updated, found.lang), canonical_url=_canonical(found.url),
        meta_description=found.summary or found.title, max_comment=MAX_COMMENT_CHARS,
        jsonld=[pages.article_jsonld(settings.base_url, found, settings.site_name),
                pages.breadcrumbs_jsonld(settings.base_url, trail)],
    )


def _is_reload(article: Article) -> bool:
    """A reload or the return after voting: not a new view."""
    referrer = request.referrer or ""
    return bool(referrer) and referrer.split("#")[0].endswith(article.url)


@bp.post("/articles/<slug>/feedback")
@public_form
def feedback(slug: str):
    found = _kb().catalog.articles.get(slug)
    if found is None or not found.is_public:
        abort(404)
    rate_limit(_state()["vote"], "vote")
    helpful = request.form.get("helpful", "")
    comment = request.form.get("comment", "").strip()
    if helpful not in ("yes", "no", ""):
        raise KbError("bad_vote", "اختر «نعم» أو «لا».", field="helpful")
    if len(comment) > MAX_COMMENT_CHARS:
        raise KbError("comment_too_long", f"التعليق أطول من {MAX_COMMENT_CHARS} حرف.", field="comment")
    if not helpful and not comment:
        raise KbError("empty_feedback", "لم يصل أي رأي: اختر «نعم» أو «لا» أو اكتب تعليقًا.", field="helpful")
    visitor = visitor_key()
    analytics = _analytics()
    if helpful:
        recorded = analytics.record_vote(found.slug, visitor, helpful == "yes", comment or None)
    else:
        recorded = analytics.add_comment(found.slug, visitor, comment)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"recorded": recorded, "vote": analytics.vote_of(found.slug, visitor)})
    return redirect(article_url(found.slug, "feedback"), code=303)


@bp.get("/faq")
def faq():
    """Every FAQ entry by category; past FAQ_ALL_LIMIT entries, the first few per category
    with a link to the category's own FAQ page (a 10k-article site has tens of thousands)."""
    public = public_catalog()
    entries = [pair for _, group in public.faq for pair in group]
    preview = len(entries) > FAQ_ALL_LIMIT
    groups = [(category, group[:FAQ_PREVIEW] if preview else group, len(group)) for category, group in public.faq]
    shown = [pair for _, group, _ in groups for pair in group]
    return render_template(
        "site/faq.html", groups=groups, count=len(entries), category=None, canonical_url=_canonical("/faq"),
        meta_description="الأسئلة الشائعة وإجاباتها، مرتبة حسب القسم.", jsonld=[pages.faq_jsonld(shown)],
    )


@bp.get("/faq/<slug>")
def category_faq(slug: str):
    public = public_catalog()
    found = public.category(slug)
    group = next((g for c, g in public.faq if c.slug == slug), None)
    if found is None or group is None:
        abort(404)
    page, pages_total, shown = _paginate(group, FAQ_PAGE_SIZE)
    return render_template(
        "site/faq.html", groups=[(found, shown, len(group))], count=len(group), category=found, page=page,
        pages_total=pages_total, canonical_url=_canonical(url_for("site.category_faq", slug=slug, page=page if page > 1 else None)),
        meta_description=f"الأسئلة الشائعة في قسم {found.name}.", jsonld=[pages.faq_jsonld(shown)],
    )


def _paginate(items: list, size: int) -> tuple[int, int, list]:
    """(page, number of pages, the page's items) for the ?page= argument; past the end,
    :func:`redirect_past_end` sends the reader to the last page."""
    pages_total = max(1, (len(items) + size - 1) // size)
    page = _int_arg("page", 1, 1, 10**6)
    if page > pages_total:
        redirect_past_end(pages_total)
    return page, pages_total, items[(page - 1) * size:page * size]


def redirect_past_end(last_page: int) -> None:
    """A page number past the end (an old link, a list that got shorter) answers with a
    redirect to the last page, not an empty "no results" page."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(last_page)] if last_page > 1 else []
    abort(redirect(url_for(request.endpoint, **(request.view_args or {}), **{k: v for k, v in args.items() if v}),
                   code=302))


@bp.get("/search")
def search():
    settings = _settings()
    public = public_catalog()
    query = " ".join(request.args.get("q", "").split())[: settings.max_query_chars]
    category = request.args.get("category", "").strip() or None
    if category and public.category(category) is None:
        category = None
    page = _int_arg("page", 1, 1, MAX_PAGE)
    context = {"query": query, "category": category, "categories": public.categories, "page": page,
               "robots": "noindex", "canonical_url": None}
    if not query:
        popular, _ = _popular(public)
        return render_template("site/search.html", result=None, popular=popular, **context)
    rate_limit(_state()["search"], "search")
    result = _kb().search_page(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, category=category)
    if page == 1:
        search_id = _analytics().record_search(query, result.total, category)
    else:
        search_id = _int_arg("sid", 0, 0, 2**62) or None
    pages_total = min(MAX_PAGE, (result.total + PAGE_SIZE - 1) // PAGE_SIZE)
    if page > 1 and page > pages_total and result.total:
        redirect_past_end(pages_total)
    popular = _popular(public)[0] if not result.hits else []
    return render_template(
        "site/search.html", result=result, search_id=search_id, pages_total=pages_total, popular=popular,
        first_rank=(page - 1) * PAGE_SIZE + 1, **context,
    )


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))


@bp.get("/search/click")
def search_click():
    """Record which result a search led to, then go there (plain links: works without JS)."""
    found = _kb().catalog.articles.get(request.args.get("to", ""))
    if found is None or not found.is_public:
        abort(404)
    search_id = _int_arg("sid", 0, 0, 2**62)
    if search_id:
        _analytics().record_click(search_id, found.slug, _int_arg("rank", 0, 0, 10_000))
    anchor = request.args.get("section") or None
    return redirect(article_url(found.slug, unquote(anchor) if anchor else None), code=303)


@bp.get("/search/suggest")
def suggest():
    """Search-as-you-type: JSON for static/js/site.js."""
    query = request.args.get("q", "")[:200]
    if len(query.strip()) < 2:
        return jsonify({"query": query, "suggestions": []})
    rate_limit(_state()["suggest"], "suggest")
    try:
        hits = _kb().autocomplete(query, limit=SUGGESTIONS)
    except Exception:  # suggestions are optional: never break the search box over them
        logger.exception("autocomplete failed for a %d-character prefix", len(query))
        hits = []
    return jsonify({
        "query": query,
        "suggestions": [
            {"title": hit.title, "url": hit.section_url or hit.url, "section": hit.section, "category": hit.category,
             "lang": hit.lang}
            for hit in hits
        ],
    })


@bp.get("/sitemap.xml")
def sitemap():
    public = public_catalog()
    xml = public.rendered.get("sitemap")  # ~1 MB at 10k articles: built once per catalog version
    if xml is None:
        xml = render_template("site/sitemap.xml", entries=pages.sitemap_entries(public, _settings().base_url))
        public.rendered["sitemap"] = xml
    return Response(xml, mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", "Disallow: /search", "Disallow: /staff/", "Disallow: /api/",
             f"Sitemap: {_canonical('/sitemap.xml')}", ""]
    return Response("\n".join(lines), mimetype="text/plain")
