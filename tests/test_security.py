"""Sign-in redirects and server-side session revocation, over HTTP with the Flask test client.

Two app instances over one database stand for two server processes: a session ended
through one of them must stop working in the other at its next request.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from conftest import make_settings
from kb.store import users
from kb.web.security import safe_redirect_target
from staff_fixtures import ADMIN
from staff_fixtures import EDITOR
from staff_fixtures import StaffClient
from staff_fixtures import cheap_hashing  # noqa: F401 - fixture

FALLBACK = "/staff/"
# The issue's findings, then the usual ways around a "starts with one slash" check.
HOSTILE_NEXT = [
    "/%09/evil.example/", "/%0A/x", "/%0D%0ALocation:%20//evil.example", "//evil.example/", "///evil.example",
    "/\\evil.example", "/%5Cevil.example", "/%2F/evil.example", "/%252F%252Fevil.example", "/%25252F%25252Fevil",
    "https://evil.example/", "javascript:alert(1)", "evil.example", " /staff/", "/\t/evil.example", "/\n/x",
    "/%00", "/\u200e/evil.example", "/%E2%80%8F/evil.example", "/\u3000/evil.example", "/staff/ x",
    "/%20/evil.example", "http:/evil.example", "\\\\evil.example", "", "/" + "a" * 5000,
]
SAME_SITE_NEXT = [
    ("/staff/articles", "/staff/articles"),
    ("/staff/articles?q=%D8%B4%D8%AD%D9%86&page=2", "/staff/articles?q=%D8%B4%D8%AD%D9%86&page=2"),
    ("/staff/articles/شحن/edit", "/staff/articles/%D8%B4%D8%AD%D9%86/edit"),
    ("/articles/x#faq", "/articles/x#faq"),
]


def _is_same_site_path(target: str) -> bool:
    return (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isascii() and not any(unicodedata.category(c)[0] in "CZ" for c in target))


# -- the check itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_targets_fall_back(target):
    assert safe_redirect_target(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize(("target", "expected"), SAME_SITE_NEXT)
def test_paths_on_this_site_are_kept_and_made_ascii(target, expected):
    assert safe_redirect_target(target, FALLBACK) == expected


def test_non_strings_fall_back():
    for target in (None, 42, b"/staff/", ["/staff/"]):
        assert safe_redirect_target(target, FALLBACK) == FALLBACK  # type: ignore[arg-type]


# Strings built from the pieces redirect tricks are made of, plus anything at all.
_PIECES = st.sampled_from(["/", "//", "\\", "%", "%2F", "%5C", "%09", "%0A", "%25", "%2", ":", "@", "?", "#", ".",
                           "evil.example", "http", "staff", " ", "\t", "\n", "\x00", "\u200f", "\u2028", "ش", "%D8%B4"])
HOSTILE_STRINGS = st.one_of(st.text(), st.lists(_PIECES, max_size=12).map("".join),
                            st.tuples(st.sampled_from(["/", "//", "/%"]), st.text()).map("".join))


@given(HOSTILE_STRINGS)
@settings(max_examples=1500, deadline=None, database=None)
def test_property_the_accepted_target_is_the_fallback_or_a_plain_site_path(target):
    accepted = safe_redirect_target(target, FALLBACK)
    assert accepted == FALLBACK or _is_same_site_path(accepted)
    if accepted != FALLBACK:
        assert safe_redirect_target(accepted, FALLBACK) == accepted  # what we send stays acceptable


# -- over HTTP ----------------------------------------------------------------------------------------


def _make_app(session_kb, base, database_url: str = ""):
    from kb.web import create_app

    app_settings = make_settings(base, database_url=database_url).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(app_settings, knowledge=session_kb, test_config={"TESTING": True})


@pytest.fixture
def two_apps(session_kb, tmp_path, cheap_hashing, database_url):
    """Two app instances over one database (two server processes), with an editor and an admin;
    on SQLite and on PostgreSQL."""
    first, second = _make_app(session_kb, tmp_path, database_url), _make_app(session_kb, tmp_path, database_url)
    connection = first.extensions["kb_db"].connection()
    users.create_user(connection, *EDITOR, role="editor")
    users.create_user(connection, *ADMIN, role="admin")
    return first, second


def _location(response) -> str:
    return response.headers.get("Location", "")


@pytest.mark.parametrize("target", HOSTILE_NEXT[:12])
def test_sign_in_never_redirects_off_site(two_apps, target):
    """GIVEN a hostile next= WHEN signing in, and again when already signed in THEN the
    redirect goes to the staff home, never a 500."""
    client = StaffClient(two_apps[0].test_client())
    response = client.login(*EDITOR, next=target)
    assert response.status_code == 302 and _location(response) == FALLBACK
    again = client.get("/staff/login", query_string={"next": target})
    assert again.status_code == 302 and _location(again) == FALLBACK


def test_the_issues_exact_urls(two_apps):
    client = StaffClient(two_apps[0].test_client())
    assert client.get("/staff/login?next=/%09/evil.example/").status_code == 200
    assert client.get("/staff/login?next=/%0A/x").status_code == 200
    assert client.login(*EDITOR).status_code == 302
    for url in ("/staff/login?next=/%09/evil.example/", "/staff/login?next=/%0A/x"):
        response = client.get(url)
        assert response.status_code == 302 and _location(response) == FALLBACK, url


def test_a_site_path_is_followed_after_sign_in(two_apps):
    client = StaffClient(two_apps[0].test_client())
    response = client.login(*EDITOR, next="/staff/articles?q=%D8%B4%D8%AD%D9%86")
    assert _location(response) == "/staff/articles?q=%D8%B4%D8%AD%D9%86"


@given(HOSTILE_STRINGS)
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_property_no_next_gives_a_5xx_or_leaves_the_site(signed_in_client, target):
    response = signed_in_client.get("/staff/login", query_string={"next": target})
    assert response.status_code == 302
    assert _location(response) == FALLBACK or _is_same_site_path(_location(response))


@pytest.fixture(scope="module")
def signed_in_client(session_kb, tmp_path_factory):
    """One signed-in editor for the HTTP property test (module-scoped: Hypothesis reruns the body)."""
    app = _make_app(session_kb, tmp_path_factory.mktemp("redirects"))
    users.create_user(app.extensions["kb_db"].connection(), *EDITOR, role="editor")
    client = StaffClient(app.test_client())
    assert client.login(*EDITOR).status_code == 302
    return client


# -- session revocation --------------------------------------------------------------------------------


def _signed_in(app, account) -> StaffClient:
    client = StaffClient(app.test_client())
    assert client.login(*account).status_code == 302
    return client


def _copy_of(client: StaffClient, app) -> StaffClient:
    """Another browser (on another server process) holding a copy of client's session cookie."""
    cookie = client.client.get_cookie("session")
    assert cookie is not None
    copy = StaffClient(app.test_client())
    copy.client.set_cookie("session", cookie.value)
    return copy


