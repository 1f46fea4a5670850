"""Blueprint "site": the customer-facing help center, in every interface language.

Pages: home, category, article (+ feedback), FAQ, search (+ suggestions and the click
redirect that tells analytics which result a search led to: their views are
:mod:`kb.web.site_search`, registered here), sitemap.xml, robots.txt.  What the view
modules share (the per-app state, the most-viewed list) is :mod:`kb.web.site_support`.
Customers only ever see public, published articles: everything else is a 404, and search,
suggestions, related lists and the sitemap never include it.  Every page works without
JavaScript; ``static/js/site.js`` adds search-as-you-type and in-place voting.

The interface language comes from the URL (``/en/faq``), else the browser, else the
site default (:mod:`kb.web.i18n`); an article's own URL shows it in its own language.
Lists show the page language's articles first (:func:`kb.web.pages.language_view`).
"""

from __future__ import annotations

import itertools
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask_babel import gettext as _

from kb.store.analytics import MAX_COMMENT_CHARS
from kb.content.articles import Article
from kb.errors import KbError
from kb.urls import absolute_url
from kb.urls import category_url
from kb.web import branding
from kb.web import i18n
from kb.web import pages
from kb.web import site_search
from kb.web.category_names import category_description
from kb.web.category_names import category_name
from kb.web.security import public_form
from kb.web.security import rate_limit
from kb.web.security import visitor_key
from kb.web.site_support import HOME_LIST
from kb.web.site_support import invalidate_public_catalog  # noqa: F401 - re-exported (the staff views call it)
from kb.web.site_support import int_arg
from kb.web.site_support import knowledge
from kb.web.site_support import popular_articles
from kb.web.site_support import public_catalog
from kb.web.site_support import redirect_past_end
from kb.web.site_support import site_analytics
from kb.web.site_support import site_settings
from kb.web.site_support import site_state

bp = Blueprint("site", __name__)
bp.add_app_template_filter(category_url, "category_href")


@bp.app_template_filter("absolute")
def absolute(path: str) -> str:
    """A site path as a full URL under the configured base_url."""
    return absolute_url(current_app.extensions["kb_settings"].base_url, path)

CATEGORY_PAGE_SIZE = 50
FAQ_ALL_LIMIT = 300  # up to this many entries, /faq shows them all
FAQ_PREVIEW = 10  # otherwise this many per category, and /faq/<category> has the rest
FAQ_PAGE_SIZE = 100


# -- helpers -------------------------------------------------------------------------------


def _site_name(lang: str | None = None) -> str:
    """The brand's name of the help center in ``lang`` (default: the page's language)."""
    return branding.site_name(lang or i18n.current_language())


def can_see(article: Article | None) -> bool:
    """Whether this request may show the article: public ones for everyone, the rest for
    signed-in staff only (the staff blueprint sets ``g.staff_user``)."""
    if article is None:
        return False
    return article.is_public or g.get("staff_user") is not None


def _canonical(path: str) -> str:
    return absolute(path)


def _language_page(path: str) -> dict:
    """Canonical URL and hreflang alternates of a page without a language of its own (home,
    FAQ, a category): its URL in each interface language, and the browser-chosen one."""
    alternates = [(lang, absolute(f"/{lang}{path}")) for lang in i18n.languages()]
    alternates.append(("x-default", absolute(path)))
    return {"canonical_url": absolute(f"/{i18n.current_language()}{path}"), "alternates": alternates}


def _view() -> pages.LanguageView:
    return pages.language_view(public_catalog(), i18n.current_language())


def _top_questions(articles, limit: int = HOME_LIST) -> list[tuple[Article, object]]:
    """The first FAQ entry of each article, in the page's language only, one per article."""
    questions = []
    seen: set[str] = set()
    lang = i18n.current_language()
    for article in articles:
        if article.faq and article.lang == lang and article.slug not in seen:
            seen.add(article.slug)
            questions.append((article, article.faq[0]))
            if len(questions) >= limit:
                break
    return questions


# -- pages ---------------------------------------------------------------------------------


