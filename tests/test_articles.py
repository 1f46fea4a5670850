"""kb.content.articles: parsing and validating article files (and kb.urls, which names them).

Every validation error is reported with the file, the field and the reason; one bad file
never stops the others from loading.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from kb.content.articles import UNCATEGORIZED
from kb.content.articles import Article
from kb.content.articles import ArticleMap
from kb.content.articles import Catalog
from kb.content.articles import article_paths
from kb.content.articles import article_text
from kb.content.articles import categories_in_use
from kb.content.articles import load_articles
from kb.content.articles import parse_article
from kb.content.articles import read_article_file
from kb.content.articles import split_front_matter
from kb.content.articles import text_checksum
from kb.urls import absolute_url
from kb.urls import article_url
from kb.urls import category_url

TESTS = Path(__file__).resolve().parent
BROKEN = TESTS / "data" / "broken"
GOOD_ARTICLES = TESTS / "data" / "articles"
LAUNCH_ARTICLES = TESTS.parent / "articles"
REFUND = GOOD_ARTICLES / "orders" / "سياسة-الاسترداد.md"

GOOD = """---
title: "كيف أغيّر كلمة المرور؟"
slug: change-password
category: الحساب
tags: [كلمة المرور, الحساب]
lang: ar
audience: public
status: published
updated: 2026-11-25
summary: خطوات تغيير كلمة المرور.
faq:
  - q: نسيت كلمة المرور
    a: اضغط «نسيت كلمة المرور».
---
## الخطوات

افتح الإعدادات.
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def front(body: str = "نص", **fields: str) -> str:
    """An article file with these raw YAML lines in its front matter."""
    lines = "\n".join(f"{name}: {value}" for name, value in fields.items())
    return f"---\n{lines}\n---\n{body}\n"


def problems_of(tmp_path: Path, text: str | bytes, name: str = "a.md") -> list:
    write(tmp_path, name, text)
    return load_articles(tmp_path).problems


# -- a good article -----------------------------------------------------------------------------


def test_good_article_parses_every_field(tmp_path):
    path = write(tmp_path, "account/change-password.md", GOOD)
    catalog = load_articles(tmp_path)
    assert catalog.problems == []
    article = catalog.articles["change-password"]
    assert article.title == "كيف أغيّر كلمة المرور؟"
    assert article.category == "الحساب"
    assert article.category_slug == "الحساب"
    assert article.tags == ("كلمة المرور", "الحساب")
    assert article.updated == dt.date(2026, 11, 25)
    assert article.summary == "خطوات تغيير كلمة المرور."
    assert [entry.to_dict() for entry in article.faq] == [{"q": "نسيت كلمة المرور", "a": "اضغط «نسيت كلمة المرور»."}]
    assert article.body.startswith("## الخطوات")
    assert article.path == path
    assert article.is_public
    assert len(article.checksum) == 64


def test_defaults_fill_missing_optional_fields(tmp_path):
    write(tmp_path, "بلا-حقول.md", front(title="عنوان فقط"))
    article = load_articles(tmp_path).articles["بلا-حقول"]
    assert article.slug == "بلا-حقول"  # the file name
    assert (article.lang, article.audience, article.status) == ("ar", "public", "published")
    assert article.category == UNCATEGORIZED
    assert article.tags == () and article.faq == () and article.updated is None
    assert article.translation_of is None


@pytest.mark.parametrize(
    ("updated", "expected"),
    [
        ("2026-11-25", dt.date(2026, 11, 25)),
        ('"2026-11-25"', dt.date(2026, 11, 25)),
        ("2026-11-25 10:30:00", dt.date(2026, 11, 25)),
        ("2026-11-25T10:30:00Z", dt.date(2026, 11, 25)),
    ],
)
def test_updated_accepts_dates_and_timestamps(tmp_path, updated, expected):
    article, problems = parse_article(front(title="x", updated=updated), tmp_path / "x.md", "x.md")
    assert problems == []
    assert article.updated == expected


def test_tags_may_be_a_comma_separated_string(tmp_path):
    article, problems = parse_article(front(title="x", tags="أ, ب ,, ج"), tmp_path / "x.md", "x.md")
    assert problems == []
    assert article.tags == ("أ", "ب", "ج")


