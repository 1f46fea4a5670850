"""Contact-form deflection: the questions customers type on /contact, the articles shown to
them, and the messages they still send (storage; delivery is :mod:`kb.contact_delivery`).

The flow, and why it is stored this way:

- While the customer types, the page shows the articles that answer the question.  The
  first time it does, an *ask* is started: a row keyed by a random token that only the
  visitor's page holds (its hash is stored, as API keys are), so the articles shown and
  opened for this visit add up on one row and nobody else can write to it.
- Opening a shown article is recorded on the ask.  An ask with an opened article and no
  message is a question *answered by an article*; one with a message is *sent*.
- A message is written (durably) before anything tries to deliver it, with the articles
  that were shown, so an SMTP server or webhook being down loses nothing: the message waits
  as ``pending`` with its error, is retried on a schedule, ends ``failed`` after the last
  attempt, and staff can re-send it from the staff page.

No Flask here: the web layer (``kb.web.contact``) and the staff pages call these methods.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from kb.store.apikeys import hash_key
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import Row
from kb.store.db import durable
from kb.store.db import utc_timestamp
from kb.store.db import window_start
from kb.errors import KbError
from kb.translation import N_
from kb.urls import is_http_url

MAX_QUESTION_CHARS = 2000
MAX_MESSAGE_CHARS = 5000
MAX_NAME_CHARS = 120
MAX_EMAIL_CHARS = 254
MAX_SHOWN = 20  # articles kept per ask (the page shows 5 at a time; a visitor may rephrase)
SOURCES = ("site", "widget")
MODES = ("off", "email", "webhook")
SMTP_SECURITY = ("starttls", "ssl", "none")
# Seconds to wait before the 2nd, 3rd, ... attempt; after the last one a message is "failed".
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
LEASE_SECONDS = 120  # a claimed message whose worker died is tried again after this
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SETTINGS_KEY = "destination"


@dataclass(frozen=True)
class ContactSettings:
    """Where sent messages go (set by an admin on /staff/contact).  ``mode`` "off" still
    stores every message: staff read them on the staff page."""

    mode: str = "off"
    email_to: str = ""
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""  # signs the body: X-KB-Signature: sha256=<HMAC-SHA256 hex>
    webhook_authorization: str = ""  # sent as the Authorization header (a helpdesk API's token)

    @property
    def destination(self) -> str:
        """What a message sent now is addressed to (shown to staff, stored per message)."""
        if self.mode == "email":
            return f"email:{self.email_to}"
        if self.mode == "webhook":
            return f"webhook:{self.webhook_url}"
        return ""


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_CHARS and _EMAIL.fullmatch(value) is not None


def validate_settings(values: dict[str, Any]) -> tuple[ContactSettings, dict[str, str]]:
    """Settings from form values, and every problem by field (English ids marked with N_)."""
    problems: dict[str, str] = {}
    text = {name: _CONTROL.sub("", str(values.get(name, "") or "")).strip() for name in (
        "mode", "email_to", "email_from", "smtp_host", "smtp_security", "smtp_username", "smtp_password",
        "webhook_url", "webhook_secret", "webhook_authorization")}
    mode = text["mode"] or "off"
    if mode not in MODES:
        problems["mode"] = N_("Choose where messages go.")
        mode = "off"
    security = text["smtp_security"] or "starttls"
    if security not in SMTP_SECURITY:
        problems["smtp_security"] = N_("Choose STARTTLS, SSL/TLS or none.")
    try:
        port = int(values.get("smtp_port") or (465 if security == "ssl" else 587))
        if not 0 < port < 65536:
            raise ValueError
    except (TypeError, ValueError):
        problems["smtp_port"] = N_("The port is a number from 1 to 65535.")
        port = 587
    if mode == "email":
        for name in ("email_to", "email_from"):
            if not is_email(text[name]):
                problems[name] = N_("Write an e-mail address like support@example.com.")
        if not text["smtp_host"] or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", text["smtp_host"]):
            problems["smtp_host"] = N_("Write the SMTP server's host name, like smtp.example.com.")
    if mode == "webhook" and not is_http_url(text["webhook_url"]):
        problems["webhook_url"] = N_("Write an http:// or https:// URL.")
    settings = ContactSettings(mode, text["email_to"], text["email_from"], text["smtp_host"], port, security,
                               text["smtp_username"], text["smtp_password"], text["webhook_url"],
                               text["webhook_secret"], text["webhook_authorization"])
    return settings, problems


@dataclass(frozen=True)
class Message:
    """One message a customer sent, as stored (``shown``: ``{slug, title, url}`` dicts)."""

    id: int
    created_at: str
    name: str
    email: str
    message: str
    lang: str
    source: str
    shown: tuple[dict, ...]
    opened: tuple[str, ...]
    status: str
    destination: str
    attempts: int
    next_attempt_at: float
    last_error: str
    sent_at: str | None

    @classmethod
    def from_row(cls, row: Row) -> Message:
        values = {field.name: row[field.name] for field in dataclasses.fields(cls)}
        values["shown"] = tuple(json.loads(row["shown"]))
        values["opened"] = tuple(json.loads(row["opened"]))
        return cls(**values)


@dataclass(frozen=True)
class Deflection:
    """What the contact form did in a period: questions asked, answered by an article (the
    visitor opened one and did not send), and sent; plus the articles that answered most."""

    asked: int
    answered: int
    sent: int
    pending: int
    failed: int
    top_articles: tuple[tuple[str, int], ...]

    @property
    def deflection_rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def _clean(value: str, limit: int) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n")).strip()[:limit]


class ContactStore:
    """Asks, messages and the destination setting in the app's database; thread-safe (one
    connection per thread, as :class:`kb.store.db.Database` gives)."""

    def __init__(self, db: Database, clock=time.time):
        self.db = db
        self.clock = clock

    @property
    def _conn(self) -> Connection:
        return self.db.connection()

    # -- destination ---------------------------------------------------------------------------

    def load_settings(self) -> ContactSettings:
        row = self._conn.execute("SELECT value FROM contact_settings WHERE key = ?", (_SETTINGS_KEY,)).fetchone()
        if row is None:
            return ContactSettings()
        known = {field.name for field in dataclasses.fields(ContactSettings)}
        return ContactSettings(**{k: v for k, v in json.loads(row["value"]).items() if k in known})

    def save_settings(self, settings: ContactSettings) -> None:
        with durable(self._conn) as conn:
            conn.execute("INSERT INTO contact_settings (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (_SETTINGS_KEY, json.dumps(dataclasses.asdict(settings), ensure_ascii=False)))

    # -- asks ------------------------------------------------------------------------------------

    def start_ask(self, question: str, lang: str, source: str, slugs: list[str]) -> str:
        """Record a question the form found articles for; returns the token the page keeps."""
        token = secrets.token_urlsafe(24)
        self._conn.execute(
            "INSERT INTO contact_asks (token_hash, question, lang, source, shown) VALUES (?, ?, ?, ?, ?)",
            (hash_key(token), _clean(question, MAX_QUESTION_CHARS), lang, source if source in SOURCES else "site",
             json.dumps(slugs[:MAX_SHOWN])),
        )
        return token

    def _ask(self, token: str | None) -> Row | None:
        if not token:
            return None
        return self._conn.execute("SELECT * FROM contact_asks WHERE token_hash = ?", (hash_key(token),)).fetchone()

    def update_ask(self, token: str, question: str, slugs: list[str]) -> bool:
        """The visitor rephrased: keep the latest question, add the newly shown articles."""
        ask = self._ask(token)
        if ask is None or ask["sent_at"]:
            return False
        shown = json.loads(ask["shown"])
        shown += [slug for slug in slugs if slug not in shown]
        self._conn.execute("UPDATE contact_asks SET question = ?, shown = ? WHERE id = ?",
                           (_clean(question, MAX_QUESTION_CHARS), json.dumps(shown[:MAX_SHOWN]), ask["id"]))
        return True

    def record_open(self, token: str | None, slug: str) -> bool:
        """The visitor opened one of the articles shown for their question."""
        ask = self._ask(token)
        if ask is None or slug not in json.loads(ask["shown"]):
            return False
        opened = json.loads(ask["opened"])
        if slug not in opened:
            opened.append(slug)
            self._conn.execute("UPDATE contact_asks SET opened = ? WHERE id = ?", (json.dumps(opened), ask["id"]))
        return True

    def shown_slugs(self, token: str | None) -> list[str]:
        ask = self._ask(token)
        return json.loads(ask["shown"]) if ask else []

    # -- messages --------------------------------------------------------------------------------

    def submit(self, token: str | None, name: str, email: str, message: str, lang: str, source: str,
               shown: list[dict]) -> int:
        """Store a message (on disk when this returns) with the articles that were shown; the
        ask is marked sent.  Delivery happens afterwards (:mod:`kb.contact_delivery`)."""
        email = _clean(email, MAX_EMAIL_CHARS)
        text = _clean(message, MAX_MESSAGE_CHARS)
        if not is_email(email):
            raise KbError("bad_email", N_("Write your e-mail address, like name@example.com."), field="email")
        if not text:
            raise KbError("empty_message", N_("Write your question."), field="message")
        source = source if source in SOURCES else "site"
        ask = self._ask(token)
        if ask is not None and ask["sent_at"]:
            ask = None  # a second message from the same page is a new question
        destination = self.load_settings().destination
        with durable(self._conn) as conn, conn.transaction():
            if ask is None:
                ask_id = conn.execute(
                    "INSERT INTO contact_asks (token_hash, question, lang, source, shown) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id",
                    (hash_key(secrets.token_urlsafe(24)), text[:MAX_QUESTION_CHARS], lang, source,
                     json.dumps([item["slug"] for item in shown]))).fetchone()[0]
                opened = "[]"
            else:
                ask_id, opened = ask["id"], ask["opened"]
            conn.execute("UPDATE contact_asks SET sent_at = ? WHERE id = ?", (utc_timestamp(), ask_id))
            message_id = conn.execute(
                """INSERT INTO contact_messages (ask_id, name, email, message, lang, source, shown, opened,
                   destination, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (ask_id, _clean(name, MAX_NAME_CHARS).replace("\n", " "), email, text, lang, source,
                 json.dumps(shown, ensure_ascii=False), opened, destination, self.clock())).fetchone()[0]
        return int(message_id)

    def message(self, message_id: int) -> Message | None:
        row = self._conn.execute("SELECT * FROM contact_messages WHERE id = ?", (int(message_id),)).fetchone()
        return Message.from_row(row) if row else None

    def messages(self, limit: int = 100, status: str | None = None) -> list[Message]:
        condition, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._conn.execute(f"SELECT * FROM contact_messages {condition} ORDER BY id DESC LIMIT ?",
                                  (*params, int(limit))).fetchall()
        return [Message.from_row(row) for row in rows]

    def status_counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, COUNT(*) AS n FROM contact_messages GROUP BY status").fetchall()
        return {row["status"]: row["n"] for row in rows}

    def claim_due(self, limit: int = 10) -> list[Message]:
        """Messages due for an attempt, each claimed for LEASE_SECONDS so that two workers (two
        server processes) never send the same one at once."""
        now = self.clock()
        rows = self._conn.execute(
            """SELECT id FROM contact_messages WHERE (status = 'pending' AND next_attempt_at <= ?)
               OR (status = 'sending' AND lease_until <= ?) ORDER BY id LIMIT ?""", (now, now, int(limit))).fetchall()
        claimed = []
        for row in rows:
            cursor = self._conn.execute(
                """UPDATE contact_messages SET status = 'sending', lease_until = ? WHERE id = ?
                   AND ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?))""",
                (now + LEASE_SECONDS, row["id"], now, now))
            if cursor.rowcount == 1:
                claimed.append(self.message(row["id"]))
        return [message for message in claimed if message is not None]

    def mark_sent(self, message_id: int, destination: str) -> None:
        with durable(self._conn) as conn:
            conn.execute("""UPDATE contact_messages SET status = 'sent', attempts = attempts + 1, destination = ?,
                            last_error = '', sent_at = ? WHERE id = ?""",
                         (destination, utc_timestamp(), int(message_id)))

    def mark_failed_attempt(self, message_id: int, destination: str, error: str) -> str:
        """Note a failed attempt: the next one is scheduled, or the message is "failed" after
        the last.  Returns the new status."""
        row = self._conn.execute("SELECT attempts FROM contact_messages WHERE id = ?", (int(message_id),)).fetchone()
        attempts = (row["attempts"] if row else 0) + 1
        status = "pending" if attempts <= len(RETRY_DELAYS) else "failed"
        delay = RETRY_DELAYS[attempts - 1] if status == "pending" else 0
        self._conn.execute(
            """UPDATE contact_messages SET status = ?, attempts = ?, destination = ?, last_error = ?,
               next_attempt_at = ?, lease_until = 0 WHERE id = ?""",
            (status, attempts, destination, error[:500], self.clock() + delay, int(message_id)))
        return status

    def resend(self, message_id: int) -> bool:
        """Staff asked to send a message again (a failed one, or a sent one that went astray):
        it is due now, with a fresh set of attempts."""
        cursor = self._conn.execute(
            """UPDATE contact_messages SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0
               WHERE id = ? AND status != 'sending'""", (self.clock(), int(message_id)))
        return cursor.rowcount == 1

    def next_due(self) -> float | None:
        """Unix time of the next scheduled attempt (None: nothing waits)."""
        row = self._conn.execute(
            """SELECT MIN(CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END) AS due
               FROM contact_messages WHERE status IN ('pending', 'sending')""").fetchone()
        return row["due"] if row and row["due"] is not None else None

    # -- report ----------------------------------------------------------------------------------

    def deflection(self, days: int | None = 30, top: int = 10) -> Deflection:
        """Questions asked on the form in the last ``days``, answered by an article, sent."""
        since = window_start(days)
        row = self._conn.execute(
            """SELECT COUNT(*) AS asked,
                      COALESCE(SUM(CASE WHEN sent_at IS NULL AND opened != '[]' THEN 1 ELSE 0 END), 0) AS answered,
                      COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent
               FROM contact_asks WHERE created_at >= ?""", (since,)).fetchone()
        # The opened lists are JSON text; they are counted here rather than with SQLite's json_each
        # or PostgreSQL's json_array_elements_text, which have no common form.
        answered_by: collections.Counter[str] = collections.Counter()
        for ask in self._conn.execute("SELECT opened FROM contact_asks WHERE created_at >= ? AND sent_at IS NULL "
                                      "AND opened != '[]'", (since,)):
            answered_by.update(json.loads(ask["opened"]))
        articles = sorted(answered_by.items(), key=lambda item: (-item[1], item[0]))[:max(int(top), 0)]
        counts = self.status_counts()
        return Deflection(int(row["asked"]), int(row["answered"]), int(row["sent"]),
                          counts.get("pending", 0) + counts.get("sending", 0), counts.get("failed", 0), tuple(articles))