@bp.get("/")
def home():
    public = public_catalog()
    view = _view()
    popular, by_views = popular_articles(public)
    top_faq = _top_questions(itertools.chain(popular, view.recent))
    return render_template(
        "site/home.html", categories=view.categories, popular=popular, popular_by_views=by_views,
        top_faq=top_faq, **_language_page("/"),
        meta_description=_("%(site)s: find answers to your questions, browse the articles and the frequently asked "
                           "questions.", site=_site_name()),
    )


@bp.get("/categories/<slug>")
def category(slug: str):
    public = public_catalog()
    found = public.category(slug)
    if found is None:
        abort(404)
    articles = _view().by_category.get(found.slug, [])
    page, pages_total, shown = _paginate(articles, CATEGORY_PAGE_SIZE)
    path = category_url(found.slug) + (f"?page={page}" if page > 1 else "")
    prefix = f"/{i18n.url_language()}" if i18n.url_language() else ""
    trail = [(_("Home"), prefix + "/"), (category_name(found), prefix + category_url(found.slug))]
    return render_template(
        "site/category.html", category=found, articles=shown, count=len(articles), page=page, pages_total=pages_total,
        has_faq=any(c.slug == found.slug for c, _entries in public.faq), **_language_page(path),
        meta_description=category_description(found) or category_name(found),
        jsonld=[pages.breadcrumbs_jsonld(site_settings().base_url, trail)],
    )


@bp.get("/articles/<slug>")
def article(slug: str):
    found = knowledge().catalog.articles.get(slug)
    if not can_see(found):
        abort(404)
    i18n.use_language(found.lang)  # its own URL: the article's language
    public = public_catalog()
    settings = site_settings()
    rendered = pages.rendered(found)
    try:
        related = knowledge().related(found.slug, limit=5)
    except KbError:
        related = []
    visitor = visitor_key(create=False)
    vote = site_analytics().vote_of(found.slug, visitor) if visitor else None
    votes = site_analytics().article_votes(found.slug)
    if found.is_public and not _is_reload(found):
        site_analytics().record_view(found.slug)
    translations = public.translations.get(found.slug, [])
    ui_lang = i18n.current_language()
    prefix = f"/{i18n.url_language()}" if i18n.url_language() else ""
    trail = [(_("Home"), prefix + "/"), (category_name(found.category), prefix + category_url(found.category_slug)),
             (found.title, found.url)]
    alternates = [(a.lang, absolute(a.url)) for a in [found, *translations]] if translations else []
    return render_template(
        "site/article.html", article=found, body_html=rendered.html,
        toc=[e for e in rendered.toc if e.level in (2, 3)], related=related, vote=vote, votes=votes,
        translations=translations,
        updated=pages.format_date(found.updated, ui_lang), canonical_url=_canonical(found.url), alternates=alternates,
        switch_targets=_article_targets(found, translations),
        meta_description=found.summary or found.title, max_comment=MAX_COMMENT_CHARS,
        jsonld=[pages.article_jsonld(settings.base_url, found, _site_name(found.lang),
                                     section=category_name(found.category, found.lang)),
                pages.breadcrumbs_jsonld(settings.base_url, trail)],
    )


def _article_targets(article: Article, translations: list[Article]) -> dict[str, str]:
    """Where the language switcher goes from an article: its translation in that language
    when there is one, else this article inside the other interface language."""
    targets = {lang: i18n.localized(article.url, lang) for lang in i18n.languages()}
    for other in [article, *translations]:
        targets[other.lang] = i18n.unprefixed(other.url)
    return targets


def _is_reload(article: Article) -> bool:
    """A reload or the return after voting: not a new view."""
    referrer = request.referrer or ""
    return bool(referrer) and referrer.split("#")[0].endswith(article.url)