def test_bom_and_windows_line_endings_are_accepted(tmp_path):
    write(tmp_path, "crlf.md", b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8"))
    catalog = load_articles(tmp_path)
    assert catalog.problems == []
    article = catalog.articles["change-password"]
    assert article.title == "كيف أغيّر كلمة المرور؟"
    assert "\r" not in article.body


def test_a_windows_copy_of_a_file_reads_and_checks_the_same_as_the_linux_one(tmp_path):
    """GIVEN one article saved with a byte-order mark and Windows line ends, and saved plainly
    WHEN read (article_text, as the loader, the editor and replication read files)
    THEN both give the same text and the same checksum, and the loader's Article.checksum is it.
    A lone carriage return is text, not a line end: kept, as the loader always kept it."""
    windows = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8")
    assert article_text(windows) == article_text(GOOD.encode("utf-8")) == GOOD
    assert text_checksum(article_text(windows)) == text_checksum(GOOD) == text_checksum(GOOD.replace("\n", "\r\n"))
    article, _ = read_article_file(write(tmp_path, "crlf.md", windows), tmp_path)
    assert article.checksum == text_checksum(GOOD)
    assert article_text("سطر\rتابع\r\n".encode("utf-8")) == "سطر\rتابع\n"
    with pytest.raises(UnicodeDecodeError):
        article_text(b"\xff\xfe" + "نص".encode("utf-16-le"))


def test_front_matter_may_close_with_dots():
    raw, body, line = split_front_matter("---\ntitle: x\n...\n\nbody")
    assert (raw, body, line) == ("title: x", "body", 2)


# -- every validation error -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (front(title="x", status="archived"), "status", "unknown status 'archived'"),
        (front(title="x", lang="fr"), "lang", "unknown lang 'fr'"),
        (front(title="x", audience="staff"), "audience", "unknown audience 'staff'"),
        (front(summary="no title"), "title", "is required"),
        (front(title='""'), "title", "is required"),
        (front(title="'   '"), "title", "is required"),
        (front(title="[a, b]"), "title", "must be text"),
        (front(title="x", updated="2026-13-45"), "updated", "must be a date like"),
        (front(title="x", updated="yesterday"), "updated", "got 'yesterday'"),
        (front(title="x", faq="[{q: only a question}]"), "faq[1]", "non-empty 'q' and 'a'"),
        (front(title="x", faq="[{q: fine, a: fine}, {a: no question}]"), "faq[2]", "non-empty 'q' and 'a'"),
        (front(title="x", faq='[{q: "", a: empty question}]'), "faq[1]", "non-empty 'q' and 'a'"),
        (front(title="x", faq="just text"), "faq", "must be a list"),
        (front(title="x", tags="{a: 1}"), "tags", "must be a list"),
        (front(title="x", slug="_hidden"), "slug", "not a valid slug"),
        (front(title="x", slug="a/b"), "slug", "not a valid slug"),
        (front(title="x", summary="[1, 2]"), "summary", "must be text"),
        ("no front matter at all\n", "front matter", "missing"),
        ("\n---\ntitle: x\n---\n", "front matter", "missing"),
        ("---\ntitle: x\nbody without a closing line\n", "front matter", "no closing '---'"),
        ("---\n- a\n- list\n---\nbody\n", "front matter", "must be a YAML mapping"),
        ("---\ntitle: [unclosed\n---\nbody\n", "front matter", "invalid YAML at line 2"),
        ("---\ntitle: x\ntags: [a, b]\nsummary: ok\nfaq: {q: x\n---\nbody\n", "front matter", "invalid YAML at line 5"),
        ("---\ntitle: x\n  bad: indent\n---\n", "front matter", "invalid YAML at line 3"),
        ("---\ntitle: x\nupdated: !!timestamp 2026-13-45\n---\n", "front matter", "invalid value"),
    ],
)
def test_validation_error_names_field_and_reason(tmp_path, text, field, reason):
    errors = [p for p in problems_of(tmp_path, text) if p.severity == "error"]
    assert {(p.file, p.field) for p in errors} == {("a.md", field)}, errors
    assert any(reason in p.reason for p in errors), errors


def test_non_utf8_file_is_reported_not_decoded(tmp_path):
    problems = problems_of(tmp_path, "---\ntitle: café\n---\n".encode("latin-1"))
    assert len(problems) == 1
    assert problems[0].file == "a.md"
    assert "not UTF-8" in problems[0].reason and "offset" in problems[0].reason


def test_unknown_field_is_a_warning_and_the_article_loads(tmp_path):
    write(tmp_path, "a.md", front(title="x", author="سارة", colour="blue"))
    catalog = load_articles(tmp_path)
    assert "a" in catalog.articles
    assert [(p.field, p.severity) for p in catalog.problems] == [("author", "warning"), ("colour", "warning")]
    assert catalog.errors == []


