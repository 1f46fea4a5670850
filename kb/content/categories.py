"""The categories file (``_categories.yml``): the editors' list of categories, in display order.

Apart from :mod:`kb.content.articles` because it is a file of its own with its own format
and checks: each entry names a category, may give it a URL slug and a description, and its
place in the list is the order the site shows.  An article only names its category; this
gives the category its slug (:func:`with_category_slug`).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kb.content.front_matter import yaml_problem
from kb.errors import Problem
from kb.text import slugify
from kb.translation import N_
from kb.urls import category_url

if TYPE_CHECKING:
    from kb.content.articles import Article

CATEGORIES_FILE = "_categories.yml"


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    description: str = ""
    order: int = 1000

    @property
    def url(self) -> str:
        return category_url(self.slug)


def load_categories(root: Path) -> tuple[dict[str, Category], list[Problem]]:
    """Read ``_categories.yml``: a list of {name, slug?, description?} in display order."""
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
        categories[name] = Category(
            name=name,
            slug=str(item.get("slug") or slugify(name)),
            description=str(item.get("description") or ""),
            order=order,
        )
    return categories, problems


def with_category_slug(article: Article, categories: dict[str, Category]) -> Article:
    """Use the URL slug that _categories.yml gives the article's category, if it gives one."""
    known = categories.get(article.category)
    if known is None or known.slug == article.category_slug:
        return article
    return replace(article, category_slug=known.slug)
