"""What the database keeps: connections (db, with its drivers sqlite and postgres and their
errors in db_errors), migrations (migrate), staff accounts (users), API keys,
analytics, the audit log and staff sessions.

The floor under content and search's callers: nothing here imports kb.content, kb.search,
kb.knowledge or kb.web."""
