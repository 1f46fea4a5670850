"""The categories file (``_categories.yml``): the editors' list of categories, in display order.

Apart from :mod:`kb.content.articles` because it is a file of its own with its own format
and checks: each entry names a category, may give it a URL slug, a description and their
translations, and its place in the list is the order the site shows.  An article only
names its category; this gives the category its slug (:func:`with_category_slug`).

An entry's ``name`` and ``description`` are written in the help center's default
language; ``translations`` gives them in the other interface languages::

    - name: "الشكاوى والعملاء الغاضبون"
      slug: complaints-and-angry-customers
      description: "كيف تهدئ العميل الغاضب، وتدير الشكاوى والتقييمات السلبية."
      translations:
        en:
          name: "Complaints and angry customers"
          description: "How to calm an angry customer and handle complaints and negative reviews."

Pages show a category in their reader's language (:meth:`Category.name_in`), falling back
field by field to the entry's own name and description.  The slug has no language: a
category has one URL in every language.  Names and descriptions are display text only
(the search index keeps the slug), so changing them never needs a re-index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kb.content.front_matter import yaml_problem
from kb.errors import Problem
from kb.text import normalize_arabic
from kb.text import slugify
from kb.translation import N_
from kb.translation import catalog_languages
from kb.urls import category_url

if TYPE_CHECKING:
    from kb.content.articles import Article

CATEGORIES_FILE = "_categories.yml"
ENTRY_FIELDS = ("name", "slug", "description", "translations")
TRANSLATED_FIELDS = ("name", "description")
# "en", "ar", "pt-BR": what kb/translations names its catalogs after (lower case, as the URL prefix).
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class CategoryText:
    """A category's name and description in one language; an empty one falls back to the entry's own."""

    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    description: str = ""
    order: int = 1000
    # (language, text) in the order _categories.yml gives them: a tuple, so a Category stays hashable.
    translations: tuple[tuple[str, CategoryText], ...] = ()

    @property
    def url(self) -> str:
        return category_url(self.slug)

    def text_in(self, lang: str | None) -> CategoryText | None:
        """The translation ``_categories.yml`` gives for ``lang``, if it gives one."""
        return next((text for code, text in self.translations if code == lang), None)

    def name_in(self, lang: str | None) -> str:
        """The name readers of ``lang`` see: its translation, else the entry's own name."""
        text = self.text_in(lang)
        return text.name if text is not None and text.name else self.name

    def description_in(self, lang: str | None) -> str:
        """The description readers of ``lang`` see: its translation, else the entry's own."""
        text = self.text_in(lang)
        return text.description if text is not None and text.description else self.description


def load_categories(root: Path) -> tuple[dict[str, Category], list[Problem]]:
    """Read ``_categories.yml``: a list of {name, slug?, description?, translations?} in display
    order.  Every problem names the entry and the field; an entry's bad part is left out, the
    rest of it and the other entries still load."""
    path = root / CATEGORIES_FILE
    if not path.exists():
        return {}, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is None:
            return {}, [Problem("_categories.yml", None, N_("invalid YAML: %(reason)s", reason=yaml_problem(exc)))]
        return {}, [Problem("_categories.yml", None, N_("invalid YAML at line %(line)d: %(reason)s", line=mark.line + 1,
                                                        reason=yaml_problem(exc)))]
    except UnicodeDecodeError as exc:
        return {}, [Problem("_categories.yml", None, N_("not UTF-8 (invalid byte at offset %(offset)d); save the file "
                                                        "as UTF-8", offset=exc.start))]
    if not isinstance(data, list):
        return {}, [Problem("_categories.yml", None, N_("must be a list of {name, slug, description}"))]
    categories: dict[str, Category] = {}
    problems: list[Problem] = []
    for order, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(Problem("_categories.yml", f"[{order + 1}]", N_("each entry needs a 'name'")))
            continue
        name = str(item["name"]).strip()
        entry = _entry_label(order, name)
        problems += [Problem(CATEGORIES_FILE, f"{entry} {key}", N_("unknown field (an entry has %(fields)s)",
                                                                    fields=", ".join(ENTRY_FIELDS)), severity="warning")
                     for key in item if key not in ENTRY_FIELDS]
        categories[name] = Category(
            name=name,
            slug=str(item.get("slug") or slugify(name)),
            description=str(item.get("description") or ""),
            order=order,
            translations=_translations(item.get("translations"), entry, problems),
        )
    return categories, problems + _shared_names(categories)


