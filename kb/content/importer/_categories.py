"""Which category imported drafts go into: one the folder's ``_categories.yml`` lists.

``kb check`` warns about an article whose category ``_categories.yml`` does not list, so an
import must never write one: ``--category`` takes a listed name, slug or name in another
language (anything else is an error naming the known ones), and without it drafts go into
the default category "عام",
which the first import adds to ``_categories.yml`` when the list lacks it (named "General" on
English pages).  A folder with no
category list accepts any category (there is nothing to check against, and kb check does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.content.articles import UNCATEGORIZED
from kb.content.articles import Category
from kb.content.articles import load_categories
from kb.content.categories import CategoryText
from kb.content.categories import find_category
from kb.content.categories import known_categories
from kb.errors import KbError
from kb.errors import errors_in
from kb.fsutil import atomic_write_text
from kb.text import slugify
from kb.translation import N_

CATEGORIES_FILE = "_categories.yml"
DEFAULT_CATEGORY = UNCATEGORIZED  # "عام": also what an article without a category field is in
DEFAULT_SLUG = "general"
DEFAULT_DESCRIPTION = "مقالات لا تندرج تحت تصنيف آخر."
# The default category's name on the pages of the other interface languages (kb.content.categories).
DEFAULT_TRANSLATIONS = {"en": {"name": "General", "description": "Articles that fit no other category."}}


@dataclass(frozen=True)
class CategoryChoice:
    """The category name drafts are written with, and whether _categories.yml must list it first."""

    name: str
    needs_listing: bool = False
    note: str | None = None  # e.g. which category a slug named


def choose_category(articles_dir: Path, requested: str | None) -> CategoryChoice:
    """Resolve ``--category`` (a listed name, slug or translated name) or the default; KbError for an unknown one.

    The error lists the known categories by their names in ``_categories.yml`` (the default
    language), whatever ``cli_language`` is: the CLI prints category names as written, and
    those are the names articles and the file give."""
    categories, problems = load_categories(Path(articles_dir))
    listed = bool(categories) and not errors_in(problems)
    if requested is None or not requested.strip():
        return CategoryChoice(DEFAULT_CATEGORY, needs_listing=listed and DEFAULT_CATEGORY not in categories)
    requested = requested.strip()
    if not listed or requested in categories:
        return CategoryChoice(requested)
    # A listed name, slug or name in another language, as the editor's field takes them
    # (kb.content.categories.find_category): "Orders" as well as "orders" and "الطلبات".
    found = find_category(requested, categories)
    if found is not None:
        if requested.lower() == found.slug.lower() or slugify(requested) == found.slug:
            return CategoryChoice(found.name, note=N_("category %(requested)r is the slug of %(name)r",
                                                      requested=requested, name=found.name))
        return CategoryChoice(found.name, note=N_("category %(requested)r is %(name)r", requested=requested,
                                                  name=found.name))
    known = known_categories(categories)
    raise KbError("unknown_category", N_("unknown category %(requested)r: _categories.yml lists %(known)s. Give one of "
                                         "these names or slugs, or add the category (staff pages or _categories.yml) "
                                         "first", requested=requested, known=known),
                  field="category")


def add_category(articles_dir: Path, name: str) -> Category:
    """Append ``name`` to _categories.yml, leaving the rest of the file (comments, order) as written."""
    path = Path(articles_dir) / CATEGORIES_FILE
    categories, _ = load_categories(Path(articles_dir))
    slugs = {c.slug for c in categories.values()}
    base = DEFAULT_SLUG if name == DEFAULT_CATEGORY else slugify(name) or "category"
    slug = next(s for s in (base if n == 1 else f"{base}-{n}" for n in range(1, 10_000)) if s not in slugs)
    description = DEFAULT_DESCRIPTION if name == DEFAULT_CATEGORY else ""
    translations = DEFAULT_TRANSLATIONS if name == DEFAULT_CATEGORY else {}
    entry = {"name": name, "slug": slug, **({"description": description} if description else {}),
             **({"translations": translations} if translations else {})}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    appended = text + yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=10_000)
    try:
        readable = yaml.safe_load(appended) == [*(yaml.safe_load(text) or []), entry]
    except yaml.YAMLError:
        readable = False
    if not readable:  # a list in flow style ([{...}]): written again whole, in block style
        appended = yaml.safe_dump([*(yaml.safe_load(text) or []), entry], allow_unicode=True, sort_keys=False,
                                  width=10_000)
    atomic_write_text(path, appended)
    return Category(name=name, slug=slug, description=description, order=len(categories),
                    translations=tuple((lang, CategoryText(**text)) for lang, text in translations.items()))
