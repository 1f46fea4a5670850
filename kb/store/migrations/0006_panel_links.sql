-- Agent panel links (issue #17): a signed, revocable, read-only token per helpdesk or team.
-- Only the SHA-256 of the token is stored; "public_id" names the link in the panel's URL
-- (it picks the origins allowed to frame the panel, and is no secret).  "origins" is a
-- space-separated list of scheme://host[:port] allowed in Content-Security-Policy frame-ancestors.
CREATE TABLE IF NOT EXISTS panel_links (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,  -- sha256 hex of the whole token
    origins TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at TEXT,
    last_used_at TEXT
);

-- Suggestions shown in the panel and the agents' verdicts on them are kept in the agent API's
-- tables (so the reports count them with the rest), marked with the link they came through.
ALTER TABLE suggest_queries ADD COLUMN panel_link_id INTEGER REFERENCES panel_links (id);
ALTER TABLE suggest_feedback ADD COLUMN panel_link_id INTEGER REFERENCES panel_links (id);
