"""What the contact tests share: a real SMTP server (aiosmtpd) and a webhook receiver, each on
a local port and started by the test, and a wait for the background delivery."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes
from email import policy
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Iterator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, parsed message)."""

    def __init__(self):
        self.received: list = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(username: str | None = None, password: str | None = None) -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a free port (plain SMTP; AUTH LOGIN/PLAIN when a user is given)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        login = (auth_data.login.decode(), auth_data.password.decode())
        mailbox.logins.append(login)
        return AuthResult(success=login == (username, password))

    options = {}
    if username:
        options = {"auth_required": True, "auth_require_tls": False, "authenticator": authenticate}
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


class Receiver:
    """Requests the webhook receiver got; ``fail_next`` answers that many with 503 first."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        self.answers: list[int] = []  # status codes to answer first, before fail_next
        self.lock = threading.Lock()


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Receiver]]:
    """An HTTP server on a free port that records POSTed JSON (as a helpdesk API would)."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                failing = receiver.fail_next > 0
                receiver.fail_next -= 1 if failing else 0
                status = receiver.answers.pop(0) if receiver.answers else 503 if failing else 201
                receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body, "json": json.loads(body), "answered": status})
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/contact", receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_for(condition, timeout: float = 15.0, what: str = "the condition"):
    """Poll until ``condition()`` is truthy (background delivery runs in the courier's thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
