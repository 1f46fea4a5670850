"""Blueprint "staff" (/staff): sign-in, editor, publishing, reports (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
