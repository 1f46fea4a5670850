"""The lower layers' Arabic sentences (form errors, KbError messages) in the page's language
(kb.arabic_messages, shown by kb.web.messages), checked against the modules' own source so a new or reworded sentence
cannot slip through untranslated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from staff_fixtures import StaffClient
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import admin  # noqa: F401
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from staff_fixtures import staff_db  # noqa: F401

from kb.arabic_messages import KNOWN
from kb.arabic_messages import recognise
from kb.translation import TRANSLATIONS_DIR
from kb.web.messages import translated

ROOT = Path(__file__).resolve().parent.parent
# kb.publishing marks its messages with N_ (kb.translation) now: it has no Arabic sentences left.
MODULES = ["kb/content/editing.py", "kb/publish_results.py", "kb/publish_trash.py",
           "kb/taxonomy.py", "kb/content/media.py", "kb/web/security.py"]
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def arabic_sentences(path: Path) -> list[str]:
    """Every Arabic string of a module but its docstrings, f-string values filled with '7'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    inside_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "7" for part in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                and id(node) not in inside_fstrings:
            text = node.value
        else:
            continue
        if ARABIC_LETTER.search(text) and not text.startswith("#"):  # "#...": a file's own comments, not a message
            found.append(text)
    return found


@pytest.fixture(scope="module")
def english():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    Babel(app, locale_selector=lambda: "en")
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize("module", MODULES)
def test_every_arabic_sentence_of_the_lower_layers_has_an_english_translation(english, module):
    sentences = arabic_sentences(ROOT / module)
    assert sentences, f"{module} has no Arabic sentences: update MODULES"
    untranslated = [s for s in sentences if ARABIC_LETTER.search(translated(s))]
    assert not untranslated, f"{module}: add these to kb.arabic_messages.KNOWN (and the catalogs): {untranslated}"


@pytest.mark.parametrize("module", ["kb/publishing.py", "kb/publish_checks.py"])
def test_the_publisher_writes_no_arabic_sentences(module):
    """kb.publishing's refusals (and its save checks') are N_ messages, translated where they are
    shown: a new Arabic sentence there would be shown in Arabic to an English staff member."""
    assert arabic_sentences(ROOT / module) == []


def test_values_are_carried_into_the_translation(english):
    arabic = "لا يمكن حذف التصنيف «الشحن»: فيه مقالات (منها «تتبع الطلب»)."
    assert translated(arabic) == "The category “الشحن” cannot be deleted: it has articles (“تتبع الطلب” among them)."
    assert translated("Already English.") == "Already English." and translated(None) == ""


def test_editor_errors_in_the_staff_members_language(editor):  # noqa: F811
    staff = StaffClient(editor.client)
    staff.token = editor.token
    english = staff.post("/en/staff/articles/new", {"title": "", "body": "", "category": "", "lang": "ar",
                                                   "audience": "public", "action": "draft"})
    text = english.get_data(as_text=True)
    assert english.status_code == 400
    assert "The title is required." in text and "The article text is empty." in text and "العنوان مطلوب" not in text
    arabic = staff.post("/staff/articles/new", {"title": "", "body": "", "category": "", "lang": "ar",
                                               "audience": "public", "action": "draft"})
    assert "العنوان مطلوب." in arabic.get_data(as_text=True)


def test_a_marked_message_reads_as_english_and_translates_with_its_values():
    """kb.translation.N_: the lower layers' messages (no Flask there) are English text with an
    id and values; a page or the CLI translates them, nested messages included."""
    import copy
    import pickle

    from kb.translation import N_
    from kb.translation import translate
    from kb.translation import translations

    message = N_("failed: %(file)s: %(reason)s", file="a.txt", reason=N_("empty file"))
    assert message == "failed: a.txt: empty file" and isinstance(message, str)
    arabic = translate(message, translations("ar").gettext)
    assert arabic.startswith("فشل: a.txt: ") and "ملف فارغ" in arabic and not re.search("[A-Za-z]{4}", arabic)
    for copied in (copy.copy(message), pickle.loads(pickle.dumps(message))):
        assert translate(copied, translations("ar").gettext) == arabic
    assert translate("plain text", translations("ar").gettext) == "plain text"


