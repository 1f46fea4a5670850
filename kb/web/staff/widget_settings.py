"""Staff page /staff/widget (admins): the sites allowed to embed the help widget, and the
tag to paste into them.

The widget's API answers a browser only from these origins (kb.web.widget); adding or
removing one takes effect on the next request in every server process (the list is in the
database).  Each change goes to the audit log.
"""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from kb.store import audit
from kb.errors import KbError
from kb.web.messages import translated
from kb.web.proxy import site_origin
from kb.web.proxy import site_root
from kb.web.staff.access import admin_required
from kb.web.staff.access import current_user
from kb.web.staff.access import db
from kb.widget_origins import WidgetOrigins


@admin_required
def widget_page():
    origins = WidgetOrigins(db())
    errors: dict[str, str] = {}
    values = {"origin": "", "note": ""}
    if request.method == "POST":
        values = {name: request.form.get(name, "").strip() for name in values}
        try:
            origin, added = origins.add(values["origin"], values["note"], getattr(current_user(), "email", None))
        except KbError as exc:
            errors[exc.field or "origin"] = translated(exc.message)
        else:
            if added:
                audit.record(db(), "widget_origin_added", origin, current_user())
                flash(_("%(origin)s may now use the help widget.", origin=origin), "success")
            else:
                flash(_("%(origin)s was already allowed.", origin=origin), "info")
            return redirect(url_for("staff.widget_page"), code=303)
    # The bare root and origin whatever the page's language prefix (/en/staff/widget): the tag
    # loads /widget.js, and a CSP source with a path would allow that one path only.
    page = render_template("staff/widget.html", origins=origins.all(), errors=errors, values=values,
                           script_url=site_root() + "/widget.js", help_origin=site_origin())
    return page, 400 if errors else 200


@admin_required
def remove_widget_origin():
    origin = request.form.get("origin", "")
    if WidgetOrigins(db()).remove(origin):
        audit.record(db(), "widget_origin_removed", origin, current_user())
        flash(_("%(origin)s may no longer use the help widget.", origin=origin), "success")
    return redirect(url_for("staff.widget_page"), code=303)
