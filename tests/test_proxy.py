"""Behind a reverse proxy (kb.web.proxy): the real client, scheme and host come from X-Forwarded-*
only through the hops ``trusted_proxies`` names; ``base_url``, when set, names the site.

The HTTP tests run the app in a real server on 127.0.0.1 (werkzeug, tests/browser_support.py)
and talk to it with ``requests``: the connecting address is then always 127.0.0.1, which is
a trusted proxy or not depending on the setting.  Who the server took for the client shows in
the per-client search limit (kb.web.security.client_key) and in the sign-in throttle."""

from __future__ import annotations

import re

import pytest
import requests

from browser_support import serving
from conftest import make_settings
from kb.config import parse_trusted_proxies
from kb.errors import KbError
from kb.store import users
from kb.web.proxy import TrustedProxies

SEARCH = "/search?q=password"
LIMIT = 2  # site_rate_limit of these apps: searches per minute for one client


def proxy_app(session_kb, tmp_path, **overrides):
    from kb.web import create_app

    settings = make_settings(tmp_path, site_rate_limit=LIMIT, **overrides).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(settings, knowledge=session_kb, test_config={"TESTING": True})


def searches(base: str, count: int, **headers) -> list[int]:
    return [requests.get(base + SEARCH, headers=headers, timeout=30).status_code for _ in range(count)]