def _works(client: StaffClient) -> bool:
    return client.get("/staff/articles").status_code == 200


def test_a_copied_cookie_works_until_the_session_ends(two_apps):
    first, second = two_apps
    editor = _signed_in(first, EDITOR)
    copy = _copy_of(editor, second)
    assert _works(editor) and _works(copy)


def test_sign_out_ends_the_session_in_every_process(two_apps):
    first, second = two_apps
    editor = _signed_in(first, EDITOR)
    other_device = _signed_in(second, EDITOR)
    copy = _copy_of(editor, second)
    editor.refresh_token("/staff/articles")
    assert editor.post("/staff/logout").status_code == 302
    assert not _works(editor) and not _works(copy)
    assert _works(other_device)  # signing out ends this session, not the user's others


def test_changing_ones_own_password_ends_other_sessions_and_keeps_this_one(two_apps, cheap_hashing):
    first, second = two_apps
    editor = _signed_in(first, EDITOR)
    copy = _copy_of(editor, second)
    other_device = _signed_in(second, EDITOR)
    editor.refresh_token("/staff/account")
    response = editor.post("/staff/account", {"current_password": EDITOR[1], "new_password": "a brand new password",
                                              "confirm_password": "a brand new password"})
    assert response.status_code == 302
    assert _works(editor)
    assert not _works(copy) and not _works(other_device)
    assert not _works(_copy_of(copy, first))


@pytest.mark.parametrize("action", ["password", "role", "disable"])
def test_admin_changes_end_every_session_of_the_account(two_apps, action):
    first, second = two_apps
    editor = _signed_in(first, EDITOR)
    copy = _copy_of(editor, second)
    admin = _signed_in(second, ADMIN)
    editor_id = users.find_user(first.extensions["kb_db"].connection(), EDITOR[0]).id
    admin.refresh_token("/staff/users")
    form = {"password": {"password": "reset by the admin"}, "role": {"role": "admin"}, "disable": {}}[action]
    assert admin.post(f"/staff/users/{editor_id}/{action}", form).status_code == 302
    assert not _works(editor) and not _works(copy)
    assert _works(admin)
    if action != "disable":
        password = form.get("password", EDITOR[1])
        assert _works(_signed_in(second, (EDITOR[0], password)))


def test_cli_disable_ends_sessions_of_a_running_server(two_apps):
    """GIVEN a signed-in editor WHEN `kb user disable` runs (a third process) THEN the session ends."""
    from click.testing import CliRunner

    from kb.cli import cli

    first, _ = two_apps
    editor = _signed_in(first, EDITOR)
    app_settings = first.extensions["kb_settings"]
    result = CliRunner().invoke(cli, ["--data-dir", str(app_settings.data_dir), "user", "disable", EDITOR[0]],
                                env={"KB_DATABASE_URL": app_settings.database_url})
    assert result.exit_code == 0, result.output
    assert not _works(editor)


def test_an_admin_resetting_their_own_password_stays_signed_in(two_apps):
    first, _ = two_apps
    admin = _signed_in(first, ADMIN)
    admin_id = users.find_user(first.extensions["kb_db"].connection(), ADMIN[0]).id
    admin.refresh_token("/staff/users")
    assert admin.post(f"/staff/users/{admin_id}/password", {"password": "the admin's new one"}).status_code == 302
    assert _works(admin)


def test_a_short_password_is_refused_with_the_minimum_named(two_apps):
    admin = _signed_in(two_apps[0], ADMIN)
    admin.refresh_token("/staff/users")
    response = admin.post("/staff/users", {"email": "new@example.com", "password": "elevenchars", "role": "editor"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "12" in html and 'minlength="12"' in html


def test_signing_out_of_every_other_session_keeps_this_one(two_apps):
    first, second = two_apps
    here = _signed_in(first, EDITOR)
    laptop, phone = _signed_in(second, EDITOR), _signed_in(first, EDITOR)
    page = here.get("/staff/account").get_data(as_text=True)
    assert "جلسات أخرى مفتوحة لحسابك (في متصفح أو جهاز آخر): 2." in page
    here.refresh_token("/staff/account")
    assert here.post("/staff/account/sessions/end-others").status_code == 302
    assert _works(here) and not _works(laptop) and not _works(phone)
    assert "لا جلسات مفتوحة" in here.get("/staff/account").get_data(as_text=True)
