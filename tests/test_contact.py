"""The contact page (/contact) over HTTP: articles shown before sending, the message stored with
them, delivered by e-mail to a real SMTP server or by a JSON POST to a webhook receiver (both
started here), failures kept, retried and re-sent, and the deflection numbers in the reports."""

from __future__ import annotations

import hashlib
import hmac
import re
from html import unescape

import pytest
from contact_support import smtp_server
from contact_support import wait_for
from contact_support import webhook_receiver
from staff_fixtures import ADMIN  # noqa: F401 - fixtures below
from staff_fixtures import StaffClient
from staff_fixtures import admin  # noqa: F401 - fixture
from staff_fixtures import cheap_hashing  # noqa: F401 - fixture
from staff_fixtures import editor  # noqa: F401 - fixture
from staff_fixtures import staff_app  # noqa: F401 - fixture

from kb.contact import RETRY_DELAYS
from kb.contact import ContactStore
from kb.contact import validate_settings
from kb.contact_delivery import deliver_due

ARABIC_QUESTION = "كيف أتعامل مع عميل غاضب يصرخ في الهاتف"
ENGLISH_QUESTION = "how do I respond to a negative review"
SECRET = "hook-secret"


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


@pytest.fixture
def contact_app(staff_app):
    yield staff_app
    found = staff_app.extensions.get("kb_contact")
    if found is not None:
        found.courier.stop()


@pytest.fixture
def visitor(contact_app):
    return contact_app.test_client()


def store_of(app) -> ContactStore:
    with app.app_context():
        from kb.web.contact import desk

        return desk().store


def open_links(html: str) -> list[str]:
    return [unescape(link) for link in re.findall(r'href="((?:/[a-z]{2})?/contact/open/[^"]+)"', html)]


def configure(admin_client: StaffClient, **fields) -> None:
    response = admin_client.post("/staff/contact", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)


def ask_and_open(visitor, question: str, lang: str) -> tuple[str, list[dict]]:
    """GIVEN a visitor typing a question: the articles arrive and the first one is opened."""
    found = visitor.get("/contact/articles", query_string={"q": question, "lang": lang}).json
    assert found["ask"] and found["articles"]
    assert visitor.get(found["articles"][0]["url"]).status_code == 303
    return found["ask"], found["articles"]


# -- the page ---------------------------------------------------------------------------------


