"""The brand (kb.brand, kb.svgsafe, kb.web.branding, /staff/brand): contrast-checked colour,
sanitized SVG logos, names per language, footer links, category icons, kept in the database."""

from __future__ import annotations

import io
import re

import pytest
from staff_fixtures import ADMIN
from staff_fixtures import EDITOR
from staff_fixtures import StaffClient
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import staff_app  # noqa: F401

from kb.brand import MAX_ASSET_BYTES
from kb.brand import MIN_CONTRAST
from kb.brand import Brand
from kb.brand import BrandStore
from kb.brand import FooterLink
from kb.brand import accessible_color
from kb.brand import clean_asset
from kb.brand import contrast_ratio
from kb.brand import parse_color
from kb.brand import parse_footer_links
from kb.brand import theme_colors
from kb.brand import worst_contrast
from kb.store.db import Database
from kb.errors import KbError
from kb.svgsafe import UnsafeSvg
from kb.svgsafe import sanitize_svg
from kb.translation import Message
from kb.translation import translations

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
HOSTILE_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="120" height="40" onload="alert(1)">
  <script>alert(2)</script>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
  <image href="https://tracker.example/p.png" width="1" height="1"/>
  <style>@import url(https://evil.example/x.css);</style>
  <rect width="40" height="40" fill="#d9480f" onclick="alert(3)"/>
  <circle cx="20" cy="20" r="10" fill="url(https://evil.example/g)" style="fill:red"/>
  <use href="https://evil.example/sprite.svg#a"/>
  <use xlink:href="#mark"/>
  <a xlink:href="javascript:alert(4)"><rect x="100" width="10" height="10"/></a>
  <set attributeName="href" to="javascript:alert(5)"/>
  <text x="48" y="27" fill="#222">ACME</text>
</svg>"""


# -- colour --------------------------------------------------------------------------------------


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey
    assert contrast_ratio("#0c5aa6", "#ffffff") == pytest.approx(6.93, abs=0.05)
    assert worst_contrast("#0c5aa6") == pytest.approx(6.46, abs=0.05)  # on the grey page background


@pytest.mark.parametrize("asked", ["#ffcc00", "#ff0000", "#00a86b", "#fff", "#87ceeb", "#777777"])
def test_a_light_colour_is_darkened_to_the_nearest_shade_that_passes(asked):
    """GIVEN a brand colour too light for white button text or links on the page
    THEN the colour used keeps its hue and reaches 4.5:1 with everything it is drawn with."""
    used, ratio = accessible_color(asked)
    assert used != parse_color(asked)
    assert ratio >= MIN_CONTRAST and worst_contrast(used) >= MIN_CONTRAST
    assert ratio < MIN_CONTRAST + 0.5  # the nearest shade, not black


@pytest.mark.parametrize("asked", ["#0c5aa6", "#000000", "#7a1f5c", "#1d6b35"])
def test_a_dark_enough_colour_is_kept(asked):
    assert accessible_color(asked)[0] == asked


@pytest.mark.parametrize("bad", ["", "blue", "#12345", "#ggg000", "rgb(0,0,0)", "#0c5aa6; x: y", "#0c5aa6}"])
def test_what_is_not_a_hex_colour_is_refused(bad):
    with pytest.raises(KbError) as raised:
        parse_color(bad)
    assert raised.value.field == "primary_color"


def test_theme_chips_stay_readable():
    for primary in ("#0c5aa6", "#8a6e00", "#000000", "#e00000"):
        colors = theme_colors(primary)
        assert contrast_ratio(colors["--primary-strong"], colors["--primary-soft"]) >= MIN_CONTRAST


# -- SVG and PNG uploads ---------------------------------------------------------------------------


def test_an_svg_keeps_its_drawing_and_loses_everything_that_runs_or_loads():
    clean = sanitize_svg(HOSTILE_SVG).decode()
    for gone in ("script", "alert", "onload", "onclick", "foreignObject", "<image", "evil.example", "tracker",
                 "javascript", "@import", "style=", "<set", "<a "):
        assert gone not in clean, gone
    assert "<rect" in clean and "ACME" in clean and 'href="#mark"' in clean
    assert 'viewBox="0 0 120 40"' in clean  # scales in the header


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
     "DOCTYPE"),
    (b"<svg><rect/></svg>", "namespace"),  # no SVG namespace: not an SVG image
    (b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not an SVG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "well-formed"),
    (b"\xff\xfe<svg/>", "UTF-8"),
])
def test_what_is_not_a_safe_svg_is_refused_with_the_reason(data, reason):
    with pytest.raises(UnsafeSvg) as raised:
        sanitize_svg(data)
    assert reason in str(raised.value) and raised.value.reason


def test_uploads_are_png_or_sanitized_svg_only():
    assert clean_asset(PNG, "logo.png", "logo") == (PNG, "image/png")
    data, mime = clean_asset(HOSTILE_SVG, "logo.svg", "logo")
    assert mime == "image/svg+xml" and b"script" not in data
    for bad, name in [(b"GIF89a....", "logo.gif"), (b"", "logo.png"), (b"<svg" + b" " * 600 * 1024, "big.svg")]:
        with pytest.raises(KbError) as raised:
            clean_asset(bad, name, "logo")
        assert raised.value.field == "logo"


# -- footer links ------------------------------------------------------------------------------------


def test_footer_links_are_label_then_address():
    links = parse_footer_links("سياسة الخصوصية | https://example.com/privacy\n\nTerms | /faq\nMail | mailto:a@b.example")
    assert links == (FooterLink("سياسة الخصوصية", "https://example.com/privacy"), FooterLink("Terms", "/faq"),
                     FooterLink("Mail", "mailto:a@b.example"))


@pytest.mark.parametrize("text", ["no address", "x | javascript:alert(1)", "x | //evil.example", " | https://a.example",
                                  "\n".join(f"l{i} | /p{i}" for i in range(9))])
def test_bad_footer_links_are_refused_with_the_line(text):
    with pytest.raises(KbError) as raised:
        parse_footer_links(text)
    assert raised.value.field == "footer_links"


REFUSED = {
    "colour": lambda: parse_color("azure"),
    "link format": lambda: parse_footer_links("no address"),
    "link scheme": lambda: parse_footer_links("x | javascript:alert(1)"),
    "too many links": lambda: parse_footer_links("\n".join(f"l{i} | /p{i}" for i in range(9))),
    "empty file": lambda: clean_asset(b"", "logo.png", "logo"),
    "large file": lambda: clean_asset(b"x" * (MAX_ASSET_BYTES + 1), "logo.png", "logo"),
    "not png or svg": lambda: clean_asset(b"GIF89a", "logo.gif", "logo"),
    "svg not utf-8": lambda: clean_asset(b"\xff\xfe<svg/>", "logo.svg", "logo"),
    "svg not xml": lambda: clean_asset(b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "logo.svg", "logo"),
    "svg doctype": lambda: clean_asset(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "a">]><svg>&a;</svg>',
                                       "logo.svg", "logo"),
    "not svg": lambda: clean_asset(b"<svg><rect/></svg>", "logo.svg", "logo"),
}


@pytest.mark.parametrize("refuse", REFUSED.values(), ids=REFUSED.keys())
def test_every_refusal_reads_in_english_and_has_its_arabic(refuse):
    """GIVEN a bad colour, footer link or upload
    WHEN kb.brand refuses it
    THEN its message is a Message (kb.translation.N_): English as text (logs, the API), and the
    Arabic catalog says it with its values, as the staff page shows it."""
    with pytest.raises(KbError) as raised:
        refuse()
    message = raised.value.message
    assert isinstance(message, Message) and not re.search("[\u0621-\u064A]", message)
    arabic = message.in_language(translations("ar").gettext)
    assert re.search("[\u0621-\u064A]", arabic) and arabic != message
    assert all(str(value) in arabic for value in message.values.values())


# -- storage -------------------------------------------------------------------------------------------


def test_the_brand_survives_a_restart_and_is_seen_by_another_process(database_url):
    """GIVEN two connections to one database (two server processes)
    WHEN one saves the brand THEN the other reads it at once, and so does a fresh start."""
    first, second = Database(database_url), Database(database_url)
    assert BrandStore(second.connection()).load() == Brand()
    saved = BrandStore(first.connection()).save(
        Brand(primary_color="#7a1f5c", site_names={"en": "ACME Help"}, footer_links=(FooterLink("A", "/faq"),)),
        {"logo": (PNG, "image/png")})
    assert saved.version == 1 and saved.assets["logo"].mime == "image/png"
    seen = BrandStore(second.connection()).load()
    assert seen == saved and seen.site_name("en", "x") == "ACME Help" and seen.site_name("ar", "مركز") == "مركز"
    assert BrandStore(Database(database_url).connection()).asset("logo") == (PNG, "image/png")
    again = BrandStore(second.connection()).save(seen, {"logo": None})
    assert again.version == 2 and "logo" not in again.assets and BrandStore(first.connection()).asset("logo") is None


# -- the staff page and the public pages -------------------------------------------------------------


@pytest.fixture
def admin(staff_app):
    staff = StaffClient(staff_app.test_client())
    staff.login(*ADMIN)
    return staff


def test_only_admins_edit_the_brand(staff_app):
    editor = StaffClient(staff_app.test_client())
    editor.login(*EDITOR)
    assert editor.get("/staff/brand").status_code == 403


def test_an_admin_sets_the_brand_and_every_page_shows_it(admin, staff_app):
    page = admin.get("/staff/brand")
    assert page.status_code == 200 and 'name="primary_color"' in page.get_data(as_text=True)
    response = admin.post("/staff/brand", data={
        "site_name_ar": "مساعدة أكمي", "site_name_en": "ACME Help", "primary_color": "#ffcc00",
        "footer_links": "سياسة الخصوصية | https://example.com/privacy",
        "logo": (io.BytesIO(HOSTILE_SVG), "logo.svg"), "favicon": (io.BytesIO(PNG), "icon.png"),
    }, content_type="multipart/form-data", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "#ffcc00" in text and "#8a6e00" in text  # told which colour was asked and which is used

    public = staff_app.test_client()
    home = public.get("/").get_data(as_text=True)
    assert "مساعدة أكمي" in home and "https://example.com/privacy" in home
    theme = re.search(r'href="(/brand/theme\.css\?v=\d+)"', home).group(1)
    css = public.get(theme)
    assert css.mimetype == "text/css" and "--primary: #8a6e00" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    logo = re.search(r'src="(/brand/logo\?v=[0-9a-f]+)"', home).group(1)
    served = public.get(logo)
    assert served.mimetype == "image/svg+xml" and b"script" not in served.get_data()
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert re.search(r'<link rel="icon" href="/brand/favicon\?v=[0-9a-f]+" type="image/png">', home)
    english = public.get("/en/").get_data(as_text=True)
    assert "ACME Help" in english
    article = public.get("/articles/handling-angry-customers").get_data(as_text=True)
    assert '"publisher": {"@type": "Organization", "name": "مساعدة أكمي"}' in article  # schema.org too
    assert re.search(r'<meta name="description" content="مساعدة أكمي', home)


def test_a_bad_field_saves_nothing_and_says_what_is_wrong(admin, staff_app):
    response = admin.post("/staff/brand", data={
        "site_name_ar": "اسم جديد", "primary_color": "azure", "footer_links": "x | javascript:alert(1)",
        "logo": (io.BytesIO(b"GIF89a"), "logo.gif"),
    }, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="primary_color-error"' in text and 'id="footer_links-error"' in text and 'id="logo-error"' in text
    assert "السطر 1" in text and "ارفع صورة PNG أو SVG" in text  # in the page's language
    assert BrandStore(staff_app.extensions["kb_db"].connection()).load() == Brand()


def test_category_icons_are_chosen_on_the_categories_page(admin, staff_app):
    """GIVEN the categories page WHEN an icon is picked for one category and the rows are saved
    THEN the home page's card for it shows that icon."""
    from kb import taxonomy

    rows = taxonomy.read_categories(staff_app.extensions["kb"].articles_dir)
    shown = staff_app.test_client().get("/").get_data(as_text=True)
    rows.sort(key=lambda row: f'href="/categories/{row.slug}"' not in shown)  # one the home page lists first
    page = admin.get("/staff/categories").get_data(as_text=True)
    assert page.count('name="icon"') == len(rows) + 1  # one per category and the empty new row
    form = {"order": [], "name": [], "slug": [], "description": [], "original_name": [], "original_slug": [], "icon": []}
    for number, row in enumerate(rows, 1):
        for key, value in (("order", str(number)), ("name", row.name), ("slug", row.slug),
                           ("description", row.description), ("original_name", row.original_name),
                           ("original_slug", row.original_slug), ("icon", "truck" if number == 1 else "book")):
            form[key].append(value)
    assert admin.post("/staff/categories", data=form).status_code == 302
    brand = BrandStore(staff_app.extensions["kb_db"].connection()).load()
    assert brand.category_icons[rows[0].slug] == "truck"
    assert "icon-truck" in staff_app.test_client().get("/").get_data(as_text=True)


# -- the site's name without a brand name ---------------------------------------------------------


def _shown_names(page: str) -> set[str]:
    """The site name in the header, the footer and after the page title."""
    header = re.search(r'<span class="brand-name">([^<]*)</span>', page).group(1)
    footer = re.search(r"<p class=\"muted\">© ([^<]*)</p>", page).group(1)
    title = re.search(r"<title>(?:[^<]* — )?([^<—]*)</title>", page).group(1)
    return {header, footer, title}


def test_without_a_brand_name_the_site_is_named_in_the_page_language(client):
    """GIVEN no name on the brand page and none in the settings THEN an English page is
    named "Help Center" and an Arabic one "مركز المساعدة", from the catalogs: never the
    Arabic default on an English page; an English article's schema.org publisher too."""
    assert _shown_names(client.get("/en/").get_data(as_text=True)) == {"Help Center"}
    assert _shown_names(client.get("/en/faq").get_data(as_text=True)) == {"Help Center"}
    assert _shown_names(client.get("/ar/").get_data(as_text=True)) == {"مركز المساعدة"}
    article = client.get("/en/articles/responding-to-negative-reviews-en").get_data(as_text=True)
    assert '"publisher": {"@type": "Organization", "name": "Help Center"}' in article
    arabic = client.get("/en/articles/handling-angry-customers").get_data(as_text=True)
    assert '"publisher": {"@type": "Organization", "name": "مركز المساعدة"}' in arabic  # the article's language


def test_a_site_name_from_the_settings_is_used_in_every_language_until_the_brand_names_one(session_kb, tmp_path):
    from conftest import make_settings

    from kb.web import create_app

    settings = make_settings(tmp_path, site_name="ACME Support").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    app = create_app(settings, knowledge=session_kb, test_config={"TESTING": True})
    client = app.test_client()
    assert _shown_names(client.get("/en/").get_data(as_text=True)) == {"ACME Support"}
    assert _shown_names(client.get("/ar/").get_data(as_text=True)) == {"ACME Support"}
    BrandStore(app.extensions["kb_db"].connection()).save(Brand(site_names={"en": "ACME Help"}))
    assert _shown_names(client.get("/en/").get_data(as_text=True)) == {"ACME Help"}
    assert _shown_names(client.get("/ar/").get_data(as_text=True)) == {"ACME Support"}
