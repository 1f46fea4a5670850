"""Category names and descriptions in the reader's language, wherever the site, the contact
form, the widget, the agent panel and the API show one.

``_categories.yml`` may give a category's name and description in other languages
(:class:`kb.content.categories.Category`).  The reader's language is the page's on pages
and in the JSON they fetch, the widget's ``data-lang`` in the widget, and the article's own
language next to a hit or an article in the API and the agent panel: those have no page
language, and what they return goes to a customer with the article.  A category that
``_categories.yml`` does not list, or does not translate, shows its own name.

Articles name their category by its name in ``_categories.yml`` (the front matter's
``category:``), so a name is looked up in the live catalog.  The staff pages show it in the
staff UI's language too: the articles list (its filter keeps the stored name as the value,
what the view compares), and the editor's category field and its suggestions, which offer
the name in that language when the field takes it back as the same category
(:func:`kb.content.categories.find_category`; the article still stores the entry's name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from flask import Flask
from flask import current_app

from kb.content.categories import Category
from kb.content.categories import find_category
from kb.web import i18n

if TYPE_CHECKING:
    from kb.search.hits import Hit


def _listed(value: Category | str | None) -> Category | None:
    """The catalog's category of that name (the live one: the public catalog's copy may be a
    few seconds old), else ``value`` itself when it is a Category."""
    name = value.name if isinstance(value, Category) else str(value or "")
    found = current_app.extensions["kb"].catalog.categories.get(name)
    return found or (value if isinstance(value, Category) else None)


def category_name(value: Category | str | None, lang: str | None = None) -> str:
    """A category (or the name an article gives it) as readers of ``lang`` see it; ``lang``
    defaults to the page's language."""
    found = _listed(value)
    if found is None:
        return str(value or "")
    return found.name_in(lang or i18n.current_language())


def category_description(value: Category | str | None, lang: str | None = None) -> str:
    """A category's description in ``lang`` (default: the page's language), else its own; "" if none."""
    found = _listed(value)
    return found.description_in(lang or i18n.current_language()) if found is not None else ""


def category_choices(names: Iterable[str], lang: str | None = None) -> list[tuple[str, str]]:
    """(stored name, name shown in ``lang``) for each category name, in the order of the
    shown names: a staff filter's options, whose value stays the name articles store."""
    return sorted(((name, category_name(name, lang)) for name in set(names)),
                  key=lambda choice: (choice[1].casefold(), choice[0]))


def category_field_name(name: str, lang: str | None = None) -> str:
    """The editor's category field's text for a category: its name in ``lang`` (default: the
    page's) when the field takes that text back as this very category, else ``name`` as
    given (an unlisted category, or a translated name another category answers to too)."""
    found = _listed(name)
    if found is None:
        return name
    shown = found.name_in(lang or i18n.current_language())
    categories = current_app.extensions["kb"].catalog.categories
    return shown if shown == name or find_category(shown, categories) == found else name


def hit_in(hit: Hit, lang: str | None = None) -> Hit:
    """The hit with its category named for ``lang`` (default: the language of the hit's article)."""
    name = category_name(hit.category, lang or hit.lang)
    return hit if name == hit.category else replace(hit, category=name)


def init_app(app: Flask) -> None:
    """The template filters: ``{{ category|category_name }}``, ``{{ article.category|category_name }}``,
    ``{{ form.category|category_field_name }}``."""
    app.jinja_env.filters["category_name"] = category_name
    app.jinja_env.filters["category_field_name"] = category_field_name
    app.jinja_env.filters["category_description"] = category_description
