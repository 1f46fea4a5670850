"""kb: a self-hosted, Arabic-first knowledge base with hybrid keyword + semantic search.

Public API only; importing kb does no work (no model, no index, no files are loaded).
"""

from kb.config import Settings
from kb.config import load_settings
from kb.errors import KbError
from kb.search.hits import Hit
from kb.knowledge import KnowledgeBase

__all__ = ["Hit", "KbError", "KnowledgeBase", "Settings", "load_settings"]
