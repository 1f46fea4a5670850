"""Admin pages: users, API keys, the audit log and the reports dashboard (views of the staff blueprint, routed in ``kb.web.staff``)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flask_babel import gettext as _

from kb.store import apikeys
from kb import panel_links
from kb.store import audit
from kb.store import users
from kb.store.db import Connection
from kb.store.db import window_start
from kb.errors import KbError
from kb.web.labels import audit_filter_labels
from kb.web.messages import translated
from kb.web.staff.access import admin_required
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.web.staff.access import sign_in

REPORT_DAYS = (7, 30, 90, 365)
STALE_DAYS = 180


# -- users ---------------------------------------------------------------------------------------


@admin_required
def users_page():
    errors: dict[str, str] = {}
    values = {"email": "", "role": "editor"}
    if request.method == "POST":
        values = {"email": request.form.get("email", "").strip(), "role": request.form.get("role", "editor")}
        try:
            user = users.create_user(db(), values["email"], request.form.get("password", ""), values["role"], current_user())
        except KbError as exc:
            errors[exc.field or "email"] = exc.message
        else:
            flash(_("%(email)s was added.", email=user.email), "success")
            return redirect(url_for("staff.users_page"))
    page = render_template("staff/users.html", users=users.list_users(db()), errors=errors, values=values, roles=users.ROLES,
                           min_password_chars=users.MIN_PASSWORD_CHARS)
    return page, 400 if errors else 200


def _user_action(user_id: int, action, keep_own_session: bool = False):
    """Run an account change and report it.  The change may end the account's sessions;
    with ``keep_own_session`` an admin who changed their own account gets a new one."""
    signed_in = current_user()
    try:
        user = action()
    except KbError as exc:
        flash(translated(exc.message), "error")  # translated now: a flash is kept in the session as text
    else:
        if keep_own_session and signed_in is not None and signed_in.id == user.id:
            sign_in(user)
        flash(_("The account of %(email)s was updated.", email=user.email), "success")
    return redirect(url_for("staff.users_page"))


@admin_required
def disable_user(user_id: int):
    return _user_action(user_id, lambda: users.set_active(db(), user_id, False, current_user()))


@admin_required
def enable_user(user_id: int):
    return _user_action(user_id, lambda: users.set_active(db(), user_id, True, current_user()))


@admin_required
def set_user_role(user_id: int):
    return _user_action(user_id, lambda: users.set_role(db(), user_id, request.form.get("role", ""), current_user()))


@admin_required
def reset_user_password(user_id: int):
    return _user_action(user_id, lambda: users.set_password(db(), user_id, request.form.get("password", ""), current_user()),
                        keep_own_session=True)


# -- API keys ------------------------------------------------------------------------------------


@admin_required
def api_keys():
    created = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        rate = request.form.get("rate_limit", "").strip()
        try:
            key, secret = apikeys.create_key(db(), request.form.get("name", ""), int(rate) if rate.isdigit() else None)
        except KbError as exc:
            errors[exc.field or "name"] = exc.message
        else:
            audit.record(db(), "api_key_created", key.prefix, current_user(), name=key.name)
            created = (key, secret)  # shown once, on this page only (never in a cookie or a redirect)
    page = render_template("staff/api_keys.html", keys=apikeys.list_keys(db()), created=created, errors=errors,
                           panel_links=panel_links.list_links(db()))
    return page, 400 if errors else 200


@admin_required
def revoke_api_key(key_id: int):
    key = apikeys.revoke_key(db(), str(key_id))
    audit.record(db(), "api_key_revoked", key.prefix, current_user(), name=key.name)
    flash(_("The key “%(name)s” was revoked.", name=key.name), "success")
    return redirect(url_for("staff.api_keys"))


# -- audit log and reports -----------------------------------------------------------------------


@admin_required
def audit_page():
    action = request.args.get("action") or None
    user_email = request.args.get("user") or None
    entries = audit.entries(db(), limit=500, action=action, user_email=user_email)
    return render_template("staff/audit.html", entries=entries, action=action or "", user_email=user_email or "",
                           labels=audit_filter_labels())


def _report_days() -> int:
    """The report period asked for (``?days=``), one of REPORT_DAYS, else 30."""
    days = request.args.get("days", 30, type=int)
    return days if days in REPORT_DAYS else 30


@admin_required
def reports():
    days = _report_days()
    analytics = current_app.extensions["kb_analytics"]
    catalog = current_app.extensions["kb"].catalog
    cutoff = dt.date.today() - dt.timedelta(days=STALE_DAYS)
    stale = sorted((a for a in catalog.articles.values() if a.status == "published" and (a.updated is None or a.updated < cutoff)),
                   key=lambda a: a.updated or dt.date.min)
    return render_template(
        "staff/reports.html", days=days, report_days=REPORT_DAYS, stale_days=STALE_DAYS,
        top=analytics.top_queries(days=days, limit=20), zero=analytics.zero_result_queries(days=days, limit=20),
        zero_total=analytics.zero_result_query_count(days=days),
        unhelpful=analytics.least_helpful_articles(days=days, limit=20), feedback=agent_feedback(db(), days),
        stale=stale[:50], articles=catalog.articles,
    )


# The download lists this many of the period's searches without results, most frequent first:
# every one a help center sees in a year, and a bound on one response.
ZERO_RESULTS_CSV_ROWS = 10_000


@admin_required
def zero_results_csv():
    """Every search without results in the period (the page shows the 20 most frequent), as CSV
    for a spreadsheet: UTF-8 with a byte-order mark, so Excel reads Arabic right."""
    days = _report_days()
    stats = current_app.extensions["kb_analytics"].zero_result_queries(days=days, limit=ZERO_RESULTS_CSV_ROWS)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["query", "searches", "last_searched"])
    for stat in stats:
        writer.writerow([_spreadsheet_safe(stat.query), stat.searches, stat.last_searched])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=searches-without-results-{days}-days.csv"})


def _spreadsheet_safe(text: str) -> str:
    """A visitor's text that a spreadsheet would run as a formula (=, +, -, @ first) starts with
    an apostrophe instead (OWASP's advice on CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def agent_feedback(connection: Connection, days: int, limit: int = 20) -> list[dict]:
    """Per article: how often agents marked its suggestion useful / not useful (migration 0002)."""
    rows = connection.execute(
        """SELECT slug, CAST(SUM(useful) AS INTEGER) AS useful, CAST(SUM(1 - useful) AS INTEGER) AS not_useful,
                  COUNT(*) AS total
           FROM suggest_feedback WHERE created_at >= ? GROUP BY slug
           ORDER BY CAST(SUM(1 - useful) AS DOUBLE PRECISION) / COUNT(*) DESC, total DESC, slug LIMIT ?""",
        (window_start(days), int(limit)),
    ).fetchall()
    return [{"slug": row["slug"], "useful": row["useful"], "not_useful": row["not_useful"], "total": row["total"]}
            for row in rows]
