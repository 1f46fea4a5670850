"""Agent assist: suggest articles for a customer's message, and learn which ones helped.

The API view parses the request and calls :func:`suggest`; this module focuses the message
(:mod:`kb.search.focus`), runs one search, and keeps a record of the query so that agents'
feedback can refer to it (tables in ``kb/store/migrations/0002_api.sql``).  The raw message is
never stored: only its length and the focused text that was searched for.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Sequence

from kb.errors import KbError
from kb.search.focus import FocusedQuery
from kb.search.focus import focus_message
from kb.store.db import Connection
from kb.store.db import utc_timestamp

if TYPE_CHECKING:
    from kb.search.hits import Hit
    from kb.knowledge import KnowledgeBase

# Messages by these roles are the helpdesk talking, not the customer: not used as context.
NOT_CUSTOMER_ROLES = frozenset({"agent", "bot", "system", "assistant"})


@dataclass(frozen=True)
class Suggestions:
    query_id: str
    focused: FocusedQuery
    hits: list[Hit]
    reason: str | None = None  # "no_answer": nothing published answers the message
    read_as: str | None = None  # an Arabizi message as searched, in Arabic letters (kb.search.arabizi)
    corrected: str | None = None  # the focused message as searched, its typos corrected (SearchPage.corrected)


def customer_texts(conversation: Sequence[str | dict]) -> list[str]:
    """The customer's earlier messages, oldest first: plain strings, or {role, text} objects."""
    texts = []
    for item in conversation:
        if isinstance(item, str):
            texts.append(item)
        elif str(item.get("role") or "customer").lower() not in NOT_CUSTOMER_ROLES:
            texts.append(item.get("text") or "")
    return texts


def new_query_id() -> str:
    return uuid.uuid4().hex


def suggest(knowledge: KnowledgeBase, message: str, conversation: Sequence[str | dict] = (), limit: int = 5,
            lang: str | None = None, category: str | None = None, include_internal: bool = False,
            query_id: str | None = None) -> Suggestions:
    """The best published articles for the latest message, the earlier ones adding context."""
    focused = focus_message(message, customer_texts(conversation), knowledge.settings.max_query_chars)
    if not focused.text:
        return Suggestions(query_id or new_query_id(), focused, [], "no_answer")
    page = knowledge.search_page(focused.text, limit=limit, lang=lang, category=category,
                                 include_internal=include_internal)
    return Suggestions(query_id or new_query_id(), focused, page.hits, page.reason, page.read_as, page.corrected)


def record_query(db: Connection, suggestions: Suggestions, api_key_id: int | None, message_chars: int,
                 took_ms: float) -> None:
    """Keep what was searched and suggested, so feedback can refer to ``query_id``."""
    db.execute(
        "INSERT INTO suggest_queries (id, api_key_id, message_chars, focused, slugs, took_ms) VALUES (?, ?, ?, ?, ?, ?)",
        (suggestions.query_id, api_key_id, message_chars, suggestions.focused.text,
         json.dumps([hit.slug for hit in suggestions.hits], ensure_ascii=False), round(took_ms, 3)),
    )


def record_feedback(db: Connection, query_id: str, slug: str, useful: bool, api_key_id: int | None) -> None:
    """Store whether one suggestion helped; a later verdict on the same one replaces it.

    :raise KbError 404: the query is unknown (or another key's), or did not suggest ``slug``.
    """
    row = None if "\x00" in query_id else db.execute(  # no id holds a NUL; PostgreSQL refuses to compare one
        "SELECT slugs, api_key_id FROM suggest_queries WHERE id = ?", (query_id,)).fetchone()
    if row is None or row["api_key_id"] != api_key_id:
        raise KbError("unknown_query", "No suggest query with this query_id.", status=404, field="query_id")
    if slug not in json.loads(row["slugs"]):
        raise KbError("unknown_suggestion", "This query did not suggest that article.", status=404, field="slug")
    db.execute(
        "INSERT INTO suggest_feedback (query_id, slug, useful, api_key_id, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (query_id, slug) DO UPDATE SET useful = excluded.useful, created_at = excluded.created_at",
        (query_id, slug, int(bool(useful)), api_key_id, utc_timestamp()),
    )