def test_duplicate_slug_keeps_the_first_file_and_names_it(tmp_path):
    write(tmp_path, "a/one.md", front(title="first", slug="same"))
    write(tmp_path, "b/two.md", front(title="second", slug="same"))
    catalog = load_articles(tmp_path)
    assert catalog.articles["same"].title == "first"
    [problem] = catalog.problems
    assert (problem.file, problem.field) == ("b/two.md", "slug")
    assert "duplicate slug 'same'" in problem.reason and "a/one.md" in problem.reason


def test_translation_of_a_missing_slug_is_an_error(tmp_path):
    write(tmp_path, "en/guide-en.md", front(title="Guide", lang="en", translation_of="no-such-guide"))
    write(tmp_path, "ar/guide.md", front(title="دليل"))
    write(tmp_path, "en/other-en.md", front(title="Other", lang="en", translation_of="guide"))
    catalog = load_articles(tmp_path)
    [problem] = catalog.problems
    assert (problem.file, problem.field, problem.severity) == ("en/guide-en.md", "translation_of", "error")
    assert "no-such-guide" in problem.reason
    assert set(catalog.articles) == {"guide-en", "guide", "other-en"}


def test_unknown_status_is_reported_and_hidden_as_draft(tmp_path):
    """A typo in status must never publish an article by accident."""
    write(tmp_path, "a.md", front(title="x", status="pubished"))
    article = load_articles(tmp_path).articles["a"]
    assert article.status == "draft"
    assert not article.is_public


def test_every_broken_fixture_is_reported_and_good_files_still_load(tmp_path):
    """GIVEN the broken fixtures and one good article in one folder
    WHEN the folder loads
    THEN each broken file is reported with its field and reason, and the good article loads."""
    shutil.copytree(BROKEN, tmp_path / "articles")
    shutil.copy(REFUND, tmp_path / "articles" / REFUND.name)
    catalog = load_articles(tmp_path / "articles")
    found = {(p.file, p.field): p.reason for p in catalog.errors}
    assert "سياسة-الاسترداد" in catalog.articles
    assert "dup" in catalog.articles  # dup-a.md, the first of the two
    assert "invalid YAML at line 2" in found[("bad-yaml.md", "front matter")]
    assert "archived" in found[("bad-status.md", "status")]
    assert "is required" in found[("no-title.md", "title")]
    assert "missing" in found[("no-front-matter.md", "front matter")]
    assert "not UTF-8" in found[("latin1.md", None)]
    assert "duplicate slug 'dup'" in found[("dup-b.md", "slug")]
    assert "2026-13-45" in found[("bad-fields.md", "updated")]
    assert "'q' and 'a'" in found[("bad-fields.md", "faq[1]")]
    assert not any(p.file.startswith("سياسة") for p in catalog.problems)


def test_launch_articles_load_without_problems():
    catalog = load_articles(LAUNCH_ARTICLES)
    assert catalog.problems == []
    assert len(catalog.articles) >= 30
    for article in catalog.articles.values():
        assert article.category in catalog.categories, article.slug


def test_missing_folder_is_one_problem(tmp_path):
    catalog = load_articles(tmp_path / "nope")
    assert catalog.articles == {}
    assert [p.reason for p in catalog.problems] == ["articles folder does not exist"]


def test_read_article_file_reports_a_missing_file(tmp_path):
    article, problems = read_article_file(tmp_path / "gone.md", tmp_path)
    assert article is None
    assert problems[0].file == "gone.md" and "cannot read" in problems[0].reason


# -- categories ---------------------------------------------------------------------------------


def test_categories_file_gives_order_slug_and_description(tmp_path):
    write(tmp_path, "_categories.yml", '- name: "الطلبات"\n  slug: orders\n  description: "الطلبات والإرجاع"\n- name: "الحساب"\n')
    write(tmp_path, "b.md", front(title="ب", category="الحساب"))
    write(tmp_path, "a.md", front(title="أ", category="الطلبات"))
    catalog = load_articles(tmp_path)
    assert catalog.problems == []
    assert catalog.articles["a"].category_slug == "orders"
    assert catalog.articles["b"].category_slug == "الحساب"
    assert [c.slug for c in categories_in_use(catalog)] == ["orders", "الحساب"]
    assert catalog.categories["الطلبات"].url == "/categories/orders"


