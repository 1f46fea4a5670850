"""Blueprint "site": the customer-facing help center pages (placeholder, being built)."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    knowledge = current_app.extensions["kb"]
    items = "".join(f'<li><a href="{a.url}">{a.title}</a></li>' for a in knowledge.catalog.articles.values() if a.is_public)
    return f'<!doctype html><html lang="ar" dir="rtl"><meta charset="utf-8"><ul>{items}</ul></html>'
