"""The editor's category field (kb.content.editing.with_listed_category, through the staff
editor and kb.publishing): a listed category's slug or name in another language is saved as
its name; anything else is refused beside the field, with the known ones, and nothing is lost
or written.  Files on disk and imports keep their own rules (kb check warns)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from staff_fixtures import admin  # noqa: F401 (fixtures)
from staff_fixtures import article_text
from staff_fixtures import cheap_hashing  # noqa: F401
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import anonymous  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from staff_fixtures import staff_db  # noqa: F401
from staff_fixtures import form_fields
from test_staff import categories_form
from test_staff import new_article

from kb.content.categories import Category
from kb.content.categories import CategoryText
from kb.content.categories import find_category
from kb.content.categories import known_categories
from kb.content.editing import ArticleForm
from kb.content.editing import with_listed_category

COMMUNICATION = "التواصل مع العملاء"
TYPO = "التواصل مع العملاءء"
ORDERS = "الطلبات والاسترداد"
SLUG = "positive-language"  # an article in COMMUNICATION
ENGLISH = "Communicating with customers"  # COMMUNICATION's English name, where a test gives it one


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


def category_cards(client, path: str = "/") -> list[str]:
    """The category links of the home page's "browse by section" grid, in order."""
    page = client.get(path).get_data(as_text=True)
    grid = page.split('class="category-grid"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', grid)


def stored_category(staff_app, slug: str) -> str:  # noqa: F811
    return staff_app.extensions["kb"].catalog.articles[slug].category


def field_error(response) -> str:
    found = re.search(r'<p class="field-error" id="category-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return unescape(found.group(1)) if found else ""


# -- what the field accepts -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["communication", "Communication", " التواصل  مع العملاء ", "التّواصل مع العملاء",
                                   "Communicating with customers", "COMMUNICATING WITH CUSTOMERS"])
def test_find_category_by_name_slug_or_translated_name(typed):
    categories = {
        COMMUNICATION: Category(COMMUNICATION, "communication", order=0,
                                translations=(("en", CategoryText("Communicating with customers")),)),
        ORDERS: Category(ORDERS, "orders", order=1),
    }
    assert find_category(typed, categories).name == COMMUNICATION
    assert find_category(TYPO, categories) is None
    assert find_category("", categories) is None


def test_the_known_categories_are_listed_in_the_readers_language():
    """A refusal lists each category by its name in the reader's language (else its own) and
    its slug, in display order; without a language, by the names _categories.yml gives."""
    categories = {
        ORDERS: Category(ORDERS, "orders", order=1),
        COMMUNICATION: Category(COMMUNICATION, "communication", order=0,
                                translations=(("en", CategoryText(ENGLISH)),)),
    }
    assert known_categories(categories, "en") == f"{ENGLISH} (communication); {ORDERS} (orders)"
    assert known_categories(categories) == known_categories(categories, "ar") == \
        f"{COMMUNICATION} (communication); {ORDERS} (orders)"
    _, error = with_listed_category(ArticleForm(category=TYPO), categories, lang="en")
    assert f"{ENGLISH} (communication)" in error and f"{COMMUNICATION} (" not in error


def test_no_category_list_accepts_any_category():
    """As kb check and the importer: with no _categories.yml there is nothing to check against."""
    form, error = with_listed_category(ArticleForm(category="أي تصنيف"), {})
    assert (form.category, error) == ("أي تصنيف", None)


# -- the staff editor --------------------------------------------------------------------------------


def test_a_category_slug_is_saved_as_the_category_name(staff_app, editor, anonymous):  # noqa: F811
    """GIVEN the editor WHEN an article is published with Category = "communication" (the slug of
    التواصل مع العملاء) THEN the article is in that category, and the site shows no extra card."""
    cards = category_cards(anonymous.client)
    slug = "free-shipping"
    response = editor.post("/staff/articles/new", new_article(category="communication", slug=slug))
    assert response.status_code == 302, field_error(response)
    assert stored_category(staff_app, slug) == COMMUNICATION
    path = staff_app.extensions["kb"].catalog.articles[slug].path
    assert f"category: {COMMUNICATION}" in path.read_text(encoding="utf-8")
    assert path.parent.name == "communication"
    assert category_cards(anonymous.client) == cards
    faq = anonymous.get("/faq").get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', faq)
    assert len(ids) == len(set(ids))


def test_an_unknown_category_is_refused_beside_the_field_and_nothing_is_lost(staff_app, editor, anonymous):  # noqa: F811
    """GIVEN a typo in the category WHEN the article is published THEN the editor shows the form
    again with everything typed, the category field says which categories there are and that
    an admin adds one on the categories page; no file is written and the site is unchanged."""
    cards = category_cards(anonymous.client)
    articles = set(staff_app.extensions["kb"].catalog.articles)
    response = editor.post("/staff/articles/new", new_article(category=TYPO, title="مقال بتصنيف خاطئ"))
    assert response.status_code == 400
    message = field_error(response)
    assert f"«{TYPO}»" in message and f"{COMMUNICATION} (communication)" in message and f"{ORDERS} (orders)" in message
    assert "صفحة التصنيفات" in message
    page = response.get_data(as_text=True)
    assert f'value="{TYPO}"' in page and "مقال بتصنيف خاطئ" in page and "كلمة نادرة" in page
    assert 'aria-describedby="category-error"' in page
    assert set(staff_app.extensions["kb"].catalog.articles) == articles
    assert not list(staff_app.extensions["kb"].articles_dir.rglob("*خاطئ*"))
    assert category_cards(anonymous.client) == cards
    english = editor.post("/en/staff/articles/new", new_article(category=TYPO))
    assert english.status_code == 400
    assert field_error(english).startswith(f"“{TYPO}” is not a category of this help center. Choose one of: ")
    assert "An admin can add a category on the categories page." in field_error(english)