def test_user_errors_in_the_staff_members_language(admin, staff_db):  # noqa: F811
    """kb.store.users raises N_() messages: a form error and a flashed one (kept in the session as
    text) are shown in the page's language."""
    from staff_fixtures import ADMIN

    from kb.store import users

    form = {"email": "new@example.com", "password": "short", "role": "editor"}
    english = admin.post("/en/staff/users", form).get_data(as_text=True)
    arabic = admin.post("/staff/users", form).get_data(as_text=True)
    assert "The password is short (5 of" in english and "كلمة المرور قصيرة" not in english
    assert "كلمة المرور قصيرة (5 من" in arabic and "The password is short" not in arabic
    own = users.find_user(staff_db, ADMIN[0]).id
    admin.post(f"/en/staff/users/{own}/disable")
    assert "You cannot disable your own account." in admin.get("/en/staff/users").get_data(as_text=True)
    admin.post(f"/staff/users/{own}/disable")
    assert "لا يمكنك تعطيل حسابك أنت." in admin.get("/staff/users").get_data(as_text=True)


def test_file_errors_are_said_in_the_readers_language(tmp_path):
    """The operating system words its errors in English: the common causes are Messages."""
    import errno

    from kb.content.articles import read_article_file
    from kb.translation import os_error
    from kb.translation import translate
    from kb.translation import translations

    _, problems = read_article_file(tmp_path / "gone.md", tmp_path)
    assert problems[0].reason == "cannot read: the file does not exist"
    assert translate(problems[0].reason, translations("ar").gettext) == "تعذّرت القراءة: الملف غير موجود"
    full = os_error(OSError(errno.ENOSPC, "No space left on device"))
    assert translate(full, translations("ar").gettext) == "القرص ممتلئ"
    assert os_error(OSError(errno.EIO, "Input/output error")) == "Input/output error"  # rare: the system's words


def test_a_message_is_still_a_string_to_str_translate():
    """GIVEN a lower layer's Message
    WHEN text code calls str.translate on it (as Arabic normalization does on any string)
    THEN it behaves as the string it reads as (Message's own method has another name)."""
    from kb.translation import N_

    message = N_("unknown field %(name)s", name="x")
    assert message.translate(str.maketrans("x", "y")) == "unknown field y"


def test_the_cli_recognises_the_same_sentences_without_the_web():
    """GIVEN a lower layer's Arabic sentence with values, and one nobody wrote
    WHEN the CLI shows them (kb.cli_support.error_text; outside a run: the English ids)
    THEN the first reads as the English message the web shows, values carried, the second as it is."""
    from kb.cli_support import error_text

    arabic = "لا يمكن حذف التصنيف «الشحن»: فيه مقالات (منها «تتبع الطلب»)."
    assert error_text(arabic) == "The category “الشحن” cannot be deleted: it has articles (“تتبع الطلب” among them)."
    assert error_text("جملة لم يكتبها أحد.") == "جملة لم يكتبها أحد."


def test_every_recognised_sentence_is_still_written_by_a_lower_layer():
    """The reverse of the check above: an entry of kb.arabic_messages that no module writes any
    more (its module moved to N_, or the sentence was reworded) is removed, not kept as dead text."""
    sentences = [sentence for module in MODULES for sentence in arabic_sentences(ROOT / module)]
    written = {found[0] for found in map(recognise, sentences) if found}
    stale = [arabic for arabic, english in KNOWN if english.msgid not in written]
    assert not stale, f"no module writes these any more: remove them from kb.arabic_messages.KNOWN: {stale}"
