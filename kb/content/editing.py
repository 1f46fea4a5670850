"""The editor's form and the article file text: form ↔ front matter + body, and field checks.

Pure functions, no files and no index: :mod:`kb.publishing` uses them to save, and the
tests use them alone.  Field errors are Arabic messages keyed by the form field they belong
to, so the editor can show each one beside its field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

import yaml

from kb.content.articles import AUDIENCES
from kb.content.articles import LANGS
from kb.content.articles import split_front_matter
from kb.content.categories import Category
from kb.content.categories import find_category
from kb.content.categories import known_categories
from kb.errors import KbError
from kb.text import slugify
from kb.translation import N_

# Front-matter fields the editor shows; any other field of a file is kept as it is.
FORM_FIELDS = ("title", "slug", "category", "tags", "lang", "audience", "status", "updated", "summary", "faq")


class ValidationFailed(KbError):
    """The form has errors: ``errors`` maps a form field to an Arabic message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("invalid_article", "راجع الحقول المعلّمة.", status=400, field=next(iter(errors), None))
        self.errors = errors

@dataclass
class ArticleForm:
    """What the editor's form holds; ``extra`` keeps front-matter fields it does not show."""

    title: str = ""
    slug: str = ""
    category: str = ""
    tags: str = ""
    lang: str = "ar"
    audience: str = "public"
    summary: str = ""
    body: str = ""
    faq: list[tuple[str, str]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> ArticleForm:
        """From a request form (anything with ``get`` and ``getlist``)."""
        questions, answers = form.getlist("faq_q"), form.getlist("faq_a")
        faq = [(q.strip(), a.strip()) for q, a in zip(questions, answers) if q.strip() or a.strip()]
        text = {name: (form.get(name) or "").strip() for name in ("title", "slug", "category", "tags", "lang", "audience", "summary")}
        return cls(**text, body=(form.get("body") or "").replace("\r\n", "\n"), faq=faq)

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in re.split(r"[,،]", self.tags) if t.strip()]

def form_from_text(text: str, path: Path) -> ArticleForm:
    """Read a file's text (or a revision's) into the editor form."""
    raw, body, _ = split_front_matter(text)
    meta = yaml.safe_load(raw or "") or {}
    if not isinstance(meta, dict):
        meta = {}
    tags = meta.get("tags") or []
    faq = [(str(e.get("q", "")), str(e.get("a", ""))) for e in meta.get("faq") or [] if isinstance(e, dict)]
    return ArticleForm(
        title=str(meta.get("title") or ""),
        slug=str(meta.get("slug") or path.stem),
        category=str(meta.get("category") or ""),
        tags=", ".join(str(t) for t in tags) if isinstance(tags, list) else str(tags),
        lang=str(meta.get("lang") or "ar"),
        audience=str(meta.get("audience") or "public"),
        summary=str(meta.get("summary") or ""),
        body=body.rstrip(),
        faq=faq,
        extra={k: v for k, v in meta.items() if k not in FORM_FIELDS},
    )


def build_text(form: ArticleForm, status: str, path: Path, updated: dt.date | None = None) -> str:
    """The file text for a form: YAML front matter, then the Markdown body."""
    meta: dict = {"title": form.title}
    if form.slug and form.slug != path.stem:
        meta["slug"] = form.slug
    meta["category"] = form.category
    if form.tag_list:
        meta["tags"] = form.tag_list
    meta.update(lang=form.lang, audience=form.audience, status=status, updated=updated or dt.date.today())
    if form.summary:
        meta["summary"] = form.summary
    meta.update(form.extra)
    if form.faq:
        meta["faq"] = [{"q": q, "a": a} for q, a in form.faq]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=None)
    return f"---\n{front}---\n\n{form.body.strip()}\n"


def set_front_matter_field(text: str, name: str, value: str) -> str:
    """Change one top-level scalar field of a file's front matter, leaving the rest as written."""
    raw, body, _ = split_front_matter(text)
    if raw is None:
        raise KbError("invalid_article", "the file has no front matter")
    line = f"{name}: {yaml.safe_dump(value, allow_unicode=True, default_style=None).strip().removesuffix('...').strip()}"
    pattern = re.compile(rf"^{re.escape(name)}:.*$", re.MULTILINE)
    raw = pattern.sub(lambda _: line, raw, count=1) if pattern.search(raw) else raw.rstrip("\n") + "\n" + line
    return f"---\n{raw}\n---\n\n{body}"


def with_listed_category(form: ArticleForm, categories: dict[str, Category], kept: str = "",
                         lang: str | None = None) -> tuple[ArticleForm, str | None]:
    """The form with its category as ``_categories.yml`` names it, or an error for the category field.

    The field may give a listed category's name, slug or name in another language
    (:func:`kb.content.categories.find_category`); the article stores the name.  Anything
    else would show readers a category of its own (a typo, or a slug, next to the real
    one), so it is refused with the known ones listed, unless it is ``kept``: the category
    the article already has (a file from disk or an import may name an unlisted one, and an
    edit that leaves it alone changes nothing).  The refusal names the known ones in ``lang``,
    the editor's interface language (None: as ``_categories.yml`` names them).  With no
    category list there is nothing to check against (as for ``kb check`` and the importer).
    """
    if not form.category or not categories:
        return form, None
    found = find_category(form.category, categories)
    if found is not None:
        return replace(form, category=found.name), None
    if kept and form.category == kept:
        return form, None
    known = known_categories(categories, lang)
    return form, N_("“%(category)s” is not a category of this help center. Choose one of: %(known)s. An admin can "
                    "add a category on the categories page.", category=form.category, known=known)


def field_errors(form: ArticleForm) -> dict[str, str]:
    """What is wrong with the form's fields, before the article parser has its say."""
    errors: dict[str, str] = {}
    if not form.title:
        errors["title"] = "العنوان مطلوب."
    if not form.slug:
        errors["slug"] = "الرابط مطلوب."
    elif slugify(form.slug) != form.slug or form.slug.startswith("_"):
        errors["slug"] = f"رابط غير صالح: استعمل حروفًا وأرقامًا وشرطات فقط، مثل «{slugify(form.slug) or 'my-article'}»."
    if not form.category:
        errors["category"] = "اختر تصنيفًا."
    if form.lang not in LANGS:
        errors["lang"] = "لغة غير معروفة."
    if form.audience not in AUDIENCES:
        errors["audience"] = "جمهور غير معروف."
    if not form.body.strip():
        errors["body"] = "نص المقال فارغ."
    if any(not q or not a for q, a in form.faq):
        errors["faq"] = "كل سؤال شائع يحتاج سؤالًا وجوابًا."
    return errors