def test_a_category_named_in_english_is_saved_by_its_own_name(staff_app, editor):  # noqa: F811
    """GIVEN "communication" named in English on the categories page WHEN an article is saved
    with that English name THEN it is in the category under its stored (Arabic) name."""
    form = categories_form(editor.get("/en/staff/categories").get_data(as_text=True))
    form["name_en"][form["slug"].index("communication")] = "Communicating with customers"
    assert editor.post("/en/staff/categories", form).status_code == 302
    response = editor.post("/en/staff/articles/new", new_article(category="communicating with customers",
                                                                 slug="free-shipping"))
    assert response.status_code == 302, field_error(response)
    assert stored_category(staff_app, "free-shipping") == COMMUNICATION


def test_editing_maps_or_refuses_a_changed_category(staff_app, editor):  # noqa: F811
    path = staff_app.extensions["kb"].catalog.articles[SLUG].path
    before = path.read_bytes()
    form = editor.editor_form(SLUG)
    refused = editor.post(f"/staff/articles/{SLUG}/edit", {**form, "category": TYPO, "action": "publish"})
    assert refused.status_code == 400 and COMMUNICATION in field_error(refused)
    assert path.read_bytes() == before
    moved = editor.post(f"/staff/articles/{SLUG}/edit", {**form, "category": "orders", "action": "publish"})
    assert moved.status_code == 302
    assert stored_category(staff_app, SLUG) == ORDERS


def test_an_article_from_disk_in_an_unlisted_category_can_still_be_edited(staff_app, editor):  # noqa: F811
    """GIVEN a file (a git pull) whose category _categories.yml does not list (kb check warns)
    WHEN an editor fixes its text and leaves the category THEN it saves; moving it to another
    unlisted category is refused, and the datalist offers the listed categories only."""
    knowledge = staff_app.extensions["kb"]
    path = knowledge.articles_dir / "communication" / "pulled.md"
    path.write_text(article_text("مقال من المستودع", "نص المقال.", category="قديم"), encoding="utf-8")
    knowledge.upsert(path)
    form = editor.editor_form("pulled")
    assert form["category"] == "قديم"
    page = editor.get("/staff/articles/pulled/edit").get_data(as_text=True)
    datalist = page.split('<datalist id="category-list">', 1)[1].split("</datalist>", 1)[0]
    assert 'value="قديم"' not in datalist and f'value="{COMMUNICATION}"' in datalist
    kept = editor.post("/staff/articles/pulled/edit", {**form, "body": "نص المقال المصحح.", "action": "publish"})
    assert kept.status_code == 302
    assert stored_category(staff_app, "pulled") == "قديم"
    form = editor.editor_form("pulled")
    assert editor.post("/staff/articles/pulled/edit", {**form, "category": "أقدم", "action": "publish"}).status_code == 400


def test_restoring_a_revision_of_a_renamed_category_keeps_the_article_where_it_is(staff_app, editor):  # noqa: F811
    """GIVEN a revision saved in "communication" before the category was renamed WHEN it is
    restored THEN the restored draft is in the category under its new name (the old name
    is no category any more)."""
    form = editor.editor_form(SLUG)
    editor.post(f"/staff/articles/{SLUG}/edit", {**form, "summary": "ملخص قديم", "action": "publish"})
    revisions_page = editor.get(f"/staff/articles/{SLUG}/revisions").get_data(as_text=True)
    old = min(int(i) for i in re.findall(r"/staff/revisions/(\d+)", revisions_page))
    rows = categories_form(editor.get("/staff/categories").get_data(as_text=True))
    rows["name"][rows["slug"].index("communication")] = "فن التواصل"
    assert editor.post("/staff/categories", rows).status_code == 302
    assert stored_category(staff_app, SLUG) == "فن التواصل"
    assert editor.post(f"/staff/articles/{SLUG}/revisions/{old}/restore").status_code == 302
    restored = editor.editor_form(SLUG)
    assert restored["summary"] == "ملخص قديم" and restored["category"] == "فن التواصل"


# -- in the staff UI's language ------------------------------------------------------------------


def name_in_english(editor, **names: str) -> None:  # noqa: F811
    """Give categories (by slug) an English name on the categories page."""
    form = categories_form(editor.get("/en/staff/categories").get_data(as_text=True))
    for slug, name in names.items():
        form["name_en"][form["slug"].index(slug)] = name
    assert editor.post("/en/staff/categories", form).status_code == 302