def test_category_missing_from_categories_file_is_a_warning(tmp_path):
    write(tmp_path, "_categories.yml", "- name: الحساب\n")
    write(tmp_path, "a.md", front(title="x", category="أخرى"))
    catalog = load_articles(tmp_path)
    assert "a" in catalog.articles
    assert [(p.field, p.severity) for p in catalog.problems] == [("category", "warning")]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("- name: [unclosed\n", None, "invalid YAML"),
        ("name: not a list\n", None, "must be a list"),
        ("- name: ok\n- slug: no-name\n", "[2]", "needs a 'name'"),
    ],
)
def test_bad_categories_file_is_reported(tmp_path, text, field, reason):
    write(tmp_path, "_categories.yml", text)
    write(tmp_path, "a.md", front(title="x"))
    catalog = load_articles(tmp_path)
    assert "a" in catalog.articles
    [problem] = [p for p in catalog.problems if p.file == "_categories.yml"]
    assert problem.field == field and reason in problem.reason


CATEGORY = '- name: "الطلبات"\n  slug: orders\n  description: "الطلبات والإرجاع"\n'


def test_categories_file_gives_names_and_descriptions_in_other_languages(tmp_path):
    """GIVEN one category translated whole, one by name only and one not at all THEN each
    language reads its own, field by field falling back to the entry's; the slug is one."""
    write(tmp_path, "_categories.yml", CATEGORY + "  translations:\n    en:\n      name: Orders\n"
          "      description: Orders and returns\n"
          '- name: "الحساب"\n  translations:\n    en: {name: Account}\n- name: "عام"\n')
    catalog = load_articles(tmp_path)
    assert catalog.problems == []
    orders, account, general = (catalog.categories[name] for name in ("الطلبات", "الحساب", "عام"))
    assert (orders.name_in("en"), orders.description_in("en")) == ("Orders", "Orders and returns")
    assert (orders.name_in("ar"), orders.description_in("ar")) == ("الطلبات", "الطلبات والإرجاع")
    assert (account.name_in("en"), account.description_in("en"), account.slug) == ("Account", "", "الحساب")
    assert (general.name_in("en"), general.name_in(None)) == ("عام", "عام")
    assert orders.url == "/categories/orders"


@pytest.mark.parametrize(
    ("translations", "field", "reason"),
    [
        ("  translations: [en, Orders]\n", "translations", "must map language codes to a name and a description"),
        ("  translations: {EN: {name: Orders}}\n", "translations.EN", "'EN' is not a language code"),
        ("  translations: {en: Orders}\n", "translations.en", "must give a name, a description or both"),
        ("  translations: {en: }\n", "translations.en", "must give a name, a description or both"),
        ("  translations: {en: {title: Orders}}\n", "translations.en.title", "unknown field: a translation has"),
        ("  translations: {en: {name: [a, b]}}\n", "translations.en.name", "must be text, got ['a', 'b']"),
    ],
)
def test_a_bad_translation_is_an_error_naming_the_entry_and_the_field(tmp_path, translations, field, reason):
    write(tmp_path, "_categories.yml", CATEGORY + translations)
    catalog = load_articles(tmp_path)
    [problem] = catalog.problems
    assert (problem.file, problem.field, problem.severity) == ("_categories.yml", f'[1] "الطلبات" {field}', "error")
    assert reason in problem.reason
    assert catalog.categories["الطلبات"].slug == "orders"  # the rest of the entry still loads


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (CATEGORY + "  translations: {fr: {name: Commandes}}\n", '[1] "الطلبات" translations.fr',
         "the site has no interface in 'fr' (it has ar, en)"),
        (CATEGORY + "  name_en: Orders\n", '[1] "الطلبات" name_en',
         "unknown field (an entry has name, slug, description, translations)"),
        (CATEGORY + "  translations: {en: {name: Orders}}\n- name: الطلبيات\n  translations: {en: {name: orders}}\n",
         '[2] "الطلبيات" translations.en.name', "'orders' is also the en name of 'الطلبات'"),
    ],
)
def test_a_doubtful_category_entry_is_a_warning(tmp_path, text, field, reason):
    write(tmp_path, "_categories.yml", text)
    [problem] = load_articles(tmp_path).problems
    assert (problem.field, problem.severity) == (field, "warning") and reason in problem.reason


