"""Staff sign-in, sign-out and changing one's own password (routes on the staff blueprint)."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.security import check_password_hash

from flask_babel import gettext as _

from kb.store import audit
from kb.store import staff_sessions
from kb.store import users
from kb.errors import KbError
from kb.web.security import client_key
from kb.web.security import safe_redirect_target
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.web.staff.access import sign_in
from kb.web.staff.access import sign_out


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: ``next`` if it is a path on this site, else the staff home."""
    return safe_redirect_target(target, url_for("staff.index"))


def login():
    if request.method == "GET":
        if current_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("staff/login.html", next=request.args.get("next", ""), email="")
    email = request.form.get("email", "").strip()
    try:
        user = users.authenticate(db(), email, request.form.get("password", ""), client_key())
    except KbError as exc:
        status = exc.status if exc.status in (401, 429) else 400
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else {}
        page = render_template("staff/login.html", next=request.form.get("next", ""), email=email, error=exc.message)
        return page, status, headers
    sign_in(user)
    return redirect(_safe_next(request.form.get("next")))


def logout():
    audit.record(db(), "sign_out", current_user().email, current_user())
    sign_out()
    flash(_("You signed out."), "info")
    return redirect(url_for("staff.login"))


def account():
    user = current_user()
    errors: dict[str, str] = {}
    if request.method == "POST":
        row = db().execute("SELECT password_hash FROM staff_users WHERE id = ?", (user.id,)).fetchone()
        new = request.form.get("new_password", "")
        if not check_password_hash(row["password_hash"], request.form.get("current_password", "")):
            errors["current_password"] = _("The current password is not correct.")
        elif new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = _("The two passwords do not match.")
        else:
            try:
                updated = users.set_password(db(), user.id, new, actor=user, action="password_changed")
            except KbError as exc:
                errors["new_password"] = exc.message
            else:
                sign_in(updated)  # the change ended every session, this one too: issue a new one
                flash(_("The password was changed."), "success")
                return redirect(url_for("staff.account"))
    page = render_template("staff/account.html", errors=errors, min_password_chars=users.MIN_PASSWORD_CHARS,
                           other_sessions=max(0, staff_sessions.count(db(), user.id) - 1))
    return page, 400 if errors else 200


def end_other_sessions():
    """Sign out everywhere else (a lost phone, a shared computer): every session but this one ends."""
    user = current_user()
    ended = max(0, staff_sessions.end_all(db(), user.id) - 1)
    sign_in(user)
    audit.record(db(), "sign_out", user.email, user, other_sessions=ended)
    flash(_("The other sessions were ended (%(count)d).", count=ended), "success")
    return redirect(url_for("staff.account"))
