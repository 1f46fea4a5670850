"""What the editor refuses, in the staff UI's language: the field errors of kb.content.editing
and kb.publishing, and the Publisher's KbErrors (an error page), over HTTP as a staff member
who chose English (``/en/staff/...``) or Arabic (``/ar/staff/...``) sees them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from test_staff import new_article

TAKEN = "positive-language"  # a published article of the test articles
DRAFT = "customer-service-kpis"  # a draft
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def field_error(response, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, f"no error beside the {name} field"
    return unescape(found.group(1))


def page_message(response) -> str:
    """The message of an error page (errors/generic.html)."""
    found = re.search(r'<p dir="auto">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, "no message on the error page"
    return unescape(found.group(1))


# (form fields, field, the English error, the Arabic one)
FIELD_ERRORS = [
    pytest.param({"title": ""}, "title", "The title is required.", "العنوان مطلوب.", id="empty-title"),
    pytest.param({"slug": "Free Shipping!"}, "slug", "Invalid link: use only letters, digits and hyphens, like “free-shipping”.",
                 "رابط غير صالح: استعمل حروفًا وأرقامًا وشرطات فقط، مثل «free-shipping».", id="bad-slug"),
    pytest.param({"slug": TAKEN}, "slug", "This link is used by another article.", "هذا الرابط مستخدم لمقال آخر.",
                 id="slug-in-use"),
    pytest.param({"body": ""}, "body", "The article text is empty.", "نص المقال فارغ.", id="empty-body"),
]


@pytest.mark.parametrize("fields, name, english, arabic", FIELD_ERRORS)
def test_a_refused_field_is_explained_in_the_staff_members_language(editor, fields, name, english, arabic):  # noqa: F811
    """GIVEN a staff member in English, then in Arabic WHEN a new article with a bad field is saved
    THEN the editor shows the form again with the field's error in that language only."""
    in_english = editor.post("/en/staff/articles/new", new_article(**fields))
    in_arabic = editor.post("/ar/staff/articles/new", new_article(**fields))
    assert (in_english.status_code, in_arabic.status_code) == (400, 400)
    assert field_error(in_english, name) == english
    assert field_error(in_arabic, name) == arabic


def test_an_unknown_category_is_refused_in_the_staff_members_language(editor):  # noqa: F811
    """The category refusal names the typed value and the known categories, in the UI's words."""
    form = new_article(category="لا يوجد تصنيف بهذا الاسم")
    english = field_error(editor.post("/en/staff/articles/new", form), "category")
    arabic = field_error(editor.post("/ar/staff/articles/new", form), "category")
    assert english.startswith("“لا يوجد تصنيف بهذا الاسم” is not a category of this help center. Choose one of: ")
    assert english.endswith("An admin can add a category on the categories page.")
    assert arabic.startswith("«لا يوجد تصنيف بهذا الاسم» ليس تصنيفًا في مركز المساعدة. اختر واحدًا من: ")
    assert "categories page" not in arabic


@pytest.mark.parametrize("prefix, expected", [("/en", "The article is not published."), ("/ar", "المقال غير منشور.")])
def test_the_publishers_refusals_are_error_pages_in_the_staff_members_language(editor, prefix, expected):  # noqa: F811
    """GIVEN a draft WHEN it is unpublished THEN the 400 page says why in the staff UI's language."""
    response = editor.post(f"{prefix}/staff/articles/{DRAFT}/unpublish")
    assert response.status_code == 400
    assert page_message(response) == expected


@pytest.mark.parametrize("prefix, expected", [("/en", "The article does not exist."), ("/ar", "المقال غير موجود.")])
def test_a_missing_article_is_said_in_the_staff_members_language(editor, prefix, expected):  # noqa: F811
    response = editor.get(f"{prefix}/staff/articles/no-such-article/edit")
    assert response.status_code == 404
    assert page_message(response) == expected


def test_an_unknown_action_is_refused_in_the_staff_members_language(editor):  # noqa: F811
    """The action comes from the editor's buttons: anything else is a 400 naming the actions."""
    english = editor.post("/en/staff/articles/new", new_article(action="archive"))
    arabic = editor.post("/ar/staff/articles/new", new_article(action="archive"))
    assert (english.status_code, arabic.status_code) == (400, 400)
    assert page_message(english) == "The action must be one of: draft, publish."
    assert page_message(arabic) == "الإجراء يجب أن يكون واحدًا من: draft, publish."
    assert not ARABIC_LETTER.search(page_message(english))