def widget_config(base: str, **headers) -> dict:
    response = requests.get(base + "/api/widget/config", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


# --- the setting ------------------------------------------------------------------------------

def test_trusted_proxies_setting_is_a_hop_count_or_networks():
    assert parse_trusted_proxies("") == 0
    assert parse_trusted_proxies(" 2 ") == 2
    networks = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8 ::1")
    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


def test_a_wrong_trusted_proxy_entry_is_a_clear_error(tmp_path):
    with pytest.raises(KbError) as caught:
        make_settings(tmp_path, trusted_proxies="10.0.0.1, nginx.internal")
    assert caught.value.field == "trusted_proxies" and "nginx.internal" in str(caught.value.message)


# --- the address list, as a pure function ---------------------------------------------------------

@pytest.mark.parametrize(("remote", "forwarded_for", "client"), [
    # The connecting address is no proxy: nothing it says is believed.
    ("198.51.100.9", "203.0.113.7", "198.51.100.9"),
    # One proxy: the address it appended.
    ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
    # The client wrote its own X-Forwarded-For first: the proxy appended the real one after it.
    ("10.0.0.5", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
    # Two proxies (CDN at 10.1.2.3, then nginx): the right-most address that is not one of them.
    ("10.0.0.5", "6.6.6.6, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
    # A forged address that looks like a proxy, left of the real client, is never reached.
    ("10.0.0.5", "10.9.9.9, 203.0.113.7", "203.0.113.7"),
    # Only proxies on the path (a health check from inside): the left-most.
    ("10.0.0.5", "10.0.0.6", "10.0.0.6"),
    # Garbage where an address should be: stop at the last believed hop.
    ("10.0.0.5", "203.0.113.7, not-an-address", "10.0.0.5"),
    # No header from a proxy: the proxy itself.
    ("10.0.0.5", "", "10.0.0.5"),
    # IPv6 client, and an address with a port.
    ("10.0.0.5", "2001:db8::7", "2001:db8::7"),
    ("10.0.0.5", "203.0.113.7:51234", "203.0.113.7"),
])
def test_client_is_the_rightmost_address_that_is_not_a_proxy(remote, forwarded_for, client):
    middleware = TrustedProxies(lambda environ, start: [], parse_trusted_proxies("10.0.0.0/8"))
    assert middleware.client_address(remote, forwarded_for) == client


# --- over HTTP ------------------------------------------------------------------------------------

@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8"], ids=["none-trusted", "other-proxies-trusted"])
def test_forged_headers_from_an_untrusted_client_change_nothing(session_kb, tmp_path, trusted):
    """GIVEN kb trusting no proxy, or only proxies at other addresses
    WHEN a client sends its own X-Forwarded-For (a new address each time), -Proto and -Host
    THEN it is still one client (its searches share one limit) at the address it connected
    from, and links name the host it really asked."""
    app = proxy_app(session_kb, tmp_path, trusted_proxies=trusted)
    with serving(app) as base:
        statuses = [requests.get(base + SEARCH, headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=30).status_code
                    for n in range(LIMIT + 1)]
        assert statuses == [200] * LIMIT + [429]
        config = widget_config(base, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert config["stylesheet"].startswith(base + "/")


def test_trusted_proxy_address_gives_each_real_client_its_own_limit(session_kb, tmp_path):
    """GIVEN kb behind a proxy at 127.0.0.1, named in trusted_proxies
    WHEN two visitors search through it (the proxy appends each one's address)
    THEN each has its own limit, and a visitor's forged address before its real one changes nothing."""
    app = proxy_app(session_kb, tmp_path, trusted_proxies="127.0.0.1, ::1")
    with serving(app) as base:
        first = searches(base, LIMIT + 1, **{"X-Forwarded-For": "203.0.113.7"})
        forged = searches(base, 1, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
        second = searches(base, LIMIT, **{"X-Forwarded-For": "203.0.113.8"})
        limited = requests.get(base + SEARCH, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
        config = widget_config(base, **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                                        "X-Forwarded-Host": "help.example.com"})
    assert first == [200] * LIMIT + [429]
    assert forged == [429] and second == [200] * LIMIT
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert config["stylesheet"].startswith("https://help.example.com/widget.css")


def test_one_trusted_hop_reads_what_the_proxy_appended(session_kb, tmp_path):
    """GIVEN trusted_proxies = 1 (one nginx in front)
    WHEN a client sends a forged X-Forwarded-For that the proxy then appends to
    THEN the right-most address (the proxy's) is the client; scheme, host and port come from the proxy."""
    app = proxy_app(session_kb, tmp_path, trusted_proxies="1")
    with serving(app) as base:
        first = searches(base, LIMIT + 1, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
        other = searches(base, 1, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.8"})
        config = widget_config(base, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "help.example.com",
                                        "X-Forwarded-Port": "8443"})
    assert first == [200] * LIMIT + [429] and other == [200]
    assert config["stylesheet"].startswith("https://help.example.com:8443/widget.css")


def test_base_url_names_the_site_whatever_the_request_says(session_kb, tmp_path):
    """GIVEN base_url = https://help.example.com and a trusted proxy that says another host and http
    WHEN pages and the widget build links, and a session cookie is set
    THEN links use base_url and the cookie is Secure."""
    app = proxy_app(session_kb, tmp_path, trusted_proxies="127.0.0.1", base_url="https://help.example.com")
    headers = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "internal-node-3:5000"}
    with serving(app) as base:
        config = widget_config(base, **headers)
        home = requests.get(base + "/", headers=headers, timeout=30).text
        login = requests.get(base + "/staff/login", headers=headers, timeout=30)
        article_path = re.search(r'href="(/articles/[^"#?]+)"', home)
        assert article_path, "the home page links no article"
        article = requests.get(base + article_path.group(1), headers=headers, timeout=30).text
    assert config["stylesheet"].startswith("https://help.example.com/widget.css")
    assert config["contact_url"].startswith(("https://help.example.com/", "mailto:"))
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', article)
    assert canonical and canonical.group(1).startswith("https://help.example.com/articles/")
    assert "internal-node-3" not in article and "internal-node-3" not in home
    assert "Secure" in login.headers.get("Set-Cookie", "")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the sign-in page"
    return match.group(1)


def sign_in(base: str, email: str, password: str, client: str) -> requests.Response:
    """A sign-in from ``client`` through the proxy (a fresh browser: its own session and token)."""
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = client
    token = _csrf(browser.get(base + "/staff/login", timeout=30).text)
    return browser.post(base + "/staff/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=30)


def test_sign_in_throttle_keys_on_the_real_client(session_kb, tmp_path, monkeypatch):
    """GIVEN kb behind a trusted proxy, and one address that fails to sign in 20 times (many e-mails)
    WHEN that address tries again, and a staff member signs in from another address
    THEN the first is paused (429), the staff member is in: the proxy's address locks nobody out."""
    monkeypatch.setattr(users, "PASSWORD_METHOD", "scrypt:1024:8:1")
    app = proxy_app(session_kb, tmp_path, trusted_proxies="127.0.0.1")
    users.create_user(app.extensions["kb_db"].connection(), "editor@example.com", "editor-password-1", role="editor")
    with serving(app) as base:
        failures = [sign_in(base, f"guess{n}@example.com", "wrong password", "203.0.113.66").status_code
                    for n in range(users.MAX_FAILURES_PER_CLIENT)]
        paused = sign_in(base, "editor@example.com", "editor-password-1", "203.0.113.66")
        staff = sign_in(base, "editor@example.com", "editor-password-1", "198.51.100.20")
    assert failures == [401] * users.MAX_FAILURES_PER_CLIENT
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0
    assert staff.status_code in (302, 303), staff.text[:300]


def test_staff_widget_snippet_names_base_url(session_kb, tmp_path, monkeypatch):
    """GIVEN base_url = https://help.example.com WHEN an admin opens the widget page through an
    internal host name THEN the install snippet and the CSP note name base_url, not that host."""
    from staff_fixtures import StaffClient

    monkeypatch.setattr(users, "PASSWORD_METHOD", "scrypt:1024:8:1")
    app = proxy_app(session_kb, tmp_path, base_url="https://help.example.com")
    users.create_user(app.extensions["kb_db"].connection(), "admin@example.com", "admin-password-1", role="admin")
    admin = StaffClient(app.test_client())
    admin.client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_HOST": "internal-node-3:5000"})
    assert admin.login("admin@example.com", "admin-password-1").status_code == 302
    page = admin.get("/staff/widget").get_data(as_text=True)
    assert 'src="https://help.example.com/widget.js"' in page.replace("&#34;", '"').replace("&quot;", '"')
    assert "internal-node-3" not in page


def test_a_hop_count_on_a_public_address_is_warned_about(session_kb, tmp_path, caplog):
    """A hop count believes whoever connects: listening beyond loopback, kb says so at start."""
    with caplog.at_level("WARNING", logger="kb.web.proxy"):
        proxy_app(session_kb, tmp_path / "public", trusted_proxies="1", host="0.0.0.0", base_url="http://127.0.0.1:5000")
        proxy_app(session_kb, tmp_path / "local", trusted_proxies="1")
    warnings = [record.getMessage() for record in caplog.records if record.name == "kb.web.proxy"]
    assert len(warnings) == 1 and "0.0.0.0:5000" in warnings[0]
