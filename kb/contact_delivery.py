"""Delivering stored contact messages: an e-mail through SMTP, or a JSON POST to a webhook.

Messages are already on disk (:class:`kb.contact.ContactStore`) when this runs, so a failure
costs nothing but time: the attempt's error is stored, the next attempt is scheduled
(``kb.contact.RETRY_DELAYS``), and staff see it.  Delivery is *at least once*: a message is
claimed for a lease before it is sent, and a worker that dies mid-send leaves it to be sent
again, so receivers get a stable id (``Message-ID`` / the ``id`` field and the
``Idempotency-Key`` header) to drop a duplicate.

:class:`Courier` is the background worker a web process runs: woken when a message is
stored, else when the next retry is due.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr
from email.utils import make_msgid
from typing import Callable

from kb.background import BackgroundLoop
from kb.contact import ContactSettings
from kb.contact import ContactStore
from kb.contact import Message

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
USER_AGENT = "kb-help-center/1 (contact form)"
IDLE_WAKE_SECONDS = 60  # a worker looks again at least this often (another process may have stored one)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is an error staff should see, not a success: urllib would turn
    the POST into a GET without the body (and carry the Authorization header to the new host)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


_OPENER = urllib.request.build_opener(_NoRedirects)


class DeliveryError(Exception):
    """An attempt failed; the message says why, for the staff page (no secrets in it)."""


def webhook_payload(message: Message, site_name: str) -> dict:
    """The JSON body a webhook receives (documented in the README; keep it stable)."""
    return {
        "event": "contact.message",
        "id": message.id,
        "created_at": message.created_at,
        "site": site_name,
        "name": message.name,
        "email": message.email,
        "message": message.message,
        "language": message.lang,
        "source": message.source,
        "articles_shown": list(message.shown),
        "articles_opened": list(message.opened),
    }


def email_message(message: Message, settings: ContactSettings, site_name: str) -> EmailMessage:
    """The e-mail for one message: to the configured address, Reply-To the customer."""
    first_line = message.message.splitlines()[0] if message.message else ""
    mail = EmailMessage()
    mail["Subject"] = f"[{site_name}] {first_line[:80]}"
    mail["From"] = formataddr((site_name, settings.email_from))
    mail["To"] = settings.email_to
    mail["Reply-To"] = formataddr((message.name, message.email)) if message.name else message.email
    domain = settings.email_from.rsplit("@", 1)[-1]
    mail["Message-ID"] = make_msgid(idstring=f"kb-contact-{message.id}", domain=domain)
    shown = "\n".join(f"- {item.get('title', '')}: {item.get('url', '')}" + (
        "  (opened)" if item.get("slug") in message.opened else "") for item in message.shown) or "- (none)"
    mail.set_content(
        f"{message.message}\n\n"
        f"-- \nFrom: {message.name or '-'} <{message.email}>\n"
        f"Language: {message.lang}   Source: {message.source}   Sent: {message.created_at}   Message #{message.id}\n\n"
        f"Articles shown before sending:\n{shown}\n",
        charset="utf-8",
    )
    return mail


def send_email(message: Message, settings: ContactSettings, site_name: str) -> None:
    mail = email_message(message, settings, site_name)
    try:
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc


def post_webhook(message: Message, settings: ContactSettings, site_name: str) -> None:
    body = json.dumps(webhook_payload(message, site_name), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "Idempotency-Key": f"kb-contact-{message.id}"}
    if settings.webhook_secret:
        digest = hmac.new(settings.webhook_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-KB-Signature"] = f"sha256={digest}"
    if settings.webhook_authorization:
        headers["Authorization"] = settings.webhook_authorization
    request = urllib.request.Request(settings.webhook_url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:  # the admin's URL
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered HTTP {exc.code} {exc.reason}") from exc
    except (OSError, ValueError) as exc:  # URLError is an OSError
        raise DeliveryError(f"webhook: {getattr(exc, 'reason', exc)}") from exc


def deliver(message: Message, settings: ContactSettings, site_name: str) -> None:
    """Send one message where the settings say; raises :class:`DeliveryError`."""
    if settings.mode == "email":
        send_email(message, settings, site_name)
    elif settings.mode == "webhook":
        post_webhook(message, settings, site_name)
    else:
        raise DeliveryError("no destination is set: choose e-mail or webhook on the staff contact page")


def deliver_due(store: ContactStore, site_name: str) -> dict[str, int]:
    """Attempt every message that is due now; returns how many were sent and failed."""
    counts = {"sent": 0, "failed": 0}
    while True:
        settings = store.load_settings()  # read per batch: an admin's change applies to the next attempt
        if settings.mode == "off":
            return counts  # no destination yet: messages wait, stored, until an admin sets one
        batch = store.claim_due()
        if not batch:
            return counts
        for message in batch:
            try:
                deliver(message, settings, site_name)
            except DeliveryError as exc:
                status = store.mark_failed_attempt(message.id, settings.destination, str(exc))
                logger.warning("contact message %d not delivered (%s): %s", message.id, status, exc)
                counts["failed"] += 1
            else:
                store.mark_sent(message.id, settings.destination)
                counts["sent"] += 1


class Courier:
    """A daemon thread that delivers due messages: now when :meth:`wake` is called (a message
    was stored or re-sent), else when the next retry is due.  One per app; started on the
    first wake, so creating an app starts no thread."""

    def __init__(self, store: ContactStore, site_name: Callable[[], str]):
        self.store = store
        self.site_name = site_name  # asked at each round: a renamed brand shows in the next message
        # A failed round (a database hiccup) waits the idle interval; the messages stay stored.
        self._loop = BackgroundLoop("kb-contact-courier", self._deliver_round, IDLE_WAKE_SECONDS,
                                    failure="contact delivery round failed", log=logger,
                                    next_wait=self._seconds_until_due)

    def wake(self) -> None:
        self._loop.start()
        self._loop.wake()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)

    def _deliver_round(self) -> None:
        deliver_due(self.store, self.site_name())

    def _seconds_until_due(self) -> float:
        """Until the next retry is due, at most the idle interval (another process may store one)."""
        due = self.store.next_due() if self.store.load_settings().mode != "off" else None
        return IDLE_WAKE_SECONDS if due is None else max(0.5, min(IDLE_WAKE_SECONDS, due - self.store.clock()))
