"""The message catalogs: every interface string is in them, translated, and compiled.

No app or index here: the strings are extracted from the sources exactly as ``pybabel
extract -F babel.cfg`` does, and the catalogs are read from kb/translations.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kb.web.i18n import TRANSLATIONS_DIR
from kb.translation import catalog_languages

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "kb" / "web" / "templates"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def extracted_messages() -> dict[str, tuple[str, str]]:
    """msgid -> (file, plural msgid or '') for every string babel.cfg's extraction finds."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, tuple[str, str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        if isinstance(message, tuple):
            found[message[0]] = (filename, message[1])
        else:
            found[message] = (filename, "")
    return found


def load_po(lang: str):
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


@pytest.fixture(scope="module")
def messages() -> dict[str, tuple[str, str]]:
    return extracted_messages()


def test_arabic_and_english_catalogs_exist():
    assert {"ar", "en"} <= set(catalog_languages())


def test_extraction_finds_site_staff_and_python_strings(messages):
    """The extraction itself works (a broken babel.cfg would make every other test pass)."""
    files = {file for file, _ in messages.values()}
    assert any(f.startswith("kb/web/templates/site/") for f in files)
    assert any(f.startswith("kb/web/templates/staff/") for f in files)
    assert any(f.endswith(".py") for f in files)
    assert "Was this article helpful?" in messages and "Sign in first." in messages
    assert len(messages) > 250


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_message_has_a_translation(messages, lang):
    """GIVEN every _() of the templates and the Python code WHEN the catalog of a language
    is read THEN each has a non-empty translation (each plural form too), none is fuzzy."""
    catalog = load_po(lang)
    missing, empty, fuzzy = [], [], []
    for msgid, (file, plural) in sorted(messages.items()):
        entry = catalog.get((msgid, plural) if plural else msgid) or catalog.get(msgid)
        if entry is None:
            missing.append(f"{file}: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not strings or not all(s.strip() for s in strings):
            empty.append(f"{file}: {msgid!r}")
        if entry.fuzzy:
            fuzzy.append(msgid)
    assert not missing, f"not in the {lang} catalog (pybabel update, docs/i18n.md): {missing}"
    assert not empty, f"empty translations in the {lang} catalog: {empty}"
    assert not fuzzy, f"fuzzy (unchecked) translations in the {lang} catalog: {fuzzy}"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_placeholders_match_between_message_and_translation(lang):
    """A translation that drops or renames %(name)s would raise at render time (or lose the value)."""
    placeholder = re.compile(r"%\((\w+)\)")
    wrong = []
    for entry in load_po(lang):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        wanted = set(placeholder.findall(ids[-1])) - {"num"}
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            if set(placeholder.findall(text)) - {"num"} != wanted:
                wrong.append((ids[0], text))
    assert not wrong


def test_arabic_plurals_use_all_six_cldr_forms():
    catalog = load_po("ar")
    assert catalog.num_plurals == 6
    plural = next(e for e in catalog if isinstance(e.id, tuple) and e.id[0] == "%(num)d article")
    assert plural.string[1] == "مقالة واحدة" and plural.string[2] == "مقالتان" and "مقالات" in plural.string[3]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_compiled_catalog_matches_its_po_file(lang):
    """The .mo files are committed (nothing to build at install, docs/i18n.md): they must be
    what compiling the .po gives, or a changed translation would never reach a page."""
    folder = TRANSLATIONS_DIR / lang / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, load_po(lang))
    compiled.seek(0)
    with open(folder / "messages.mo", "rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(compiled)._catalog, (
            f"{folder}/messages.mo is stale: run `pybabel compile -d kb/translations`"
        )


# -- nothing is left outside the catalogs --------------------------------------------------


class _VisibleText(HTMLParser):
    """Text a reader sees or hears in a template with its Jinja removed: text nodes and the
    attributes that are read out (title, placeholder, aria-label, alt, data-confirm)."""

    SPOKEN = {"title", "placeholder", "aria-label", "alt", "data-confirm"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._skip = 0  # inside <code>, <pre>, <script>, <style>, or content marked lang="ar" (an example)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("code", "pre", "script", "style") or attrs.get("lang") in ("ar", "en"):
            self._skip += 1
        for name, value in attrs.items():
            if name in self.SPOKEN and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if self._skip and tag in ("code", "pre", "script", "style", "bdi", "span", "p", "a", "div"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def _without_jinja(source: str) -> str:
    source = re.sub(r"\{% block body_class %\}.*?\{% endblock %\}", " ", source)  # a class name
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    return re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)


# Words that are the same in every language: format and product names.
SAME_EVERYWHERE = {"API", "Markdown", "PNG", "JPEG", "GIF", "WebP", "SVG", "UTC", "HTTP", "URL", "ID", "kb"}


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_template_has_no_text_outside_gettext(template):
    """Every word a template shows goes through _() (so both catalogs have it): no Arabic
    letters and no Latin words remain once the Jinja is taken out."""
    parser = _VisibleText()
    parser.feed(_without_jinja((TEMPLATES / template).read_text(encoding="utf-8")))
    leftovers = []
    for text in parser.found:
        if ARABIC_LETTER.search(text):
            leftovers.append(text.strip())
        # a macro's attribute fragment (aria-invalid="true") or a file path is not prose
        prose = re.sub(r'[\w-]+="[^"]*"|\S*[/_.]\S*', " ", text)
        words = [w for w in re.findall(r"[A-Za-z]{2,}", prose) if w not in SAME_EVERYWHERE]
        if words:
            leftovers.append(text.strip())
    assert not leftovers, f"{template}: text outside gettext: {leftovers}"


def _python_strings_shown_to_people(path: Path) -> list[str]:
    """String constants with Arabic letters that are not docstrings or comments."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and ARABIC_LETTER.search(node.value)]


@pytest.mark.parametrize("module", ["app.py", "site.py", "site_search.py", "site_support.py", "pages.py", "i18n.py",
                                    "labels.py", "staff/__init__.py", "staff/access.py", "staff/auth.py",
                                    "staff/editor.py", "staff/taxonomy.py", "staff/admin.py"])
def test_web_code_has_no_hard_coded_arabic(module):
    path = ROOT / "kb" / "web" / module
    assert not _python_strings_shown_to_people(path), f"{module}: interface text outside gettext"