@bp.post("/articles/<slug>/feedback")
@public_form
def feedback(slug: str):
    found = knowledge().catalog.articles.get(slug)
    if found is None or not found.is_public:
        abort(404)
    rate_limit("vote", site_state()["vote"])
    helpful = request.form.get("helpful", "")
    comment = request.form.get("comment", "").strip()
    if helpful not in ("yes", "no", ""):
        raise KbError("bad_vote", _("Choose “Yes” or “No”."), field="helpful")
    if len(comment) > MAX_COMMENT_CHARS:
        raise KbError("comment_too_long", _("The comment is longer than %(count)d characters.", count=MAX_COMMENT_CHARS),
                      field="comment")
    if not helpful and not comment:
        raise KbError("empty_feedback", _("No feedback arrived: choose “Yes” or “No”, or write a comment."),
                      field="helpful")
    visitor = visitor_key()
    analytics = site_analytics()
    if helpful:
        recorded = analytics.record_vote(found.slug, visitor, helpful == "yes", comment or None)
    else:
        recorded = analytics.add_comment(found.slug, visitor, comment)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"recorded": recorded, "vote": analytics.vote_of(found.slug, visitor)})
    return redirect(i18n.article_href(found) + "#feedback", code=303)


@bp.get("/faq")
def faq():
    """Every FAQ entry by category; past FAQ_ALL_LIMIT entries, the first few per category
    with a link to the category's own FAQ page (a 10k-article site has tens of thousands)."""
    faq = _view().faq
    entries = [pair for _category, group in faq for pair in group]
    preview = len(entries) > FAQ_ALL_LIMIT
    groups = [(category, group[:FAQ_PREVIEW] if preview else group, len(group)) for category, group in faq]
    shown = [pair for _category, group, _total in groups for pair in group]
    return render_template(
        "site/faq.html", groups=groups, count=len(entries), category=None, **_language_page("/faq"),
        meta_description=_("Frequently asked questions and their answers, by section."),
        jsonld=[pages.faq_jsonld(shown)],
    )


@bp.get("/faq/<slug>")
def category_faq(slug: str):
    found = public_catalog().category(slug)
    group = next((g for c, g in _view().faq if c.slug == slug), None)
    if found is None or group is None:
        abort(404)
    page, pages_total, shown = _paginate(group, FAQ_PAGE_SIZE)
    path = "/faq/" + quote(found.slug, safe="") + (f"?page={page}" if page > 1 else "")
    return render_template(
        "site/faq.html", groups=[(found, shown, len(group))], count=len(group), category=found, page=page,
        pages_total=pages_total, **_language_page(path),
        meta_description=_("Frequently asked questions in the section %(section)s.", section=category_name(found)),
        jsonld=[pages.faq_jsonld(shown)],
    )


def _paginate(items: list, size: int) -> tuple[int, int, list]:
    """(page, number of pages, the page's items) for the ?page= argument; past the end,
    :func:`redirect_past_end` sends the reader to the last page."""
    pages_total = max(1, (len(items) + size - 1) // size)
    page = int_arg("page", 1, 1, 10**6)
    if page > pages_total:
        redirect_past_end(pages_total)
    return page, pages_total, items[(page - 1) * size:page * size]


# The search pages (kb.web.site_search): results, the click redirect, suggestions; endpoints
# site.search, site.search_click and site.suggest, as when they were defined here.
bp.add_url_rule("/search", view_func=site_search.search, methods=["GET"])
bp.add_url_rule("/search/click", view_func=site_search.search_click, methods=["GET"])
bp.add_url_rule("/search/suggest", view_func=site_search.suggest, methods=["GET"])


@bp.get("/sitemap.xml")
def sitemap():
    public = public_catalog()
    xml = public.rendered.get("sitemap")  # ~1 MB at 10k articles: built once per catalog version
    if xml is None:
        xml = render_template("site/sitemap.xml",
                              entries=pages.sitemap_entries(public, site_settings().base_url, i18n.languages()))
        public.rendered["sitemap"] = xml
    return Response(xml, mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", "Disallow: /search", "Disallow: /staff/", "Disallow: /api/"]
    for lang in i18n.languages():  # the same pages under each language prefix
        lines += [f"Disallow: /{lang}/search", f"Disallow: /{lang}/staff/"]
    lines += [f"Sitemap: {_canonical('/sitemap.xml')}", ""]
    return Response("\n".join(lines), mimetype="text/plain")
