"""What the help-center pages show, computed from the catalog: no Flask views here.

``public_catalog()`` gathers what customers may see (public articles, categories with
counts, FAQ entries, translations) once per state of the catalog rather than on every
request (:class:`PublicCatalogCache`), so the home and FAQ pages stay fast at 10k articles.  Article HTML is rendered once per
article version (``rendered``).

Each interface language sees the catalog through :func:`language_view`: its own articles
first, then those of other languages that have no translation in it (a translated pair
shows once, in the reader's language, as in search results).  Hiding the rest would leave
a mostly-Arabic help center nearly empty for an English reader; listing both versions of
a pair would make every list twice as long.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from urllib.parse import quote

from babel.dates import format_date as babel_format_date

from kb.content.articles import Article
from kb.content.articles import Category
from kb.content.articles import FaqEntry
from kb.content.articles import categories_in_use
from kb.content.render import Rendered
from kb.content.render import render_markdown
from kb.urls import absolute_url
from kb.urls import article_url
from kb.urls import category_url

CATALOG_TTL_SECONDS = 60.0

def format_date(value: dt.date | None, lang: str = "ar") -> str:
    """'20 نوفمبر 2026' or 'November 20, 2026': CLDR's long date of the language (Latin digits)."""
    if value is None:
        return ""
    return babel_format_date(value, "long", locale=lang)


@lru_cache(maxsize=1024)
def _render(checksum: str, body: str) -> Rendered:
    return render_markdown(body)


def rendered(article: Article) -> Rendered:
    """The article's sanitized HTML and table of contents, rendered once per version."""
    return _render(article.checksum, article.body)


@dataclass
class PublicCatalog:
    """What customers may see, grouped for the pages."""

    articles: dict[str, Article] = field(default_factory=dict)
    categories: list[tuple[Category, int]] = field(default_factory=list)  # (category, public article count)
    by_category: dict[str, list[Article]] = field(default_factory=dict)  # category slug -> articles
    translations: dict[str, list[Article]] = field(default_factory=dict)  # slug -> its other-language versions
    faq: list[tuple[Category, list[tuple[Article, FaqEntry]]]] = field(default_factory=list)
    recent: list[Article] = field(default_factory=list)  # newest first
    rendered: dict[str, object] = field(default_factory=dict)  # page caches tied to this grouping (sitemap)

    def category(self, slug: str) -> Category | None:
        return next((c for c, _ in self.categories if c.slug == slug), None)


def build_public_catalog(articles: list[Article], all_categories: dict[str, Category]) -> PublicCatalog:
    """Group the public articles for the pages (pure: a list in, a PublicCatalog out)."""
    from kb.content.articles import Catalog

    public = [a for a in articles if a.is_public]
    public.sort(key=lambda a: (a.lang != "ar", a.title))
    categories = categories_in_use(Catalog(articles={a.slug: a for a in public}, categories=all_categories))
    by_category: dict[str, list[Article]] = {c.slug: [] for c in categories}
    for article in public:
        by_category.setdefault(article.category_slug, []).append(article)
    translations: dict[str, list[Article]] = {}
    by_slug = {a.slug: a for a in public}
    for article in public:
        other = by_slug.get(article.translation_of or "")
        if other is not None and other.lang != article.lang:
            translations.setdefault(article.slug, []).append(other)
            translations.setdefault(other.slug, []).append(article)
    faq = []
    for category in categories:
        entries = [(a, entry) for a in by_category.get(category.slug, []) for entry in a.faq]
        if entries:
            faq.append((category, entries))
    recent = sorted(public, key=lambda a: (a.updated or dt.date.min, a.slug), reverse=True)
    return PublicCatalog(
        articles=by_slug,
        categories=[(c, len(by_category.get(c.slug, []))) for c in categories],
        by_category=by_category,
        translations=translations,
        faq=faq,
        recent=recent,
    )


@dataclass
class LanguageView:
    """The public catalog as one interface language lists it (see the module docstring)."""

    lang: str
    categories: list[tuple[Category, int]]  # categories with articles in this view, and how many
    by_category: dict[str, list[Article]]
    faq: list[tuple[Category, list[tuple[Article, FaqEntry]]]]
    recent: list[Article]


