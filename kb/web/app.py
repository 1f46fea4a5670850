"""Application factory: settings -> KnowledgeBase + Database -> Flask app with blueprints."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from kb.config import Settings
from kb.config import ensure_secret_key
from kb.config import load_settings
from kb.db import Database
from kb.knowledge import KnowledgeBase

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, knowledge: KnowledgeBase | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.  Everything it uses hangs off ``app.extensions`` (no module globals):
    ``app.extensions["kb"]`` the KnowledgeBase, ``["kb_settings"]`` the Settings,
    ``["kb_db"]`` the Database."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=ensure_secret_key(settings), JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["kb_settings"] = settings
    app.extensions["kb"] = knowledge or KnowledgeBase.from_settings(settings)
    app.extensions["kb_db"] = Database(settings.database_path)

    from kb.web import api
    from kb.web import site
    from kb.web import staff

    app.register_blueprint(site.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff.bp)
    return app