def filter_options(page: str) -> dict[str, str]:
    """The articles list's category filter: each option's shown name and its value."""
    select = page.split('<select id="category" name="category">', 1)[1].split("</select>", 1)[0]
    return {unescape(shown): unescape(value)
            for value, shown in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select)}


def category_column(page: str, slug: str) -> str:
    """The category cell of an article's row in the articles list."""
    row = page.split(f'/staff/articles/{slug}/edit"', 1)[1].split("</tr>", 1)[0]
    return unescape(re.findall(r'<td dir="auto">([^<]*)</td>', row)[0])


def datalist_values(page: str) -> list[str]:
    """What the editor's category field suggests."""
    datalist = page.split('<datalist id="category-list">', 1)[1].split("</datalist>", 1)[0]
    return [unescape(value) for value in re.findall(r'<option value="([^"]*)">', datalist)]


def test_the_articles_list_names_categories_in_the_staff_language(staff_app, editor):  # noqa: F811
    """GIVEN "communication" named in English WHEN the articles list is shown in English THEN its
    filter and its category column give the English name ("orders", which has none, its
    Arabic one), and the filter still lists that category's articles only; in Arabic, the
    Arabic names."""
    name_in_english(editor, communication=ENGLISH)
    page = editor.get("/en/staff/articles").get_data(as_text=True)
    options = filter_options(page)
    assert options[ENGLISH] == COMMUNICATION and options[ORDERS] == ORDERS and COMMUNICATION not in options
    assert category_column(page, SLUG) == ENGLISH
    other = next(a.slug for a in staff_app.extensions["kb"].catalog.articles.values() if a.category != COMMUNICATION)
    filtered = editor.get("/en/staff/articles", query_string={"category": COMMUNICATION}).get_data(as_text=True)
    assert f'<option value="{COMMUNICATION}" selected>{ENGLISH}</option>' in filtered
    assert f'/staff/articles/{SLUG}/edit"' in filtered and f'/staff/articles/{other}/edit"' not in filtered
    arabic = editor.get("/staff/articles").get_data(as_text=True)
    assert filter_options(arabic)[COMMUNICATION] == COMMUNICATION and ENGLISH not in filter_options(arabic)
    assert category_column(arabic, SLUG) == COMMUNICATION


def test_the_editor_offers_categories_in_the_staff_language_and_stores_the_name(staff_app, editor):  # noqa: F811
    """GIVEN "communication" named in English WHEN an article of it is opened in the English
    editor THEN the field and its suggestions give the English name (a category without one,
    its own), and saving the form as it came stores the Arabic name, as before."""
    name_in_english(editor, communication=ENGLISH)
    suggested = datalist_values(editor.get("/en/staff/articles/new").get_data(as_text=True))
    assert ENGLISH in suggested and ORDERS in suggested and COMMUNICATION not in suggested
    form = form_fields(editor.get(f"/en/staff/articles/{SLUG}/edit").get_data(as_text=True))
    assert form["category"] == ENGLISH
    saved = editor.post(f"/en/staff/articles/{SLUG}/edit", {**form, "summary": "ملخص جديد", "action": "publish"})
    assert saved.status_code == 302, field_error(saved)
    path = staff_app.extensions["kb"].catalog.articles[SLUG].path
    assert stored_category(staff_app, SLUG) == COMMUNICATION
    assert f"category: {COMMUNICATION}" in path.read_text(encoding="utf-8")
    assert editor.editor_form(SLUG)["category"] == COMMUNICATION
    assert COMMUNICATION in datalist_values(editor.get("/staff/articles/new").get_data(as_text=True))


def test_a_translated_name_another_category_answers_to_is_offered_by_its_stored_name(editor):  # noqa: F811
    """GIVEN "orders" named "Communication" in English, which is also communication's slug
    WHEN the English editor suggests categories THEN it suggests "orders" by its Arabic name
    (the field would read "Communication" as neither), and the articles list still shows
    the English name."""
    name_in_english(editor, communication=ENGLISH, orders="Communication")
    suggested = datalist_values(editor.get("/en/staff/articles/new").get_data(as_text=True))
    assert ORDERS in suggested and "Communication" not in suggested and ENGLISH in suggested
    assert filter_options(editor.get("/en/staff/articles").get_data(as_text=True))["Communication"] == ORDERS


def test_a_refused_category_lists_the_known_ones_in_the_staff_language(editor):  # noqa: F811
    """GIVEN "communication" named in English WHEN an unknown category is refused in the English
    editor THEN the known ones are listed by their English names (else their own) with their
    slugs; in the Arabic editor by their Arabic names."""
    name_in_english(editor, communication=ENGLISH)
    english = field_error(editor.post("/en/staff/articles/new", new_article(category=TYPO)))
    assert f"{ENGLISH} (communication)" in english and f"{ORDERS} (orders)" in english
    assert f"{COMMUNICATION} (communication)" not in english
    arabic = field_error(editor.post("/staff/articles/new", new_article(category=TYPO)))
    assert f"{COMMUNICATION} (communication)" in arabic and ENGLISH not in arabic