def in_language(articles: list[Article], lang: str, translations: dict[str, list[Article]]) -> list[Article]:
    """``lang``'s articles first, then the others that have no translation in ``lang``; the
    order within each group is kept (pure)."""
    own = [a for a in articles if a.lang == lang]
    others = [a for a in articles
              if a.lang != lang and not any(t.lang == lang for t in translations.get(a.slug, []))]
    return own + others


def language_view(public: PublicCatalog, lang: str) -> LanguageView:
    """:func:`in_language` applied to every list of the catalog, built once per catalog version."""
    key = f"language:{lang}"
    view = public.rendered.get(key)
    if view is None:
        by_category = {slug: in_language(articles, lang, public.translations)
                       for slug, articles in public.by_category.items()}
        categories = [(c, len(by_category.get(c.slug, []))) for c, _ in public.categories]
        faq = []
        for category, _ in categories:
            entries = [(a, entry) for a in by_category.get(category.slug, []) for entry in a.faq]
            if entries:
                faq.append((category, entries))
        view = LanguageView(lang=lang, categories=[(c, n) for c, n in categories if n], by_category=by_category,
                            faq=faq, recent=in_language(public.recent, lang, public.translations))
        public.rendered[key] = view
    return view  # type: ignore[return-value]


def public_languages(public: PublicCatalog) -> frozenset[str]:
    """The languages that have public articles, found once per catalog version (the widget
    asks on every search)."""
    found = public.rendered.get("languages")
    if found is None:
        found = public.rendered.setdefault("languages", frozenset(a.lang for a in public.articles.values()))
    return found  # type: ignore[return-value]


def _group(catalog) -> PublicCatalog:
    return build_public_catalog(list(catalog.articles.values()), dict(catalog.categories))


class PublicCatalogCache:
    """``build_public_catalog`` of a KnowledgeBase's catalog, regrouped only when the catalog changed.

    At 10k articles a regrouping takes a few hundred milliseconds, so it is not done per
    request.  The grouping is kept with the catalog it was made from (``Catalog.derived``), for that catalog's
    :attr:`~kb.content.articles.Catalog.version`, which follows every change: a publish, an
    edit or a delete changes the live catalog in place, the watcher and replication replace
    its articles or categories, a full re-read replaces the catalog.  The next request after
    any of them regroups (once, under a lock); every other request reuses the grouping.

    A catalog whose articles are a plain dict has no version (a caller may change it behind
    the catalog's back): it is keyed on the mapping, its size and the index marker, regrouped
    at once when one of them moves or after :meth:`invalidate`, and otherwise every ``ttl``
    seconds in a background thread while requests keep the previous grouping.
    """

    def __init__(self, ttl: float = CATALOG_TTL_SECONDS):
        self.ttl = ttl
        self._lock = threading.Lock()
        # (the catalog, weakly: a new catalog at a freed one's address is not taken for it;
        #  its key; the grouping), read and replaced as one tuple so a request never pairs
        #  one grouping with another's key.
        self._entry: tuple[weakref.ref, tuple, PublicCatalog] | None = None
        self._built_at = 0.0
        self._refreshing = False

    @staticmethod
    def _key_of(knowledge, catalog) -> tuple:
        """An unversioned catalog's state, as near as it can be told from outside."""
        store = getattr(knowledge, "store", None)
        marker = store.current_marker() if store is not None else None
        return (id(catalog.articles), len(catalog.articles), marker)

    def _kept(self, catalog, key: tuple) -> PublicCatalog | None:
        """The grouping kept for this catalog in this state, if there is one."""
        entry = self._entry
        if entry is not None and entry[0]() is catalog and entry[1] == key:
            return entry[2]
        return None

    def get(self, knowledge) -> PublicCatalog:
        catalog = knowledge.catalog
        if catalog.version is not None:
            # Kept with the catalog, once per state (Catalog.derived).  Under the lock, so that
            # the requests right after a change regroup once between them, not each.
            with self._lock:
                return catalog.derived("web.public_catalog", _group)
        key = self._key_of(knowledge, catalog)  # read before grouping: a change meanwhile regroups next time
        value = self._kept(catalog, key)
        if value is not None:
            if time.monotonic() - self._built_at > self.ttl:
                self._refresh_in_background(knowledge)
            return value
        with self._lock:
            value = self._kept(catalog, key)
            if value is None:
                value = self._rebuild(catalog, key)
            return value

    def _rebuild(self, catalog, key: tuple) -> PublicCatalog:
        value = _group(catalog)
        self._entry = (weakref.ref(catalog), key, value)
        self._built_at = time.monotonic()
        return value

    def _refresh_in_background(self, knowledge) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
            self._built_at = time.monotonic()  # one refresh per period, even if it is slow

        def refresh() -> None:
            try:
                with self._lock:
                    catalog = knowledge.catalog
                    self._rebuild(catalog, self._key_of(knowledge, catalog))
            finally:
                self._refreshing = False

        threading.Thread(target=refresh, name="kb-public-catalog", daemon=True).start()

    def invalidate(self) -> None:
        """Forget the cached grouping, so the next page regroups (a publish's views call it; a
        versioned catalog would be regrouped anyway)."""
        with self._lock:
            self._entry = None


