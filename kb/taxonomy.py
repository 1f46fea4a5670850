"""Editing ``articles/_categories.yml``, ``_synonyms.yml`` and ``_dialect.yml`` from the staff pages.

Categories are edited as rows (name, slug, description, and the name and description in
each other interface language) in display order.  Renaming a category rewrites the
``category:`` line of its articles (and of their pending edits); changing its slug leaves a
permanent redirect from the old category URL; a translation the form does not edit (a
language without a catalog) is kept as the file has it.  Synonyms are
edited as one group a line, words separated by commas, and saved back as YAML.  The dialect
lexicon's local file is edited as the YAML it is (entries have several parts), next to
a read-only view of the built-in lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kb.store import audit
from kb.content import redirects
from kb.content import revisions
from kb.content.articles import load_categories
from kb.content.categories import CategoryText
from kb.errors import KbError
from kb.errors import errors_in
from kb.fsutil import atomic_write_text
from kb.content.editing import ValidationFailed
from kb.content.editing import set_front_matter_field
from kb.search.dialect import FILE_NAME as DIALECT_FILE
from kb.search.dialect import Entry
from kb.search.dialect_files import load_builtin as load_dialect_builtin
from kb.search.dialect_files import parse_lexicon as parse_dialect
from kb.search.synonyms import FILE_NAME as SYNONYMS_FILE
from kb.search.synonyms import parse_synonyms
from kb.text import slugify
from kb.translation import N_

if TYPE_CHECKING:
    from kb.publishing import Publisher

CATEGORIES_FILE = "_categories.yml"


@dataclass
class CategoryRow:
    name: str
    slug: str
    description: str = ""
    original_name: str = ""  # empty for a new row
    original_slug: str = ""
    # language -> name and description there; a language the form did not send is kept as the file has it
    translations: dict[str, CategoryText] = field(default_factory=dict)


def read_categories(articles_dir: Path) -> list[CategoryRow]:
    categories, problems = load_categories(Path(articles_dir))
    errors = errors_in(problems)  # warnings are kb check's to show
    if errors:
        raise KbError("bad_categories", "; ".join(str(p) for p in errors))
    return [CategoryRow(c.name, c.slug, c.description, c.name, c.slug, dict(c.translations))
            for c in sorted(categories.values(), key=lambda c: c.order)]


def rows_from_form(form, languages: tuple[str, ...] = ()) -> list[CategoryRow]:
    """Rows from the form's parallel lists, sorted by their order numbers; empty rows dropped.

    A row whose name and slug were both cleared is a removal.  ``languages`` are those whose
    ``name_<lang>`` and ``description_<lang>`` lists the form has (one entry a row).
    """
    columns = [form.getlist(k) for k in ("name", "slug", "description", "original_name", "original_slug")]
    rows = [CategoryRow(*(v.strip() for v in values)) for values in zip(*columns)]
    for lang in languages:
        names, descriptions = form.getlist(f"name_{lang}"), form.getlist(f"description_{lang}")
        if len(names) == len(descriptions) == len(rows):
            for row, name, description in zip(rows, names, descriptions):
                row.translations[lang] = CategoryText(name.strip(), description.strip())
    orders = form.getlist("order")

    def position(item: tuple[int, CategoryRow]) -> tuple[float, int]:
        index = item[0]
        raw = orders[index].strip() if index < len(orders) else ""
        return (float(raw) if raw.replace(".", "", 1).isdigit() else float("inf"), index)

    ordered = [row for _, row in sorted(enumerate(rows), key=position)]
    return [row for row in ordered if row.name or row.slug]


def _check_rows(rows: list[CategoryRow]) -> dict[str, str]:
    errors: dict[str, str] = {}
    names: set[str] = set()
    slugs: set[str] = set()
    for i, row in enumerate(rows):
        row.slug = row.slug or slugify(row.name)
        if not row.name:
            errors[f"name-{i}"] = "الاسم مطلوب."
        elif row.name in names:
            errors[f"name-{i}"] = "الاسم مكرر."
        if slugify(row.slug) != row.slug:
            errors[f"slug-{i}"] = f"رابط غير صالح؛ مثال صالح: «{slugify(row.slug) or 'category'}»."
        elif row.slug in slugs:
            errors[f"slug-{i}"] = "الرابط مكرر."
        names.add(row.name)
        slugs.add(row.slug)
    errors.update(_check_translated_names(rows))
    return errors


def _check_translated_names(rows: list[CategoryRow]) -> dict[str, str]:
    """Two categories with one name in a language: its readers could not tell them apart."""
    errors: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        for lang, text in row.translations.items():
            key = (lang, text.name.casefold())
            if text.name and key in seen:
                errors[f"name_{lang}-{i}"] = N_("Another category has this name.")
            seen.add(key)
    return errors


def _entry(row: CategoryRow) -> dict:
    """A row as _categories.yml writes it: empty fields and translations left out."""
    entry: dict = {"name": row.name, "slug": row.slug}
    if row.description:
        entry["description"] = row.description
    translations = {lang: {key: value for key, value in (("name", text.name), ("description", text.description))
                           if value}
                    for lang, text in row.translations.items()}
    translations = {lang: fields for lang, fields in translations.items() if fields}
    if translations:
        entry["translations"] = translations
    return entry


def save_categories(publisher: Publisher, rows: list[CategoryRow], user=None) -> int:
    """Write _categories.yml, carry renames into the articles; returns how many articles changed."""
    errors = _check_rows(rows)
    if errors:
        raise ValidationFailed(errors)
    kept = {row.original_name for row in rows if row.original_name}
    for article in publisher.knowledge.catalog.articles.values():
        in_use = publisher.knowledge.catalog.categories.get(article.category)
        if in_use is not None and article.category not in kept:
            raise ValidationFailed({"rows": f"لا يمكن حذف التصنيف «{article.category}»: فيه مقالات (منها «{article.title}»)."})
    renamed = {row.original_name: row.name for row in rows if row.original_name and row.original_name != row.name}
    listed = publisher.knowledge.catalog.categories
    for row in rows:  # the translations the form did not edit stay as they are
        before = listed.get(row.original_name)
        if before is not None:
            row.translations = {**dict(before.translations), **row.translations}
    data = [_entry(row) for row in rows]
    changed = 0
    with publisher.locked():
        _write(publisher, CATEGORIES_FILE, yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000))
        for article in list(publisher.knowledge.catalog.articles.values()):
            if article.category in renamed:
                _rename_in_article(publisher, article, renamed[article.category], user)
                changed += 1
        for row in rows:
            if row.original_slug and row.original_slug != row.slug:
                redirects.add(publisher.db, redirects.category_path(row.original_slug), redirects.category_path(row.slug))
                audit.record(publisher.db, "category_renamed", row.slug, user, old_slug=row.original_slug, name=row.name)
            redirects.remove(publisher.db, redirects.category_path(row.slug))
        for old, new in renamed.items():
            audit.record(publisher.db, "category_renamed", new, user, old_name=old)
        audit.record(publisher.db, "categories_saved", CATEGORIES_FILE, user, categories=len(rows), articles_changed=changed)
    publisher.knowledge.index()  # reloads the category list; re-indexes the rewritten articles only
    return changed


def _write(publisher: Publisher, name: str, text: str) -> None:
    """Write one of the collection's YAML files and record it for every node (in the
    publisher's transaction: ``publisher.locked()``)."""
    path = publisher.articles_dir / name
    atomic_write_text(path, text)
    publisher.record_file(path, text)


