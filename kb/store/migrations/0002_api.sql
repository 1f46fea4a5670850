-- Agent-assist API: keys, the suggest queries they sent, and the agents' feedback.
-- Keys are stored as a SHA-256 hash only; "prefix" (the first characters) lets staff tell
-- keys apart in `kb apikey list`.  Times are UTC, ISO 8601 text, like the analytics tables.

CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,    -- sha256 hex of the whole key
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at TEXT,
    last_used_at TEXT,
    rate_limit INTEGER                -- requests per minute; NULL: the api_rate_limit setting
);
CREATE INDEX IF NOT EXISTS api_keys_by_prefix ON api_keys (prefix);

CREATE TABLE IF NOT EXISTS suggest_queries (
    id TEXT PRIMARY KEY,              -- the query_id returned to the client (uuid4 hex)
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    api_key_id INTEGER REFERENCES api_keys (id),
    message_chars INTEGER NOT NULL,   -- length of the raw message (the message itself is not kept)
    focused TEXT NOT NULL,            -- what was searched for, after focusing
    slugs TEXT NOT NULL,              -- JSON list of the suggested slugs, best first
    took_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS suggest_queries_by_created ON suggest_queries (created_at);

CREATE TABLE IF NOT EXISTS suggest_feedback (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    query_id TEXT NOT NULL REFERENCES suggest_queries (id),
    slug TEXT NOT NULL,
    useful INTEGER NOT NULL CHECK (useful IN (0, 1)),
    api_key_id INTEGER REFERENCES api_keys (id),
    UNIQUE (query_id, slug)           -- a later verdict on the same suggestion replaces the first
);
CREATE INDEX IF NOT EXISTS suggest_feedback_by_slug ON suggest_feedback (slug);
