"""Fixtures and helpers shared by the staff tests (imported by those modules; conftest.py is the lead's).

``staff_app`` is an app over a private copy of the test articles and index (``fresh_kb``),
with an editor and an admin account.  Passwords use a cheap scrypt cost here: the real
cost is checked once in test_users.py.
"""

from __future__ import annotations

import re

import pytest

from conftest import make_settings
from conftest import stop_app_loops
from kb.store import users
from kb.store.db import Database
from kb.publishing import Publisher

EDITOR = ("editor@example.com", "editor-password-1")
ADMIN = ("admin@example.com", "admin-password-1")
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "PASSWORD_METHOD", "scrypt:1024:8:1")


@pytest.fixture
def staff_app(fresh_kb, fresh_dir, cheap_hashing, app_database_url):
    """On SQLite, or on both databases in modules that override ``app_database_url`` (conftest)."""
    from kb.web import create_app

    settings = make_settings(fresh_dir, database_url=app_database_url)
    app = create_app(settings, knowledge=fresh_kb, test_config={"TESTING": True})
    connection = app.extensions["kb_db"].connection()
    users.create_user(connection, *EDITOR, role="editor")
    users.create_user(connection, *ADMIN, role="admin")
    yield app
    stop_app_loops(app)


@pytest.fixture
def staff_db(staff_app):
    return staff_app.extensions["kb_db"].connection()


@pytest.fixture
def publisher(fresh_kb, fresh_dir, app_database_url):
    """A Publisher over the private articles, with its own connection (no web app) to the
    database ``staff_app`` would use."""
    database = Database(app_database_url or fresh_dir / "data" / "kb.sqlite3")
    return Publisher(fresh_kb, database.connection())


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class StaffClient:
    """A test client that signs in and sends the CSRF token like the staff pages do."""

    def __init__(self, client):
        self.client = client
        self.token = ""

    def refresh_token(self, path: str = "/staff/login") -> str:
        self.token = csrf_from(self.client.get(path).get_data(as_text=True))
        return self.token

    def login(self, email: str, password: str, **kwargs):
        self.refresh_token()
        response = self.client.post("/staff/login", data={"email": email, "password": password, "csrf_token": self.token, **kwargs})
        if response.status_code == 302:
            self.refresh_token("/staff/account")  # signing in starts a new session, with a new token
        return response

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        if not self.token:
            self.refresh_token()
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def editor_form(self, slug: str) -> dict:
        """The edit page's form fields as a browser would send them back."""
        html = self.get(f"/staff/articles/{slug}/edit").get_data(as_text=True)
        return form_fields(html)


def form_fields(html: str, unselected_is_first: bool = False) -> dict:
    """Text inputs, selects (selected option) and textareas of the editor form, plus base.

    A select with no option marked selected is "" (or, with `unselected_is_first`, its first
    option, as a browser sends it)."""
    from html import unescape

    form = html.split('id="editor-form"', 1)[1].split("</form>", 1)[0]
    fields: dict = {}
    for name, value in re.findall(r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', form):
        fields.setdefault(name, unescape(value))
    for name, value in re.findall(r'<textarea[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields.setdefault(name, unescape(value))
    for name, options in re.findall(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', options)
        first = re.search(r'<option value="([^"]+)"', options) if unselected_is_first else None
        fields[name] = selected.group(1) if selected else (first.group(1) if first else "")
    fields.pop("faq_q", None)
    fields.pop("faq_a", None)
    return fields


@pytest.fixture
def editor(staff_app):
    client = StaffClient(staff_app.test_client())
    assert client.login(*EDITOR).status_code == 302
    return client


@pytest.fixture
def admin(staff_app):
    client = StaffClient(staff_app.test_client())
    assert client.login(*ADMIN).status_code == 302
    return client


@pytest.fixture
def anonymous(staff_app):
    return StaffClient(staff_app.test_client())


def article_text(title: str, body: str, status: str = "published", category: str = "التواصل مع العملاء",
                 **fields) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    return f"---\ntitle: \"{title}\"\ncategory: \"{category}\"\nlang: ar\nstatus: {status}\n{extra}---\n\n{body}\n"


def time_budget(seconds: float) -> float:
    """`seconds` on an idle machine, stretched by the CPU load (other test runs share this box)."""
    import os

    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