def _entry_label(order: int, name: str) -> str:
    """How a problem names an entry: its place in the list and its name (``[4] "الشكاوى"``)."""
    return f'[{order + 1}] "{name}"'


def _translations(value: object, entry: str, problems: list[Problem]) -> tuple[tuple[str, CategoryText], ...]:
    """An entry's ``translations``: {language code: {name?, description?}}.  A wrong part is a
    problem (appended) and is left out."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        problems.append(Problem(CATEGORIES_FILE, f"{entry} translations", N_(
            "must map language codes to a name and a description, like en: {name: ..., description: ...}")))
        return ()
    found = []
    for lang, fields in value.items():
        where = f"{entry} translations.{lang}"
        if not isinstance(lang, str) or not _LANGUAGE_CODE.fullmatch(lang):
            problems.append(Problem(CATEGORIES_FILE, where, N_(
                "%(lang)r is not a language code: write it in lower case, like en or ar", lang=lang)))
            continue
        if not isinstance(fields, dict):
            problems.append(Problem(CATEGORIES_FILE, where, N_(
                "must give a name, a description or both: {name: ..., description: ...}")))
            continue
        if lang not in catalog_languages():
            problems.append(Problem(CATEGORIES_FILE, where, N_(
                "the site has no interface in %(lang)r (it has %(languages)s): no page shows this translation",
                lang=lang, languages=", ".join(catalog_languages())), severity="warning"))
        found.append((lang, _translation(fields, where, problems)))
    return tuple(found)


def _translation(fields: dict, where: str, problems: list[Problem]) -> CategoryText:
    """One language's {name?, description?}; an unknown field or a value that is not text is a problem."""
    values: dict[str, str] = {}
    for key, value in fields.items():
        if key not in TRANSLATED_FIELDS:
            problems.append(Problem(CATEGORIES_FILE, f"{where}.{key}", N_(
                "unknown field: a translation has only a name and a description")))
        elif value is None:
            values[key] = ""
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(Problem(CATEGORIES_FILE, f"{where}.{key}", N_("must be text, got %(value)r", value=value)))
        else:
            values[key] = str(value).strip()
    return CategoryText(**values)


def _shared_names(categories: dict[str, Category]) -> list[Problem]:
    """A warning for a translated name another category has in the same language: readers of
    that language could not tell the two apart."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for category in categories.values():
        for lang, text in category.translations:
            if not text.name:
                continue
            key = (lang, text.name.casefold())
            if key in seen:
                problems.append(Problem(CATEGORIES_FILE, f"{_entry_label(category.order, category.name)} "
                                        f"translations.{lang}.name", N_(
                                            "%(name)r is also the %(lang)s name of %(other)r", name=text.name,
                                            lang=lang, other=seen[key]), severity="warning"))
            else:
                seen[key] = category.name
    return problems


def find_category(text: str, categories: dict[str, Category]) -> Category | None:
    """The listed category ``text`` names: by its name, its slug or its name in another
    language, whatever the case, spacing, diacritics or Arabic letter forms (the editor's
    field takes any of them; the article stores the name).  None when no category, or more
    than one, answers to it."""
    text = text.strip()
    if text in categories:
        return categories[text]
    key = _name_key(text)
    if not key:
        return None
    slug = slugify(text)
    found = [category for category in categories.values()
             if key in _category_keys(category) or (slug and slug == category.slug)]
    return found[0] if len(found) == 1 else None


def known_categories(categories: dict[str, Category], lang: str | None = None) -> str:
    """The listed categories for a message that refuses another one: "name (slug); ..." in display order.

    Each is named as readers of ``lang`` see it (:meth:`Category.name_in`; None: the entry's
    own name): the message is for someone reading that language, who may type that name back
    (the editor's field and ``kb import --category`` take it), and the slug beside it is the
    same in every language."""
    return "; ".join(f"{category.name_in(lang)} ({category.slug})"
                     for category in sorted(categories.values(), key=lambda category: category.order))


def _name_key(text: str) -> str:
    """What two spellings of one name share: folded letters, lower case, single spaces."""
    return " ".join(normalize_arabic(text).casefold().split())


def _category_keys(category: Category) -> set[str]:
    names = [category.name, category.slug, *(text.name for _, text in category.translations if text.name)]
    return {_name_key(name) for name in names}


def with_category_slug(article: Article, categories: dict[str, Category]) -> Article:
    """Use the URL slug that _categories.yml gives the article's category, if it gives one."""
    known = categories.get(article.category)
    if known is None or known.slug == article.category_slug:
        return article
    return replace(article, category_slug=known.slug)
