"""Staff page /staff/contact (admins): where contact-form messages go, and the messages.

The destination is an e-mail address reached through SMTP, or a webhook URL that gets a
JSON body (``kb.contact_delivery.webhook_payload``).  "Send a test" delivers a sample
message now and shows the result, so a wrong password or URL shows up before a customer
writes.  The list shows every stored message with its delivery status and last error;
a failed (or lost) one can be re-sent.  The SMTP password and the webhook secret are never
shown again: an empty field keeps the stored one.
"""

from __future__ import annotations

import dataclasses
import time

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from kb.store import audit
from kb.contact import MODES
from kb.contact import SMTP_SECURITY
from kb.contact import Message
from kb.contact import validate_settings
from kb.contact_delivery import DeliveryError
from kb.contact_delivery import deliver
from kb.web.contact import desk
from kb.web.messages import translated
from kb.web.staff.access import admin_required
from kb.web.staff.access import current_user
from kb.web.staff.access import db

SECRET_FIELDS = ("smtp_password", "webhook_secret", "webhook_authorization")
STATUS_FILTERS = ("pending", "sending", "sent", "failed")


@admin_required
def contact_page():
    store = desk().store
    current = store.load_settings()
    errors: dict[str, str] = {}
    values = dataclasses.asdict(current)
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in values}
        for name in SECRET_FIELDS:  # an empty secret field keeps the stored secret
            if not values[name] and not request.form.get(f"clear_{name}"):
                values[name] = getattr(current, name)
        settings, problems = validate_settings(values)
        errors = {name: translated(problem) for name, problem in problems.items()}
        if not errors:
            store.save_settings(settings)
            desk().courier.wake()  # messages that waited for a destination go now
            audit.record(db(), "contact_destination_saved", settings.mode, current_user(),
                         destination=settings.destination)
            flash(_("Where contact messages go is saved."), "success")
            return redirect(url_for("staff.contact_page"))
    status = request.args.get("status") if request.args.get("status") in STATUS_FILTERS else None
    page = render_template(
        "staff/contact_settings.html", values=values, errors=errors, modes=MODES, securities=SMTP_SECURITY,
        has_secret={name: bool(getattr(current, name)) for name in SECRET_FIELDS}, status=status,
        messages=store.messages(limit=200, status=status), counts=store.status_counts(), now=time.time(),
    )
    return page, 400 if errors else 200


@admin_required
def test_contact_destination():
    """Deliver a sample message to the saved destination now, and say what happened."""
    settings = desk().store.load_settings()
    sample = Message(id=0, created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), name="kb",
                     email=settings.email_from or "test@example.com",
                     message=_("This is a test message from the help center's contact page settings."),
                     lang="", source="test", shown=(), opened=(), status="pending", destination=settings.destination,
                     attempts=0, next_attempt_at=0, last_error="", sent_at=None)
    try:
        deliver(sample, settings, desk().site_name())
    except DeliveryError as exc:
        flash(_("The test message could not be delivered: %(error)s", error=str(exc)), "error")
    else:
        flash(_("The test message was delivered to %(destination)s.", destination=settings.destination), "success")
    return redirect(url_for("staff.contact_page"))


@admin_required
def resend_contact_message(message_id: int):
    contact = desk()
    if contact.store.resend(message_id):
        audit.record(db(), "contact_message_resent", str(message_id), current_user())
        contact.courier.wake()
        flash(_("Message #%(id)d will be sent again now.", id=message_id), "success")
    else:
        flash(_("Message #%(id)d is being sent right now, or does not exist.", id=message_id), "error")
    return redirect(url_for("staff.contact_page"))
