"""Adding an interface language is adding a catalog (docs/i18n.md): a French catalog in a
copy of kb/translations gets its URL prefix, switcher entry, hreflang links and words,
with no code change."""

from __future__ import annotations

import shutil

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po
from conftest import make_settings
from test_site import html
from test_site import parse

from kb import translation
from kb.web import create_app
from kb.web.i18n import text_direction

FRENCH = {"Browse by section": "Parcourir par rubrique", "Frequently asked questions": "Questions fréquentes",
          "Language": "Langue"}


def add_french_catalog(folder) -> None:
    """What `pybabel init -l fr` + translating a few entries + `pybabel compile` produce."""
    with open(folder / "en" / "LC_MESSAGES" / "messages.po", "rb") as source:
        english = read_po(source)
    french = Catalog(locale="fr")
    for message in english:
        if message.id:
            french.add(message.id, FRENCH.get(message.id, "") if isinstance(message.id, str) else ("", ""))
    target = folder / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.po", "wb") as po:
        write_po(po, french)
    with open(target / "messages.mo", "wb") as mo:
        write_mo(mo, french)


def test_a_third_language_is_a_catalog(session_kb, tmp_path, monkeypatch):
    folder = tmp_path / "translations"
    shutil.copytree(translation.TRANSLATIONS_DIR, folder)
    add_french_catalog(folder)
    monkeypatch.setattr(translation, "TRANSLATIONS_DIR", folder)
    settings = make_settings(tmp_path).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    client = create_app(settings, knowledge=session_kb, test_config={"TESTING": True}).test_client()

    page = client.get("/fr/")
    assert page.status_code == 200
    assert parse(page).root == {"lang": "fr", "dir": "ltr"}
    assert "Parcourir par rubrique" in html(page)
    assert "Welcome to" in html(page)  # an entry not translated yet falls back to the English source
    assert 'hreflang="fr" lang="fr" dir="ltr" data-language-link>Français' in html(client.get("/en/"))
    alternates = {link["hreflang"] for link in parse(page).links if link.get("rel") == "alternate"}
    assert alternates == {"ar", "en", "fr", "x-default"}
    assert parse(client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"})).root["lang"] == "fr"


def test_direction_of_a_new_language_comes_from_cldr():
    assert text_direction("fa") == "rtl" and text_direction("ur") == "rtl" and text_direction("he") == "rtl"
    assert text_direction("fr") == "ltr" and text_direction("tr") == "ltr"