# -- structured data (schema.org JSON-LD) -------------------------------------------------


def breadcrumbs_jsonld(base_url: str, trail: list[tuple[str, str]]) -> dict:
    """BreadcrumbList for [(name, path), ...]."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": absolute_url(base_url, path)}
            for i, (name, path) in enumerate(trail, 1)
        ],
    }


def article_jsonld(base_url: str, article: Article, site_name: str, section: str | None = None) -> dict:
    """schema.org Article; ``section`` is its category's name in the article's language
    (default: the name the article gives)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title[:110],
        "inLanguage": article.lang,
        "mainEntityOfPage": absolute_url(base_url, article_url(article.slug)),
        "publisher": {"@type": "Organization", "name": site_name},
        "articleSection": section or article.category,
    }
    if article.summary:
        data["description"] = article.summary
    if article.updated:
        data["dateModified"] = article.updated.isoformat()
    if article.tags:
        data["keywords"] = ", ".join(article.tags)
    return data


def faq_jsonld(entries: list[tuple[Article, FaqEntry]]) -> dict:
    """schema.org FAQPage with every question and its answer."""
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": entry.q,
                "inLanguage": article.lang,
                "acceptedAnswer": {"@type": "Answer", "text": entry.a},
            }
            for article, entry in entries
        ],
    }


def sitemap_entries(public: PublicCatalog, base_url: str, languages: tuple[str, ...] = ("ar", "en")) -> list[dict]:
    """One dict per URL: loc, lastmod (or None) and alternates [(hreflang, href)].

    Pages without a language of their own (home, FAQ, categories) are listed once per
    interface language (``/<lang>/faq``), each naming the others and the browser-chosen
    ``x-default``; an article is listed at its own URL with its translations."""
    neutral = ["/", "/faq"]
    neutral += [category_url(category.slug) for category, _ in public.categories]
    neutral += ["/faq/" + quote(category.slug, safe="") for category, _ in public.faq]
    entries = []
    for path in neutral:
        alternates = [(lang, absolute_url(base_url, f"/{lang}{path}")) for lang in languages]
        alternates.append(("x-default", absolute_url(base_url, path)))
        for lang in languages:
            entries.append({"loc": absolute_url(base_url, f"/{lang}{path}"), "lastmod": None, "alternates": alternates})
    for article in public.articles.values():
        alternates = []
        others = public.translations.get(article.slug, [])
        if others:
            alternates = [(a.lang, absolute_url(base_url, a.url)) for a in [article, *others]]
        entries.append({
            "loc": absolute_url(base_url, article.url),
            "lastmod": article.updated.isoformat() if article.updated else None,
            "alternates": alternates,
        })
    return entries
