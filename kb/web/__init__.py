"""The web application: ``create_app`` builds it (flaskr-style factory, blueprints)."""

from __future__ import annotations

from kb.web.app import create_app

__all__ = ["create_app"]