def _rename_in_article(publisher: Publisher, article, new_name: str, user) -> None:
    text = set_front_matter_field(publisher.live_text(article), "category", new_name)
    atomic_write_text(article.path, text)
    publisher.record_file(article.path, text)
    revisions.add(publisher.db, article.slug, article.status, text, user, note="category renamed")
    pending = revisions.pending(publisher.db, article.slug)
    if pending is not None:
        revisions.add(publisher.db, article.slug, "pending", set_front_matter_field(pending.text, "category", new_name),
                      user, note="category renamed")


# -- synonyms -----------------------------------------------------------------------------------


def read_synonyms_lines(articles_dir: Path) -> str:
    """The synonyms file as the editor shows it: comment lines, then one group a line."""
    path = Path(articles_dir) / SYNONYMS_FILE
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    data = yaml.safe_load(text) or []
    groups = [", ".join(str(item) for item in group) for group in data if isinstance(group, list)]
    return "\n".join(comments + groups) + "\n"


def lines_to_yaml(lines: str) -> str:
    out = []
    for line in lines.replace("\r\n", "\n").split("\n"):
        if line.strip().startswith("#"):
            out.append(line.strip())
            continue
        words = [w.strip() for w in re.split(r"[,،]", line) if w.strip()]
        if words:
            out.append("- " + yaml.safe_dump(words, allow_unicode=True, default_flow_style=True, width=10_000).strip())
    return "\n".join(out) + "\n"


