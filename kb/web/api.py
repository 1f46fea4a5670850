"""Blueprint "api" (/api/v1): JSON for agents and integrations."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/health")
def health():
    return jsonify(current_app.extensions["kb"].health())
