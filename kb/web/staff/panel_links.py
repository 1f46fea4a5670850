"""Admin page for agent panel links (views of the staff blueprint, routed in ``kb.web.staff``).

A link is what an admin pastes into a helpdesk (a Chatwoot dashboard app, a Zammad or
Freshdesk sidebar): the panel's URL with its token in the fragment.  The token is shown once,
on the page that created it (never in a cookie, a redirect or the audit log).
"""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask import render_template
from flask import redirect
from flask import request
from flask import url_for

from flask_babel import gettext as _

from kb.store import audit
from kb import panel_links
from kb.errors import KbError
from kb.urls import absolute_url
from kb.web.staff.access import admin_required
from kb.web.staff.access import current_user
from kb.web.staff.access import db


def panel_url(link: panel_links.PanelLink, token: str) -> str:
    """The URL to paste into the helpdesk: the public id picks the link, the fragment carries the token."""
    base_url = current_app.extensions["kb_settings"].base_url
    return absolute_url(base_url, f"/agent?panel={link.public_id}#token={token}")


@admin_required
def panel_links_page():
    created = None
    errors: dict[str, str] = {}
    values = {"name": "", "origins": ""}
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "origins": request.form.get("origins", "")}
        try:
            link, token = panel_links.create_link(db(), values["name"], values["origins"],
                                                  str(current_app.config["SECRET_KEY"]))
        except KbError as exc:
            errors[exc.field or "name"] = exc.message
        else:
            audit.record(db(), "panel_link_created", link.public_id, current_user(), name=link.name,
                         origins=" ".join(link.origins))
            created = (link, panel_url(link, token))
            values = {"name": "", "origins": ""}
    page = render_template("staff/panel_links.html", links=panel_links.list_links(db()), created=created,
                           errors=errors, values=values)
    return page, 400 if errors else 200


@admin_required
def revoke_panel_link(link_id: int):
    link = panel_links.revoke_link(db(), link_id)
    audit.record(db(), "panel_link_revoked", link.public_id, current_user(), name=link.name)
    flash(_("The panel link “%(name)s” was revoked.", name=link.name), "success")
    return redirect(url_for("staff.panel_links_page"))