def save_synonyms(publisher: Publisher, lines: str, user=None) -> int:
    """Validate and write _synonyms.yml; search uses it at once.  Returns the number of groups."""
    text = lines_to_yaml(lines)
    table, problems = parse_synonyms(text)
    errors = errors_in(problems)
    if errors:
        raise ValidationFailed({"synonyms": "؛ ".join(f"{p.field or ''} {p.reason}".strip() for p in errors)})
    with publisher.locked():
        _write(publisher, SYNONYMS_FILE, text)
        audit.record(publisher.db, "synonyms_saved", SYNONYMS_FILE, user, groups=len(table.groups))
    return len(table.groups)


# -- dialect lexicon ----------------------------------------------------------------------------

# What the editor shows when there is no _dialect.yml yet: the format, as comments.
DIALECT_STARTER = """\
# كلمات اللهجات الخاصة بهذا المركز، تضاف إلى القائمة المدمجة وتتقدّم عليها.
# كل مدخل: الفصحى (msa) ثم الصيغ حسب اللهجة: egy مصرية، glf خليجية، lev شامية، mgr مغاربية، any عدة لهجات.
# - msa: أريد
#   glf: [ابغى, ابي]
# - msa: [هاتف, جوال]        # الأولى هي الأساس والبقية بدائل من كلمة واحدة
#   egy: [موبايل]
# - weight: none             # كلمات بلا وزن في البحث (تُحذف مثل أدوات الربط)
#   any: [يعني]
# - msa: أبي                  # keep: الكلمة فصيحة أيضًا فتبقى، وتضاف الفصحى بديلًا
#   keep: true
#   glf: [ابي]
"""


@dataclass(frozen=True)
class DialectOverview:
    """What the staff page shows of the dialect lexicon."""

    builtin: tuple[Entry, ...]
    builtin_counts: dict[str, int]
    local_counts: dict[str, int]
    local_text: str


def read_dialect(articles_dir: Path) -> DialectOverview:
    """The built-in lexicon (read-only) and the editors' _dialect.yml as its text."""
    builtin = load_dialect_builtin()
    path = Path(articles_dir) / DIALECT_FILE
    local_text = path.read_text(encoding="utf-8") if path.exists() else DIALECT_STARTER
    local, _ = parse_dialect(local_text)
    return DialectOverview(builtin.entries, builtin.counts(), local.counts(), local_text)


def save_dialect(publisher: Publisher, text: str, user=None) -> int:
    """Validate and write _dialect.yml (the text as typed, comments kept); search uses it at
    once.  Returns the number of entries.  Every problem names the line it is on."""
    text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    lexicon, problems = parse_dialect(text)
    errors = errors_in(problems)
    if errors:
        raise ValidationFailed({"dialect": "؛ ".join(f"{p.field or ''}: {p.reason}".strip(": ") for p in errors)})
    with publisher.locked():
        _write(publisher, DIALECT_FILE, text)
        audit.record(publisher.db, "dialect_saved", DIALECT_FILE, user, entries=len(lexicon.entries))
    return len(lexicon.entries)