def test_what_is_worked_out_from_the_catalog_is_kept_until_the_catalog_changes():
    """Catalog.derived computes once per catalog state: again after an article is put, replaced
    or removed in place (a publish, a delete), after the articles or the categories are
    replaced (kb.replication), and every time for a plain dict a caller handed in."""
    catalog = load_articles(GOOD_ARTICLES)
    computed = []

    def slugs(of: Catalog) -> list[str]:
        computed.append(1)
        return sorted(of.articles)

    def count() -> int:
        catalog.derived("slugs", slugs)
        return len(computed)

    assert isinstance(catalog.articles, ArticleMap)
    assert (count(), count()) == (1, 1)
    some = next(iter(catalog.articles.values()))
    catalog.articles["copy"] = some
    assert "copy" in catalog.derived("slugs", slugs) and (count(), count()) == (2, 2)
    catalog.articles["copy"] = some
    assert count() == 3
    catalog.articles.pop("copy")
    assert "copy" not in catalog.derived("slugs", slugs) and count() == 4
    del catalog.articles[some.slug]
    catalog.articles.setdefault(some.slug, some)
    assert count() == 5
    catalog.categories = dict(catalog.categories)
    assert (count(), count()) == (6, 6)
    catalog.articles = ArticleMap(catalog.articles)
    assert (count(), count()) == (7, 7)
    loose = Catalog(articles=dict(catalog.articles))
    assert loose.version is None
    loose.derived("slugs", slugs), loose.derived("slugs", slugs)
    assert len(computed) == 9


def test_files_and_folders_starting_with_underscore_or_dot_are_not_articles(tmp_path):
    for name in ("ok.md", "sub/ok2.md", "_draft.md", "_private/x.md", ".git/y.md", "notes.txt"):
        write(tmp_path, name, front(title="x"))
    assert [p.relative_to(tmp_path).as_posix() for p in article_paths(tmp_path)] == ["ok.md", "sub/ok2.md"]


# -- kb.urls ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "anchor", "url"),
    [
        ("refunds", None, "/articles/refunds"),
        ("سياسة-الاسترداد", None, "/articles/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9-%D8%A7%D9%84%D8%A7%D8%B3%D8%AA%D8%B1%D8%AF%D8%A7%D8%AF"),
        ("a", "مدة", "/articles/a#%D9%85%D8%AF%D8%A9"),
        ("a/b?c#d", "x y", "/articles/a%2Fb%3Fc%23d#x%20y"),
        ("a", "", "/articles/a"),
    ],
)
def test_article_url_percent_encodes_slug_and_anchor(slug, anchor, url):
    assert article_url(slug, anchor) == url


def test_category_and_absolute_urls():
    assert category_url("الحساب") == "/categories/%D8%A7%D9%84%D8%AD%D8%B3%D8%A7%D8%A8"
    assert absolute_url("https://help.example.com/", "/articles/a") == "https://help.example.com/articles/a"
    assert absolute_url("https://help.example.com", "/articles/a") == "https://help.example.com/articles/a"


def test_article_url_property_uses_the_slug():
    article = Article(slug="سؤال", title="t", body="", path=Path("x.md"))
    assert article.url == article_url("سؤال")


def test_fast_and_pure_yaml_loaders_read_front_matter_alike():
    """libyaml's parser reads articles (5x faster); it must give exactly what the pure one gives."""
    import yaml

    from kb.content.front_matter import _FastFrontMatterLoader
    from kb.content.front_matter import _FrontMatterLoader

    raw = ('title: "كيف تتعامل مع العميل الغاضب"\nupdated: 2026-11-20\ntags: [أ, b, 3]\nstatus: published\n'
           'draft: yes\ncount: 012\nfaq:\n  - q: "سؤال؟"\n    a: |\n      جواب\n      من سطرين\n')
    fast = yaml.load(raw, Loader=_FastFrontMatterLoader)  # noqa: S506
    assert fast == yaml.load(raw, Loader=_FrontMatterLoader)  # noqa: S506
    assert fast["updated"] == "2026-11-20"  # dates stay text for the validator


def test_a_nul_character_makes_an_article_unusable_with_a_clear_problem(tmp_path):
    """GIVEN an article whose body holds a NUL character (byte 0)
    WHEN it is loaded
    THEN it is not loaded, and the problem names the file, the body and what to do (PostgreSQL's
    text cannot hold the character, so the revision history could not keep it)."""
    write(tmp_path, "account/nul.md", GOOD.replace("## الخطوات", "## الخطوات\x00"))
    catalog = load_articles(tmp_path)
    assert "change-password" not in catalog.articles and "nul" not in catalog.articles
    [problem] = catalog.problems
    assert (problem.field, problem.severity) == ("body", "error") and "NUL" in problem.reason