def test_arabic_page_shows_the_articles_for_the_question_in_the_url(visitor):
    response = visitor.get("/contact", query_string={"q": ARABIC_QUESTION, "lang": "ar", "source": "widget"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in html
    assert "تواصل معنا" in html
    links = open_links(html)
    assert any("/contact/open/handling-angry-customers?" in link for link in links)
    assert 'name="ask" value=""' not in html  # the visit's ask was started with the articles shown
    assert 'name="source" value="widget"' in html
    assert "noindex" in html


def test_english_page_by_lang_parameter_and_by_prefix(visitor):
    for response in (visitor.get("/contact", query_string={"q": ENGLISH_QUESTION, "lang": "en"}),
                     visitor.get("/en/contact", query_string={"q": ENGLISH_QUESTION})):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert '<html lang="en" dir="ltr">' in html
        assert "Contact us" in html and "These articles may answer your question" in html
        assert any("/contact/open/responding-to-negative-reviews-en?" in link for link in open_links(html))


def test_empty_page_has_the_form_and_no_answers(visitor):
    html = visitor.get("/contact?lang=en").get_data(as_text=True)
    assert 'name="message"' in html and 'name="email"' in html
    assert open_links(html) == []


def test_articles_json_keeps_one_ask_per_visit_and_adds_what_a_rephrase_shows(visitor, contact_app):
    first = visitor.get("/contact/articles", query_string={"q": ARABIC_QUESTION, "lang": "ar"}).json
    second = visitor.get("/contact/articles", query_string={"q": ENGLISH_QUESTION, "ask": first["ask"],
                                                             "lang": "en"}).json
    assert second["ask"] == first["ask"]
    shown = store_of(contact_app).shown_slugs(first["ask"])
    assert {a["slug"] for a in first["articles"]} | {a["slug"] for a in second["articles"]} == set(shown)
    assert visitor.get("/contact/articles?q=ab").json == {"ask": None, "articles": []}


@pytest.mark.parametrize("hostile", ['"', "AND", "ـــ", "<script>alert(1)</script>", "\u0000x"])
def test_hostile_questions_answer_without_error(visitor, hostile):
    assert visitor.get("/contact/articles", query_string={"q": hostile}).status_code == 200
    response = visitor.get("/contact", query_string={"q": hostile})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_open_records_only_articles_shown_to_that_ask(visitor, contact_app):
    ask, articles = ask_and_open(visitor, ENGLISH_QUESTION, "en")
    # A forged token or an article that was not shown changes nothing, and still goes to the article.
    assert visitor.get("/contact/open/handling-angry-customers?ask=forged").status_code == 303
    assert visitor.get("/contact/open/no-such-article").status_code == 404
    hostile = visitor.get("/contact/open/handling-angry-customers?section=x%0d%0aSet-Cookie:%20a=b")
    assert hostile.status_code == 303 and "\n" not in hostile.headers["Location"] and "Set-Cookie" not in hostile.headers
    assert store_of(contact_app).record_open(ask, "not-shown") is False
    deflection = store_of(contact_app).deflection(30)
    assert (deflection.asked, deflection.answered, deflection.sent) == (1, 1, 0)
    assert deflection.top_articles == ((articles[0]["slug"], 1),)


# -- sending ----------------------------------------------------------------------------------


def test_message_is_delivered_by_email_through_a_real_smtp_server(visitor, admin, contact_app):
    with smtp_server("kb-mailer", "mail-password") as (port, mailbox):
        configure(admin, mode="email", email_to="support@example.com", email_from="help@example.com",
                  smtp_host="127.0.0.1", smtp_port=str(port), smtp_security="none", smtp_username="kb-mailer",
                  smtp_password="mail-password")
        ask, articles = ask_and_open(visitor, ARABIC_QUESTION, "ar")
        response = visitor.post("/contact", data={
            "ask": ask, "name": "سارة", "email": "sara@example.org", "lang": "ar",
            "message": "قرأت المقال ولم أجد حلًا: العميل ما زال غاضبًا\nالطلب رقم 42"})
        assert response.status_code == 303 and response.headers["Location"].endswith("/contact/sent")
        sender, recipients, mail = wait_for(lambda: mailbox.received and mailbox.received[0], what="the e-mail")
    assert mailbox.logins == [("kb-mailer", "mail-password")]
    assert recipients == ["support@example.com"] and sender == "help@example.com"
    assert "sara@example.org" in mail["Reply-To"] and "سارة" in mail["Reply-To"]
    assert "العميل ما زال غاضبًا" in mail["Subject"]
    body = mail.get_content()
    assert "الطلب رقم 42" in body
    assert f"/articles/{articles[0]['slug']}  (opened)" in body
    message = wait_for(lambda: (m := store_of(contact_app).messages()[0]).status == "sent" and m, what="status sent")
    assert message.destination == "email:support@example.com" and message.attempts == 1
    assert [item["slug"] for item in message.shown] == [a["slug"] for a in articles]
    assert message.opened == (articles[0]["slug"],)
    assert visitor.get("/contact/sent").status_code == 200


def test_message_is_posted_as_signed_json_to_a_webhook(visitor, admin, contact_app):
    with webhook_receiver() as (url, receiver):
        configure(admin, mode="webhook", webhook_url=url, webhook_secret=SECRET, webhook_authorization="Bearer desk-token")
        ask, articles = ask_and_open(visitor, ENGLISH_QUESTION, "en")
        response = visitor.post("/contact", data={"ask": ask, "email": "sam@example.org", "message": "Still stuck",
                                                  "lang": "en", "source": "widget"},
                                headers={"Accept": "application/json"})
        assert response.status_code == 201 and response.json["status"] == "received"
        request = wait_for(lambda: receiver.requests and receiver.requests[0], what="the webhook call")
    payload = request["json"]
    assert request["path"] == "/hooks/contact"
    assert payload["event"] == "contact.message" and payload["id"] == response.json["id"]
    assert (payload["email"], payload["message"], payload["language"], payload["source"]) == (
        "sam@example.org", "Still stuck", "en", "widget")
    assert payload["articles_shown"][0]["url"].endswith(f"/articles/{articles[0]['slug']}")
    assert payload["articles_opened"] == [articles[0]["slug"]]
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-kb-signature"] == f"sha256={expected}"
    assert request["headers"]["authorization"] == "Bearer desk-token"
    assert request["headers"]["idempotency-key"] == f"kb-contact-{payload['id']}"
    deflection = store_of(contact_app).deflection(30)
    assert (deflection.asked, deflection.answered, deflection.sent) == (1, 0, 1)


def test_failed_webhook_is_kept_shown_to_staff_retried_then_delivered(visitor, admin, contact_app):
    with webhook_receiver() as (url, receiver):
        receiver.fail_next = 1
        configure(admin, mode="webhook", webhook_url=url)
        visitor.post("/contact", data={"email": "a@example.org", "message": "Where is my refund?", "confirm": "1"})
        store = store_of(contact_app)
        failed = wait_for(lambda: (m := store.messages()[0]).attempts == 1 and m, what="the first attempt")
        assert failed.status == "pending" and "HTTP 503" in failed.last_error
        page = admin.get("/staff/contact").get_data(as_text=True)
        assert "HTTP 503" in page and "Where is my refund?" in page
        # WHEN the first retry is due (a clock RETRY_DELAYS[0] ahead) THEN it is delivered.
        later = ContactStore(store.db, clock=lambda: failed.next_attempt_at + 1)
        assert deliver_due(later, "Help") == {"sent": 1, "failed": 0}
        assert [r["answered"] for r in receiver.requests] == [503, 201]
    assert store.message(failed.id).status == "sent"


def test_a_redirecting_webhook_is_an_error_not_a_delivery(visitor, admin, contact_app):
    """GIVEN a webhook URL that redirects WHEN a message is sent THEN it is not counted as delivered
    (the redirected request would have lost the body) and staff see the status code."""
    with webhook_receiver() as (url, receiver):
        receiver.answers = [302]
        configure(admin, mode="webhook", webhook_url=url, webhook_authorization="Bearer t")
        visitor.post("/contact", data={"email": "r@example.org", "message": "Redirected?", "confirm": "1"})
        store = store_of(contact_app)
        message = wait_for(lambda: (m := store.messages()[0]).attempts == 1 and m, what="the first attempt")
    assert message.status == "pending" and "HTTP 302" in message.last_error
    assert [r["path"] for r in receiver.requests] == ["/hooks/contact"]  # /elsewhere was never asked


def test_unreachable_smtp_keeps_the_message_until_attempts_run_out_then_staff_resend(visitor, admin, contact_app):
    with smtp_server() as (port, mailbox):
        pass  # the port is free again: nothing listens there
    configure(admin, mode="email", email_to="support@example.com", email_from="help@example.com",
              smtp_host="127.0.0.1", smtp_port=str(port), smtp_security="none")
    visitor.post("/contact", data={"email": "b@example.org", "message": "My order never came", "confirm": "1"})
    store = store_of(contact_app)
    first = wait_for(lambda: (m := store.messages()[0]).attempts == 1 and m, what="the first attempt")
    assert first.status == "pending" and "SMTP 127.0.0.1" in first.last_error
    clock = [first.next_attempt_at]
    later = ContactStore(store.db, clock=lambda: clock[0])
    for _delay in RETRY_DELAYS:
        assert deliver_due(later, "Help")["failed"] == 1
        clock[0] += 24 * 3600
    assert store.message(first.id).status == "failed"
    assert store.message(first.id).message == "My order never came"  # nothing lost
    reports = admin.get("/staff/reports").get_data(as_text=True)
    assert 'data-count="failed">1<' in reports
    with smtp_server() as (port, mailbox):
        configure(admin, mode="email", email_to="support@example.com", email_from="help@example.com",
                  smtp_host="127.0.0.1", smtp_port=str(port), smtp_security="none")
        response = admin.post(f"/staff/contact/messages/{first.id}/resend")
        assert response.status_code == 302
        wait_for(lambda: mailbox.received, what="the re-sent e-mail")
    assert wait_for(lambda: store.message(first.id).status == "sent", what="status sent")


def test_without_a_destination_messages_wait_and_go_once_one_is_set(visitor, admin, contact_app):
    visitor.post("/contact", data={"email": "c@example.org", "message": "Hello", "confirm": "1"})
    store = store_of(contact_app)
    message = store.messages()[0]
    assert (message.status, message.attempts) == ("pending", 0)
    assert "No destination is set" in admin.get("/en/staff/contact").get_data(as_text=True)
    with webhook_receiver() as (url, receiver):
        configure(admin, mode="webhook", webhook_url=url)
        wait_for(lambda: receiver.requests, what="the waiting message")
    assert wait_for(lambda: store.message(message.id).status == "sent", what="status sent")


def test_without_javascript_the_answers_come_first_and_send_is_one_more_click(visitor, contact_app):
    response = visitor.post("/contact", data={"email": "d@example.org", "message": ENGLISH_QUESTION, "lang": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and store_of(contact_app).messages() == []
    assert open_links(html)
    ask = re.search(r'name="ask" value="([^"]+)"', html).group(1)
    assert 'value="d@example.org"' in html  # what was typed is kept
    response = visitor.post("/contact", data={"email": "d@example.org", "message": ENGLISH_QUESTION, "ask": ask})
    assert response.status_code == 303
    message = store_of(contact_app).messages()[0]
    assert message.shown and message.shown[0]["slug"] == "responding-to-negative-reviews-en"


def test_a_script_gets_the_answers_as_json_before_its_message_is_stored(visitor, contact_app):
    response = visitor.post("/contact", data={"email": "j@example.org", "message": ENGLISH_QUESTION},
                            headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["status"] == "answers"
    assert response.json["articles"][0]["slug"] == "responding-to-negative-reviews-en"
    assert store_of(contact_app).messages() == []
    response = visitor.post("/contact", data={"email": "j@example.org", "message": ENGLISH_QUESTION,
                                              "ask": response.json["ask"]}, headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert store_of(contact_app).message(response.json["id"]).shown[0]["slug"] == "responding-to-negative-reviews-en"


def test_bad_input_gets_a_clear_error_in_the_page_language(visitor, contact_app):
    response = visitor.post("/contact", data={"email": "not-an-address", "message": "x", "confirm": "1", "lang": "ar"})
    assert response.status_code == 400
    assert "اكتب عنوان بريدك الإلكتروني" in response.get_data(as_text=True)
    response = visitor.post("/en/contact", data={"email": "e@example.org", "message": "  ", "confirm": "1"})
    assert response.status_code == 400 and "Write your question." in response.get_data(as_text=True)
    response = visitor.post("/contact", data={"email": "x", "message": "y", "confirm": "1"},
                            headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.json["error"]["field"] == "email"
    assert store_of(contact_app).messages() == []


def test_honeypot_and_cross_site_posts_store_nothing(visitor, contact_app):
    assert visitor.post("/contact", data={"email": "f@example.org", "message": "buy", "website": "http://spam",
                                          "confirm": "1"}).status_code == 303
    assert visitor.post("/contact", data={"email": "f@example.org", "message": "hi", "confirm": "1"},
                        headers={"Sec-Fetch-Site": "cross-site"}).status_code == 400
    assert store_of(contact_app).messages() == []


# -- staff ------------------------------------------------------------------------------------


def test_destination_form_validates_and_keeps_stored_secrets(admin, contact_app):
    response = admin.post("/staff/contact", data={"mode": "webhook", "webhook_url": "ftp://nope"})
    assert response.status_code == 400
    configure(admin, mode="webhook", webhook_url="https://desk.example.com/api/messages", webhook_secret="s1")
    configure(admin, mode="webhook", webhook_url="https://desk.example.com/api/messages", webhook_secret="")
    assert store_of(contact_app).load_settings().webhook_secret == "s1"
    configure(admin, mode="webhook", webhook_url="https://desk.example.com/api/messages",
              webhook_authorization="Bearer very-secret-token")
    page = admin.get("/staff/contact").get_data(as_text=True)
    assert 'value="s1"' not in page and "very-secret-token" not in page  # never shown again
    assert store_of(contact_app).load_settings().webhook_authorization == "Bearer very-secret-token"
    configure(admin, mode="webhook", webhook_url="https://desk.example.com/api/messages", clear_webhook_secret="1")
    assert store_of(contact_app).load_settings().webhook_secret == ""


def test_send_a_test_message_reports_success_and_failure(admin, contact_app):
    with webhook_receiver() as (url, receiver):
        configure(admin, mode="webhook", webhook_url=url)
        admin.post("/en/staff/contact/test")
        assert receiver.requests[0]["json"]["source"] == "test"
        page = admin.get("/en/staff/contact").get_data(as_text=True)
    assert "The test message was delivered" in page


def test_editors_cannot_see_or_change_the_destination(editor):
    assert editor.get("/staff/contact").status_code == 403


def test_reports_show_asked_answered_and_sent(visitor, admin, contact_app):
    ask_and_open(visitor, ENGLISH_QUESTION, "en")  # answered by an article
    opened, _articles = ask_and_open(visitor, ARABIC_QUESTION, "ar")  # opened one, but still sent
    visitor.post("/contact", data={"ask": opened, "email": "g@example.org", "message": "still need help"})
    visitor.get("/contact/articles", query_string={"q": "zzqx unrelated words"})  # asked, nothing answered
    html = admin.get("/staff/reports").get_data(as_text=True)
    section = html.split('data-report="contact-deflection"', 1)[1].split("</section>", 1)[0]
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)', section))
    assert counts == {"asked": "3", "answered": "1", "sent": "1", "pending": "1", "failed": "0"}


@pytest.mark.parametrize("values, field", [
    ({"mode": "email", "email_to": "x", "email_from": "a@b.co", "smtp_host": "smtp.example.com"}, "email_to"),
    ({"mode": "email", "email_to": "a@b.co", "email_from": "a@b.co", "smtp_host": "bad host"}, "smtp_host"),
    ({"mode": "email", "email_to": "a@b.co", "email_from": "a@b.co", "smtp_host": "h", "smtp_port": "70000"}, "smtp_port"),
    ({"mode": "sms"}, "mode"),
    ({"mode": "webhook", "webhook_url": "javascript:alert(1)"}, "webhook_url"),
])
def test_validate_settings_names_the_bad_field(values, field):
    _settings, problems = validate_settings(values)
    assert field in problems


def test_contact_support_links_default_to_the_form_with_the_question(session_kb, tmp_path):
    """GIVEN no support_contact setting WHEN a question has no answer, in Arabic and in English
    THEN "ask our support team" opens the contact form with the question already typed, in the
    page's language, and the header link opens the form; a set support_contact still wins."""
    from urllib.parse import quote

    from conftest import make_settings

    from kb.web import create_app

    def app_with(**overrides):
        settings = make_settings(tmp_path, **overrides).with_overrides(
            articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
        return create_app(settings, knowledge=session_kb, test_config={"TESTING": True}).test_client()

    client = app_with(support_contact="")
    question = "asdkjh qwpoe"
    html = client.get("/search", query_string={"q": question}).get_data(as_text=True)
    assert f'href="/contact?q={quote(question).replace("%20", "+")}"' in html or f'href="/contact?q={quote(question)}"' in html
    assert 'href="/contact"' in html  # the header's "contact support"
    english = client.get("/en/search", query_string={"q": question}).get_data(as_text=True)
    assert 'href="/en/contact?q=' in english
    assert client.get("/contact", query_string={"q": question}).status_code == 200
    mailto = app_with(support_contact="mailto:help@example.com").get("/search", query_string={"q": question})
    assert "mailto:help@example.com" in mailto.get_data(as_text=True)
